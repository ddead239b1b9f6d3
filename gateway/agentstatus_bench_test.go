package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// BenchmarkDecodeAgentStatus measures decoding one agentstatus answer as
// the client does and, for comparison, with decodeList (encoding/json)
// alone, on what a simulated gateway answers, with and without its
// quirks (numbers and booleans as strings).
func BenchmarkDecodeAgentStatus(b *testing.B) {
	keep := func(s *AgentStatus) bool { return s.State.Valid() }
	decoders := []struct {
		name   string
		decode func([]byte) error
	}{
		{"client", func(body []byte) error { _, err := DecodeAgentStatus(body); return err }},
		{"general", func(body []byte) error { _, err := decodeList(body, 1, keep); return err }},
	}
	for _, c := range []struct {
		name   string
		quirks simulator.Quirks
	}{{"simulated", simulator.Quirks{}}, {"simulated-quirks", simulator.MixQuirks()}} {
		bodies := simulatedListBodies(b, c.quirks, 100, 2)["agentstatus"]
		for _, d := range decoders {
			b.Run(c.name+"/"+d.name, func(b *testing.B) { benchDecode(b, bodies, d.decode) })
		}
	}
}

// benchDecode decodes the bodies in turn, each once per iteration,
// reporting the mean body's size as the bytes per iteration.
func benchDecode(b *testing.B, bodies [][]byte, decode func([]byte) error) {
	size := 0
	for _, body := range bodies {
		if err := decode(body); err != nil {
			b.Fatalf("%v: %s", err, body)
		}
		size += len(body)
	}
	b.SetBytes(int64(size / len(bodies)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := decode(bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// simulatedListBodies returns what a simulated gateway answers to
// agentstatus for each of its agents, and to agentvdnskill and
// queryacdstat, at `looks` instants 7 s apart.
func simulatedListBodies(tb testing.TB, quirks simulator.Quirks, agents, looks int) map[string][][]byte {
	tb.Helper()
	const seed = 7
	clock := simulator.NewManualClock(time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC))
	sim := simulator.New(simulator.Options{Agents: agents, Seed: seed, Now: clock.Now, Quirks: quirks})
	defer sim.Close()
	ids := sim.AgentIDs()
	ask := func(method, path, id, body string) []byte {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		req.Header.Set("Guid", simulator.Guid(seed, id))
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		return rec.Body.Bytes()
	}
	bodies := map[string][][]byte{}
	for range looks {
		clock.Advance(7 * time.Second)
		for _, id := range ids {
			bodies["agentstatus"] = append(bodies["agentstatus"],
				ask(http.MethodGet, "/agentgateway/resource/onlineagent/"+id+"/agentstatus", id, ""))
		}
		vdn := ask(http.MethodGet, "/agentgateway/resource/queuedevice/"+ids[0]+"/agentvdnskill", ids[0], "")
		bodies["vdnskill"] = append(bodies["vdnskill"], vdn)
		skills, err := DecodeVDNSkills(vdn)
		if err != nil || len(skills.Skills) == 0 {
			tb.Fatalf("no skill queues (%v): %s", err, vdn)
		}
		var ids64 []int64
		for _, s := range skills.Skills {
			ids64 = append(ids64, s.ID.Value())
		}
		bodies["acdstat"] = append(bodies["acdstat"],
			ask(http.MethodPost, "/agentgateway/resource/queuedevice/"+ids[0]+"/queryacdstat", ids[0], string(skillsBody(ids64))))
	}
	return bodies
}

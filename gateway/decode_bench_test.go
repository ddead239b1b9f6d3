package gateway

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// simulatedBodies returns what a simulated gateway answers for each of its
// agents, at `looks` instants 7 s apart, with and without the last call
// (isNoContainLastCall true and false): a realistic mix of calls in every
// phase, previous calls and the "no call" shapes.
func simulatedBodies(tb testing.TB, quirks simulator.Quirks, agents, looks int) [][]byte {
	tb.Helper()
	const seed = 7
	clock := simulator.NewManualClock(time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC))
	sim := simulator.New(simulator.Options{Agents: agents, Seed: seed, Now: clock.Now, Quirks: quirks})
	defer sim.Close()
	var bodies [][]byte
	for range looks {
		clock.Advance(7 * time.Second)
		for _, id := range sim.AgentIDs() {
			for _, includeLast := range []string{"true", "false"} {
				req := httptest.NewRequest(http.MethodGet, "/agentgateway/resource/calldata/"+id+"/callinfo?isNoContainLastCall="+includeLast, nil)
				req.Header.Set("Content-Type", "application/json; charset=UTF-8")
				req.Header.Set("Guid", simulator.Guid(seed, id))
				rec := httptest.NewRecorder()
				sim.ServeHTTP(rec, req)
				bodies = append(bodies, rec.Body.Bytes())
			}
		}
	}
	return bodies
}

// BenchmarkDecodeAnswer measures decoding one queryCallInfo body as the
// client does (fast path, general decoder as the fallback) and, for
// comparison, with the general encoding/json based decoder alone.
func BenchmarkDecodeAnswer(b *testing.B) {
	documented, err := os.ReadFile("testdata/seed-example.json")
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name   string
		bodies func(*testing.B) [][]byte
	}{
		{"documented", func(*testing.B) [][]byte { return [][]byte{documented} }},
		{"no-call", func(*testing.B) [][]byte { return [][]byte{[]byte(`{"message":"","retcode":"0","result":""}`)} }},
		{"simulated", func(b *testing.B) [][]byte { return simulatedBodies(b, simulator.Quirks{}, 100, 1) }},
		{"simulated-quirks", func(b *testing.B) [][]byte { return simulatedBodies(b, simulator.MixQuirks(), 100, 1) }},
	}
	decoders := []struct {
		name   string
		decode func([]byte) (*Answer, error)
	}{
		{"client", DecodeAnswer},
		{"general", decodeGeneral},
	}
	for _, c := range cases {
		bodies := c.bodies(b)
		for _, d := range decoders {
			b.Run(c.name+"/"+d.name, func(b *testing.B) {
				benchDecode(b, bodies, func(body []byte) error { _, err := d.decode(body); return err })
			})
		}
	}
}

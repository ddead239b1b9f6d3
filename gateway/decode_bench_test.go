package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/gateway"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// simulatedBodies returns what a simulated gateway answers for each of its
// agents at one instant: a realistic mix of calls in every phase, previous
// calls and the "no call" shapes.
func simulatedBodies(b *testing.B, quirks simulator.Quirks) [][]byte {
	b.Helper()
	const agents, seed = 200, 7
	clock := simulator.NewManualClock(time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC))
	sim := simulator.New(simulator.Options{Agents: agents, Seed: seed, Now: clock.Now, Quirks: quirks})
	defer sim.Close()
	bodies := make([][]byte, 0, agents)
	for _, id := range sim.AgentIDs() {
		req := httptest.NewRequest(http.MethodGet, "/agentgateway/resource/calldata/"+id+"/callinfo?isNoContainLastCall=true", nil)
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		req.Header.Set("Guid", simulator.Guid(seed, id))
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		bodies = append(bodies, rec.Body.Bytes())
	}
	return bodies
}

// BenchmarkDecodeAnswer measures decoding one queryCallInfo body.
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
		{"simulated", func(b *testing.B) [][]byte { return simulatedBodies(b, simulator.Quirks{}) }},
		{"simulated-quirks", func(b *testing.B) [][]byte { return simulatedBodies(b, simulator.MixQuirks()) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			bodies := c.bodies(b)
			size := 0
			for _, body := range bodies {
				if _, err := gateway.DecodeAnswer(body); err != nil {
					b.Fatalf("%v: %s", err, body)
				}
				size += len(body)
			}
			b.SetBytes(int64(size / len(bodies)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := gateway.DecodeAnswer(bodies[i%len(bodies)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

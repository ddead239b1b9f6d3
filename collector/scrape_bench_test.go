package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/internal/bareclient"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// BenchmarkCollectAgent measures the exporter's own work for one agent in
// one scrape, without the HTTP round trip: decoding the answer (and with
// agent_state the agentstatus answer), recording it in the agent's state
// and writing the agent's series in the text format, as a /metrics scrape
// does.
func BenchmarkCollectAgent(b *testing.B) {
	for _, c := range []struct {
		name   string
		body   string
		status string // the agentstatus answer, with agent_state on
	}{
		{"talking", talkingA.body(), ""},
		{"idle", noCallBody, ""},
		{"previous-call", endedB.body(), ""},
		{"talking-agent_state", talkingA.body(), agentStatusBody},
	} {
		b.Run(c.name, func(b *testing.B) {
			body, status := []byte(c.body), []byte(c.status)
			agentState := c.status != ""
			agent := &agentTarget{id: "1001", state: newAgentState()}
			histograms := newCallHistograms("main", false)
			gw := &gatewayTarget{name: "main", cfg: &config.Gateway{AgentState: agentState}, folds: newLabelFolds()}
			logger := log.NewNopLogger()
			sentAt := testNow
			var (
				line   []byte
				buf    sampleBuf
				series int
			)
			b.ReportAllocs()
			for b.Loop() {
				answer, err := gateway.DecodeAnswer(body)
				if err != nil {
					b.Fatal(err)
				}
				sentAt = sentAt.Add(time.Second)
				obs := &observation{sentAt: sentAt, duration: time.Millisecond, callInfo: answer.Call}
				if agentState {
					statusAnswer, err := gateway.DecodeAgentStatus(status)
					if err != nil || statusAnswer.Status == nil {
						b.Fatal(err)
					}
					obs.gatewayState, _ = statusAnswer.Status.Name()
				}
				agent.state.record(obs, time.Time{}, gw, histograms, agent.id, logger)
				view := agentView{gateway: "main", id: agent.id, obs: obs, state: agent.state, gatewayStates: agentState}
				line, series = line[:0], 0
				for _, f := range agentFamilies {
					buf.reset(&view)
					f.samples(&view, testNow, &buf)
					for k := range buf.samples {
						line = appendSample(line, f.family, &buf.samples[k])
						series++
					}
				}
			}
			b.ReportMetric(float64(series), "series")
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// does not measure buffering a large response.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

const benchAgents, benchConcurrency = 1000, 64

func startBenchSimulator(b *testing.B) *simulator.Server {
	b.Helper()
	sim, err := simulator.Start("127.0.0.1:0", simulator.Options{Agents: benchAgents, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Close)
	return sim
}

// BenchmarkScrape1000 is one full /metrics scrape of 1,000 agents of a
// simulated gateway over loopback HTTP, and, as the floor, the same 1,000
// GETs and JSON decodes by a bare client. The simulator runs in the same
// process, so both include its cost; the difference is the exporter's.
func BenchmarkScrape1000(b *testing.B) {
	for _, gzipped := range []bool{false, true} {
		name := "exporter"
		if gzipped {
			name = "exporter-gzip"
		}
		b.Run(name, func(b *testing.B) {
			sim := startBenchSimulator(b)
			yaml := strings.Replace(string(sim.ConfigYAML(true)), "concurrency: 16", fmt.Sprintf("concurrency: %d", benchConcurrency), 1)
			cfg, err := config.Load([]byte(yaml), "agents.yml")
			if err != nil {
				b.Fatal(err)
			}
			e := New(Options{})
			if err := e.ApplyConfig(cfg); err != nil {
				b.Fatal(err)
			}
			handler := e.MetricsHandler(HandlerOptions{Gatherer: prometheus.NewRegistry(), DefaultTimeout: time.Minute})
			scrape := func() {
				w := &discardWriter{header: http.Header{}}
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				if gzipped {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				handler.ServeHTTP(w, req)
				if w.status != 0 && w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			}
			benchRounds(b, benchAgents, "agent", scrape) // the first scrape opens connections, agent state and histograms
		})
	}
	b.Run("bare-client", func(b *testing.B) {
		sim := startBenchSimulator(b)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchConcurrency, DisableCompression: true}}
		defer client.CloseIdleConnections()
		ids := sim.AgentIDs()
		round := func() {
			next := make(chan string)
			var wg sync.WaitGroup
			for range benchConcurrency {
				wg.Go(func() {
					for id := range next {
						if err := bareclient.Query(context.Background(), client, bareclient.URL(sim.URL(), id), sim.Guid(id)); err != nil {
							b.Error(err)
						}
					}
				})
			}
			for _, id := range ids {
				next <- id
			}
			close(next)
			wg.Wait()
		}
		benchRounds(b, benchAgents, "agent", round)
	})
}

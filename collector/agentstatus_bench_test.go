package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentgateway/agentgateway_exporter/internal/bareclient"
)

// agentStatusBody is an agentstatus answer as the simulator writes it.
const agentStatusBody = `{"message":"","retcode":"0","result":{"agentState":7,"isWorking":true}}`

// BenchmarkAgentQueries compares, per request to the gateway, a scrape
// with agent_state off and on against the bare client doing the same
// requests, as the load command does: the scrape asks for gzip and the
// exporter's part runs with GOGC=30. The gateway is a server with fixed
// answers, so that its own work is small and the same for everyone;
// cpu-ns/query is the whole process's CPU (that server included) per
// request.
func BenchmarkAgentQueries(b *testing.B) {
	const agents, concurrency = 200, 8
	callBody := talkingA.body()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		if strings.HasSuffix(r.URL.Path, "/agentstatus") {
			_, _ = w.Write([]byte(agentStatusBody))
			return
		}
		_, _ = w.Write([]byte(callBody))
	}))
	b.Cleanup(server.Close)
	ids := agentIDsFrom(1001, agents)
	for _, agentState := range []bool{false, true} {
		perAgent := 1
		if agentState {
			perAgent = 2
		}
		b.Run(fmt.Sprintf("exporter/agent_state=%t", agentState), func(b *testing.B) {
			var yaml strings.Builder
			fmt.Fprintf(&yaml, "gateways:\n  - name: main\n    url: %s\n    timeout: 5s\n    concurrency: %d\n    agent_state: %t\n    agents:\n",
				server.URL, concurrency, agentState)
			for _, id := range ids {
				fmt.Fprintf(&yaml, "      - id: %q\n        guid: %q\n", id, testGUID(id))
			}
			e := newTestExporter(b, yaml.String(), nil)
			handler := e.MetricsHandler(HandlerOptions{Gatherer: prometheus.NewRegistry(), DefaultTimeout: time.Minute})
			defer debug.SetGCPercent(debug.SetGCPercent(30))
			benchRounds(b, agents*perAgent, "query", func() {
				w := &discardWriter{header: http.Header{}}
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				req.Header.Set("Accept-Encoding", "gzip")
				handler.ServeHTTP(w, req)
				if w.status != 0 && w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			})
		})
		b.Run(fmt.Sprintf("bare-client/agent_state=%t", agentState), func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, DisableCompression: true}}
			b.Cleanup(client.CloseIdleConnections)
			ctx := context.Background()
			benchRounds(b, agents*perAgent, "query", func() {
				next := make(chan string)
				var wg sync.WaitGroup
				for range concurrency {
					wg.Go(func() {
						for id := range next {
							err := bareclient.Query(ctx, client, bareclient.URL(server.URL, id), testGUID(id))
							if err == nil && agentState {
								err = bareclient.QueryAgentStatus(ctx, client, bareclient.AgentStatusURL(server.URL, id), testGUID(id))
							}
							if err != nil {
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
			})
		})
	}
}

// benchRounds runs round once to open connections and then as often as
// the benchmark asks, reporting wall and CPU time per unit (a round has
// units of them). CPU time is the whole process's, the gateway's included,
// and is steadier than wall time on a busy machine.
func benchRounds(b *testing.B, units int, unit string, round func()) {
	b.Helper()
	round()
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		round()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*units), "ns/"+unit)
	b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N*units), "cpu-ns/"+unit)
}

func agentIDsFrom(first, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint(first + i)
	}
	return ids
}

package collector

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// BenchmarkHeap10000 scrapes a simulated gateway of 10,000 agents and
// reports the live heap after the scrapes, the figure behind the load
// command's peak RSS. Run it with -memprofile to see where the heap goes.
func BenchmarkHeap10000(b *testing.B) {
	const agents = 10000
	sim, err := simulator.Start("127.0.0.1:0", simulator.Options{Agents: agents, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Close)
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
	b.ReportAllocs()
	for b.Loop() {
		w := &heapWriter{discardWriter: discardWriter{header: http.Header{}}, b: b}
		handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if w.status != 0 && w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	runtime.KeepAlive(e)
}

// heapWriter measures the live heap when the answer starts being written:
// every agent has been queried and its answer is held, the scrape's peak.
type heapWriter struct {
	discardWriter
	b       *testing.B
	written bool
}

func (w *heapWriter) Write(p []byte) (int, error) {
	if !w.written {
		w.written = true
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-heap-MiB")
		if path := os.Getenv("HEAP_PROFILE"); path != "" {
			f, err := os.Create(path)
			if err != nil {
				w.b.Fatal(err)
			}
			defer f.Close()
			if err := pprof.WriteHeapProfile(f); err != nil {
				w.b.Fatal(err)
			}
		}
	}
	return len(p), nil
}

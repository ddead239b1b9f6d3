package main

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the command when the load test
// re-runs itself as the bare client.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == bareClientArg {
		os.Exit(bareClientMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

func TestAnswerParsing(t *testing.T) {
	text := []byte(`# HELP agentgateway_agent_up x
# TYPE agentgateway_agent_up gauge
agentgateway_agent_up{agent_id="1001",gateway="main"} 1
agentgateway_agent_up{agent_id="1002",gateway="main"} 0
agentgateway_agent_up{agent_id="1003",gateway="main"} 1
agentgateway_gateway_scrape_duration_seconds{gateway="main"} 0.25
go_goroutines 42
go_memstats_heap_inuse_bytes 1.5e+07
`)
	if got := countAgentsUp(text); got != 2 {
		t.Errorf("agents up %d, want 2", got)
	}
	if got := sumSamples(text, "agentgateway_agent_up{"); got != 2 {
		t.Errorf("sum of agent_up %v, want 2", got)
	}
	if got := countSamples(text); got != 6 {
		t.Errorf("samples %d, want 6", got)
	}
	values := sampleValues(text, "go_goroutines", "go_memstats_heap_inuse_bytes", `agentgateway_gateway_scrape_duration_seconds{gateway="main"}`, "absent")
	want := map[string]float64{"go_goroutines": 42, "go_memstats_heap_inuse_bytes": 1.5e7, `agentgateway_gateway_scrape_duration_seconds{gateway="main"}`: 0.25}
	for name, v := range want {
		if values[name] != v {
			t.Errorf("%s = %v, want %v", name, values[name], v)
		}
	}
	if _, ok := values["absent"]; ok {
		t.Error("a missing sample has a value")
	}
}

func TestProcessReaders(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	cpu, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	self, err := selfCPU()
	if err != nil {
		t.Fatal(err)
	}
	// /proc counts in 10 ms ticks; getrusage in microseconds.
	if cpu > self+20*time.Millisecond || cpu < self-time.Second {
		t.Errorf("/proc says %v of CPU, getrusage %v", cpu, self)
	}
	rss, peak, err := processMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss <= 0 || peak < rss {
		t.Errorf("RSS %d, peak %d", rss, peak)
	}
}

// TestLoadTestRuns runs the whole load command once at a tiny size, to
// keep it working. It checks that the run completes, not its targets:
// those depend on the machine and belong to real runs.
func TestLoadTestRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the exporter")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command to build the exporter")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, o := range []options{
		{agents: 20, scrapes: 3, concurrency: 4, latency: time.Millisecond, gzip: true},
		{agents: 20, scrapes: 3, concurrency: 4, latency: time.Millisecond, gzip: true, tls: true, gogc: 30, memoryLimit: "64MiB"},
		{agents: 20, scrapes: 3, concurrency: 4, latency: time.Millisecond, gzip: true, queues: true},
	} {
		if _, err := loadTest(ctx, o); err != nil {
			t.Fatalf("TLS %v, queues %v: %v", o.tls, o.queues, err)
		}
	}
}

func TestExporterMemoryLimit(t *testing.T) {
	for _, tt := range []struct{ flag, want string }{
		{"off", ""},
		{"24MiB", "24MiB"},
		{"25165824", "25165824"},
		{"24 MiB", "?"},
		{"0", "?"},
		{"-1", "?"},
		{"24MB", "?"},
	} {
		if got := exporterMemoryLimit(tt.flag); got != tt.want {
			t.Errorf("--memory-limit=%s: %q, want %q", tt.flag, got, tt.want)
		}
	}
}

// TestRequestsPerScrape checks the request count and the ideal wall time
// the targets are built on.
func TestRequestsPerScrape(t *testing.T) {
	for _, tt := range []struct {
		name     string
		o        options
		requests int
		round    time.Duration
	}{
		{"callinfo only", options{agents: 1000, concurrency: 64, latency: 20 * time.Millisecond}, 1000, 16 * 20 * time.Millisecond},
		// 2 × 1000 + 1 queryacdstat = 2001 requests: 32 waves of 64.
		{"queues, four skills", options{agents: 1000, concurrency: 64, latency: 20 * time.Millisecond, queues: true, skills: 4}, 2001, 32 * 20 * time.Millisecond},
		{"queues, 250 skills", options{agents: 10, concurrency: 4, latency: time.Millisecond, queues: true, skills: 250}, 23, 6 * time.Millisecond},
		// Fewer requests than the concurrency: an agent's two requests still follow each other.
		{"queues, few agents", options{agents: 3, concurrency: 64, latency: 10 * time.Millisecond, queues: true, skills: 4}, 7, 20 * time.Millisecond},
		{"skills without queues", options{agents: 3, concurrency: 64, latency: 10 * time.Millisecond, skills: 4}, 3, 10 * time.Millisecond},
	} {
		if got := requestsPerScrape(tt.o); got != tt.requests {
			t.Errorf("%s: %d requests per scrape, want %d", tt.name, got, tt.requests)
		}
		if got := expectedRound(tt.o); got != tt.round {
			t.Errorf("%s: ideal round %s, want %s", tt.name, got, tt.round)
		}
	}
}

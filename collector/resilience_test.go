package collector_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/internal/syncbuf"

	gokitlog "github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentgateway/agentgateway_exporter/collector"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// Promises about restarts, Guid changes, load and the per-gateway limits,
// each checked at the (simulated) gateway as well as in the output.

func metricsHandler(e *collector.Exporter, offset time.Duration) http.Handler {
	return e.MetricsHandler(collector.HandlerOptions{Gatherer: prometheus.NewRegistry(), TimeoutOffset: offset, DefaultTimeout: 10 * time.Second})
}

// TestGatewayRestartAndFlapping: the gateway goes away, comes back on the
// same address without memory, flaps, and drops every connection. Each time
// it is back the very next scrape recovers; error counters grow by exactly
// one per failed query and no counter ever goes backwards or counts a call
// twice.
func TestGatewayRestartAndFlapping(t *testing.T) {
	ids := agentIDs(1001, 2)
	opts := simulator.Options{Agents: 2, FirstAgentID: 1001, Seed: simSeed, LastCallKeys: simulator.LastCallKeysPresent}
	sim, server := startSimulator(t, 1001, false, opts)
	addr := server.Listener.Addr().String()
	e := newExporter(t, "gateways:\n"+gatewayYAML("gw", server.URL, ids, "timeout: 1s", "concurrency: 2"), gokitlog.NewNopLogger())
	handler := metricsHandler(e, 0)

	var previous map[string]float64
	look := func(step string, wantUp float64) scrapeResult {
		t.Helper()
		r := scrape(t, handler, "")
		counters := r.counters()
		for series, before := range previous {
			if now, ok := counters[series]; !ok || now < before {
				t.Errorf("%s: %s went from %v to %v (present %v)", step, series, before, now, ok)
			}
		}
		previous = counters
		for _, id := range ids {
			if up, _ := r.value("agentgateway_agent_up", "agent_id", id); up != wantUp {
				t.Errorf("%s: agent %s up = %v, want %v", step, id, up, wantUp)
			}
		}
		return r
	}
	// restart brings a fresh gateway up on the old address, reporting the
	// call as the agent's previous call, ended with leave reason 16.
	call := simulator.Call{ID: "1700000000-42", Skill: "voice", MediaType: 5}
	restart := func() {
		t.Helper()
		sim = simulator.New(opts)
		t.Cleanup(sim.Close)
		ended := call
		ended.Phase, ended.LeaveReason = simulator.PhaseIdle, 16
		sim.SetCall("1001", ended)
		server = startServer(t, sim, false, addr)
	}
	stop := func() {
		sim.Close()
		server.Close()
	}
	transportErrors := func(r scrapeResult, id string) float64 {
		v, _ := r.value("agentgateway_agent_query_errors_total", "agent_id", id, "reason", "transport")
		return v
	}

	talking := call
	talking.Phase = simulator.PhaseTalking
	sim.SetCall("1001", talking)
	look("first look, call in progress", 1)

	stop()
	look("gateway down", 0)
	r := look("gateway still down", 0)
	for _, id := range ids {
		if got := transportErrors(r, id); got != 2 {
			t.Errorf("agent %s: %v transport errors after two failed scrapes, want 2", id, got)
		}
	}

	restart()
	r = look("gateway back", 1)
	expectValue(t, r, 1, "agentgateway_call_leave_reason_total", "agent_id", "1001", "reason", "16")

	for range 2 {
		stop()
		look("flap: down", 0)
		restart()
		look("flap: up", 1)
	}
	// A gateway crash drops the pooled keep-alive connections without a word.
	server.CloseClientConnections()
	r = look("connections dropped", 1)

	for _, id := range ids {
		if got := transportErrors(r, id); got != 4 {
			t.Errorf("agent %s: %v transport errors after four failed scrapes, want 4", id, got)
		}
	}
	expectValue(t, r, 1, "agentgateway_call_leave_reason_total", "agent_id", "1001", "reason", "16")
	if n := len(r.counted("agentgateway_call_leave_reason_total")); n != 1 {
		t.Errorf("%d leave-reason series after restarts, want only agent 1001's reason 16:\n%s", n, r.body)
	}
}

// TestGuidRotationAndSignOut: a Guid replaced at the gateway is reported as
// 000-003 until the guid_file holds the new one, which the next scrape
// uses; a signed-out agent reports 100-006. Each change of state is logged
// once, however many scrapes see it.
func TestGuidRotationAndSignOut(t *testing.T) {
	sim, server := startSimulator(t, 1001, false, simulator.Options{Agents: 2})
	sim.ClearCalls("1001")
	sim.ClearCalls("1002")
	guidFile := filepath.Join(t.TempDir(), "1001.guid")
	if err := os.WriteFile(guidFile, []byte(sim.Guid("1001")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := "gateways:\n  - name: gw\n    url: " + server.URL + "\n    agents:\n" +
		"      - id: \"1001\"\n        guid_file: " + guidFile + "\n" +
		"      - id: \"1002\"\n        guid: " + sim.Guid("1002") + "\n"
	logs := &syncbuf.Buffer{}
	e := newExporter(t, yaml, debugLogger(logs))
	handler := metricsHandler(e, 0)
	expectState := func(r scrapeResult, state, retcode string) {
		t.Helper()
		expectValue(t, r, 1, "agentgateway_agent_state", "agent_id", "1001", "state", state)
		expectValue(t, r, 1, "agentgateway_agent_up", "agent_id", "1002")
		if retcode != "" {
			expectValue(t, r, 1, "agentgateway_agent_query_failed", "agent_id", "1001", "reason", "retcode", "retcode", retcode)
		}
	}
	failing := func(retcode string) int {
		return countLines(logs.String(), `msg="agent query failing"`, "agent_id=1001", "retcode="+retcode)
	}
	recovered := func() int { return countLines(logs.String(), `msg="agent query recovered"`, "agent_id=1001") }

	expectState(scrape(t, handler, ""), "idle", "")
	written, err := os.Stat(guidFile)
	if err != nil {
		t.Fatal(err)
	}

	rotated := sim.RotateGuid("1001")
	for range 3 {
		expectState(scrape(t, handler, ""), "signed_out", "000-003")
	}
	if n := failing("000-003"); n != 1 {
		t.Errorf("stale Guid logged %d times over 3 scrapes, want once:\n%s", n, logs.String())
	}

	// The session owner writes the new Guid. A Guid always has the same
	// length, and on a file system with coarse timestamps (or within one
	// tick) the rewrite keeps the modification time too.
	if err := os.WriteFile(guidFile, []byte(rotated+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(guidFile, written.ModTime(), written.ModTime()); err != nil {
		t.Fatal(err)
	}
	expectState(scrape(t, handler, ""), "idle", "")
	if n := recovered(); n != 1 {
		t.Errorf("recovery after the Guid rotation logged %d times, want once", n)
	}

	sim.SignOut("1001")
	for range 3 {
		expectState(scrape(t, handler, ""), "signed_out", "100-006")
	}
	if n := failing("100-006"); n != 1 {
		t.Errorf("sign-out logged %d times over 3 scrapes, want once", n)
	}
	sim.SignIn("1001")
	r := scrape(t, handler, "")
	expectState(r, "idle", "")
	if n := recovered(); n != 2 {
		t.Errorf("recoveries logged %d times, want twice", n)
	}
	expectValue(t, r, 3, "agentgateway_agent_query_errors_total", "agent_id", "1001", "retcode", "000-003")
	expectValue(t, r, 3, "agentgateway_agent_query_errors_total", "agent_id", "1001", "retcode", "100-006")
	assertNoSecrets(t, logs.String()+r.body, sim.Guid("1001"), sim.Guid("1002"))
}

// TestConcurrentScrapesUnderLoad: two Prometheus replicas and a person with
// curl scrape without pause while calls start and end. The gateway never
// sees more than `concurrency` requests at once, and every ended call is
// counted exactly once with its reason.
func TestConcurrentScrapesUnderLoad(t *testing.T) {
	const (
		agents      = 12
		concurrency = 3
		scrapers    = 3
	)
	reasons := []int{15, 16, 17, 50}
	ids := agentIDs(1001, agents)
	sim, server := startSimulator(t, 1001, false, simulator.Options{
		Agents: agents, Latency: 2 * time.Millisecond, LastCallKeys: simulator.LastCallKeysPresent,
	})
	for _, id := range ids {
		sim.ClearCalls(id)
	}
	e := newExporter(t, "gateways:\n"+gatewayYAML("gw", server.URL, ids, "timeout: 5s", fmt.Sprintf("concurrency: %d", concurrency)), gokitlog.NewNopLogger())
	handler := metricsHandler(e, 0)

	stop := make(chan struct{})
	var background atomic.Int64
	var wg sync.WaitGroup
	for range scrapers {
		wg.Go(func() {
			for range 1000 { // bounded, whatever happens to stop
				select {
				case <-stop:
					return
				default:
				}
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
				if rec.Code != http.StatusOK {
					t.Errorf("background scrape: status %d", rec.Code)
					return
				}
				background.Add(1)
			}
		})
	}
	stopped := false
	stopBackground := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	defer stopBackground()

	// The driver scrapes after every change, so each state is seen at least
	// once whatever the background scrapes do.
	scrape(t, handler, "")
	for round, reason := range reasons {
		for i, id := range ids {
			sim.SetCall(id, simulator.Call{Phase: simulator.PhaseTalking, ID: fmt.Sprintf("17000000%02d-%d", round, i)})
		}
		scrape(t, handler, "")
		for _, id := range ids {
			sim.EndCall(id, reason)
		}
		scrape(t, handler, "")
	}
	stopBackground()
	final := scrape(t, handler, "")

	if background.Load() < scrapers {
		t.Fatalf("only %d background scrapes ran: no load", background.Load())
	}
	if got := sim.Stats().MaxInFlight; got > concurrency || got < 1 {
		t.Errorf("gateway saw up to %d requests at once, want 1..%d", got, concurrency)
	}
	for _, id := range ids {
		for _, reason := range reasons {
			expectValue(t, final, 1, "agentgateway_call_leave_reason_total", "agent_id", id, "reason", strconv.Itoa(reason))
		}
		if n := len(final.counted("agentgateway_call_leave_reason_total", "agent_id", id)); n != len(reasons) {
			t.Errorf("agent %s has %d leave-reason series, want %d", id, n, len(reasons))
		}
		if n := len(final.matching("agentgateway_agent_query_errors_total", "agent_id", id)); n != 0 {
			t.Errorf("agent %s has failed queries under load", id)
		}
	}
	expectValue(t, final, float64(agents*len(reasons)), "agentgateway_call_talk_duration_seconds")
	t.Logf("%d background scrapes, %d requests at the gateway", background.Load(), sim.Stats().Requests)
}

// TestMaxRequestsPerSecond: with max_requests_per_second the gateway sees a
// token bucket's traffic (a burst of the rate, then the rate), measured at
// the gateway; queries the limit would push past the scrape's deadline fail
// as timeouts without reaching the gateway, and the scrape answers in time.
func TestMaxRequestsPerSecond(t *testing.T) {
	const (
		agents = 20
		rate   = 10 // requests per second, and the burst
	)
	ids := agentIDs(1001, agents)
	sim := simulator.New(simulator.Options{Agents: agents, FirstAgentID: 1001, Seed: simSeed})
	t.Cleanup(sim.Close)
	var mu sync.Mutex
	var arrivals []time.Time
	server := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		sim.ServeHTTP(w, r)
	}), false, "")
	e := newExporter(t, "gateways:\n"+gatewayYAML("gw", server.URL, ids, "timeout: 5s", "concurrency: 20",
		fmt.Sprintf("max_requests_per_second: %d", rate)), gokitlog.NewNopLogger())
	handler := metricsHandler(e, 0)

	first := scrape(t, handler, "8")
	for _, id := range ids {
		expectValue(t, first, 1, "agentgateway_agent_up", "agent_id", id)
	}
	second := scrape(t, handler, "1")
	if second.elapsed > 3*time.Second {
		t.Errorf("scrape with a 1 s budget took %v", second.elapsed)
	}

	mu.Lock()
	defer mu.Unlock()
	// Any n consecutive requests need (n - burst) / rate seconds. Requests
	// are timed where they arrive, after a trip that a loaded machine may
	// delay for one and not the next, so 3 requests (300 ms) of slack: the
	// whole second scrape's 20 at once would still be far over.
	for i := range arrivals {
		for j := i; j < len(arrivals); j++ {
			n := float64(j - i + 1)
			if allowed := rate + rate*arrivals[j].Sub(arrivals[i]).Seconds() + 3; n > allowed {
				t.Fatalf("%v requests within %v: more than the limit of %d/s allows", n, arrivals[j].Sub(arrivals[i]), rate)
			}
		}
	}
	sent := len(arrivals) - agents
	timedOut := len(second.matching("agentgateway_agent_query_failed", "reason", "timeout"))
	up := 0
	for _, m := range second.matching("agentgateway_agent_up") {
		if m.GetGauge().GetValue() == 1 {
			up++
		}
	}
	if up+timedOut != agents || up > sent || sent >= agents || timedOut == 0 {
		t.Errorf("short scrape: %d queries sent, %d agents up, %d timed out; want every agent up or timed out, and some held back",
			sent, up, timedOut)
	}
}

// TestMinIntervalSharesOneQueryBetweenHAPair: with min_interval, two
// Prometheus replicas scraping at once (and a person with curl right after)
// cause one query per agent; once the interval has passed on the
// exporter's clock, the next scrape queries again.
func TestMinIntervalSharesOneQueryBetweenHAPair(t *testing.T) {
	const agents = 8
	ids := agentIDs(1001, agents)
	sim, server := startSimulator(t, 1001, false, simulator.Options{Agents: agents, Latency: 50 * time.Millisecond})
	clock := simulator.NewManualClock(time.Unix(1_700_000_000, 0))
	e := collector.New(collector.Options{Logger: gokitlog.NewNopLogger(), Now: clock.Now})
	apply(t, e, "gateways:\n"+gatewayYAML("gw", server.URL, ids, "concurrency: 4", "min_interval: 15s"))
	handler := metricsHandler(e, 0)
	queriesPerAgent := func(want int64) {
		t.Helper()
		for id, n := range sim.Stats().RequestsByAgent {
			if n != want {
				t.Errorf("agent %s queried %d times, want %d", id, n, want)
			}
		}
	}

	bodies := make([]string, 2)
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			bodies[i] = rec.Body.String()
		})
	}
	wg.Wait()
	for i, body := range bodies {
		for _, id := range ids {
			if !strings.Contains(body, `agentgateway_agent_up{agent_id="`+id+`",gateway="gw"} 1`) {
				t.Errorf("replica %d: agent %s not up", i, id)
			}
		}
	}
	queriesPerAgent(1)
	r := scrape(t, handler, "")
	expectValue(t, r, 1, "agentgateway_agent_up", "agent_id", "1001")
	queriesPerAgent(1)

	clock.Advance(14 * time.Second)
	scrape(t, handler, "")
	queriesPerAgent(1)
	clock.Advance(time.Second)
	scrape(t, handler, "")
	queriesPerAgent(2)
}

// TestScrapeTimeoutHeaderJunk: a timeout header that is not a usable
// number of seconds falls back to the default budget, and a scrape of a
// hanging gateway still ends on time.
func TestScrapeTimeoutHeaderJunk(t *testing.T) {
	sim, server := startSimulator(t, 1001, false, simulator.Options{Agents: 1})
	e := newExporter(t, "gateways:\n"+gatewayYAML("gw", server.URL, []string{"1001"}, "timeout: 10s"), gokitlog.NewNopLogger())
	handler := e.MetricsHandler(collector.HandlerOptions{TimeoutOffset: 500 * time.Millisecond, DefaultTimeout: 1500 * time.Millisecond})
	for _, header := range []string{"1e300", "+Inf", "-Inf", "NaN", "-3", "0", "9e18", "0x1p80", "10s", strings.Repeat("9", 400)} {
		r := scrape(t, handler, header)
		if budget, ok := r.value("agentgateway_scrape_deadline_seconds"); !ok || budget > 1 || budget <= 0 {
			t.Errorf("header %q: scrape budget %v s, want the default 1 s", header, budget)
		}
	}
	sim.SetFault("1001", simulator.Fault{Kind: simulator.FaultHang})
	r := scrape(t, handler, "1e300")
	if r.elapsed > 5*time.Second {
		t.Errorf("scrape of a hanging gateway with header 1e300 took %v", r.elapsed)
	}
	expectValue(t, r, 1, "agentgateway_agent_query_failed", "agent_id", "1001", "reason", "timeout")
}

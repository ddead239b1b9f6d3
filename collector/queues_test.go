package collector

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/common/expfmt"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
	"github.com/agentgateway/agentgateway_exporter/internal/guids"
)

const queueSeed = 7

// queueGateway is the simulator behind a wrapper that counts the queue
// requests by interface and agent and can make queryacdstat or discovery
// fail.
type queueGateway struct {
	sim    *simulator.Simulator
	clock  *simulator.ManualClock
	server *httptest.Server

	mu          sync.Mutex
	requests    map[string]int // by "interface agent"
	failACD     int            // HTTP status to answer queryacdstat with; 0 = the simulator's
	failVDN     int
	ids         []string
	withoutGUID map[string]bool // agents left without a Guid
}

func newQueueGateway(t *testing.T, agents int) *queueGateway {
	t.Helper()
	clock := simulator.NewManualClock(time.Unix(1_700_000_000, 0))
	g := &queueGateway{clock: clock, requests: map[string]int{}, withoutGUID: map[string]bool{}}
	g.sim = simulator.New(simulator.Options{Agents: agents, FirstAgentID: 101, Seed: queueSeed, Now: clock.Now})
	for i := range agents {
		g.ids = append(g.ids, strconv.Itoa(101+i))
	}
	g.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(r.URL.Path, "/")
		iface, agent := parts[len(parts)-1], parts[len(parts)-2]
		g.mu.Lock()
		g.requests[iface+" "+agent]++
		status := map[string]int{"queryacdstat": g.failACD, "agentvdnskill": g.failVDN}[iface]
		g.mu.Unlock()
		if status != 0 {
			http.Error(w, "failing on purpose", status)
			return
		}
		g.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(g.sim.Close)
	t.Cleanup(g.server.Close)
	return g
}

func (g *queueGateway) count(iface string) (n int, agents map[string]int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	agents = map[string]int{}
	for key, c := range g.requests {
		if i, agent, _ := strings.Cut(key, " "); i == iface {
			n += c
			agents[agent] += c
		}
	}
	return n, agents
}

func (g *queueGateway) yaml(settings ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "gateways:\n  - name: sim\n    url: %s\n    timeout: 2s\n    concurrency: 2\n", g.server.URL)
	for _, s := range settings {
		fmt.Fprintf(&b, "    %s\n", s)
	}
	b.WriteString("    agents:\n")
	for _, id := range g.ids {
		fmt.Fprintf(&b, "      - id: %q\n        guid: %q\n", id, simulator.Guid(queueSeed, id))
	}
	return b.String()
}

func (g *queueGateway) exporter(t *testing.T, settings ...string) *Exporter {
	t.Helper()
	cfg, err := config.Load([]byte(g.yaml(settings...)), "agents.yml")
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{Logger: log.NewNopLogger(), Now: g.clock.Now})
	if err := e.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
	// Agents to be left without a Guid lose the one agents.yml gave.
	for _, a := range e.gateways[0].agents {
		if g.withoutGUID[a.id] {
			a.cell.Withdraw(guids.SourceInline)
		}
	}
	return e
}

func TestQueueGaugesMatchTheGateway(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings []string
		skills   []int64
		named    bool // the skill label comes from discovery
	}{
		{"discovered", []string{"queues: {}"}, []int64{20011, 20012, 20013, 20014}, true},
		{"configured", []string{"queues: {skills: [20012, 20014, 99999]}"}, []int64{20012, 20014, 99999}, false},
		{"configured agent", []string{"queues: {agent: \"103\", skills: [20011]}"}, []int64{20011}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newQueueGateway(t, 12)
			e := g.exporter(t, tc.settings...)
			for step := range 5 {
				g.clock.Advance(47 * time.Second)
				families := gatherScrape(t, e)
				want := map[int64]simulator.QueueStat{}
				for _, q := range g.sim.QueueStats() {
					want[int64(q.SkillID)] = q
				}
				for _, id := range tc.skills {
					labels := map[string]string{"gateway": "sim", "skill_id": strconv.FormatInt(id, 10)}
					q, exists := want[id]
					if exists {
						labels["skill"] = q.Name
					}
					if got := seriesValueIn(families, "agentgateway_queue_up", labels); got != boolValue(exists) {
						t.Fatalf("step %d, skill %d: queue_up %v, want %v", step, id, got, boolValue(exists))
					}
					for metric, value := range map[string]float64{
						"agentgateway_queue_calls_waiting":        float64(q.CallsWaiting),
						"agentgateway_queue_longest_wait_seconds": q.LongestWait.Seconds(),
						"agentgateway_queue_agents_signed_in":     float64(q.AgentsSignedIn),
						"agentgateway_queue_agents_available":     float64(q.AgentsAvailable),
					} {
						if !exists {
							value = -1 // absent
						}
						if got := seriesValueIn(families, metric, labels); got != value {
							t.Errorf("step %d, skill %d: %s = %v, want %v", step, id, metric, got, value)
						}
					}
				}
			}
			if n, by := g.count("queryacdstat"); n != 5 || tc.name == "configured agent" && by["103"] != 5 {
				t.Errorf("%d statistics requests by agent %v, want one per scrape", n, by)
			}
		})
	}
}

func TestFailingQueueBatch(t *testing.T) {
	g := newQueueGateway(t, 4)
	e := g.exporter(t, "queues: {skills: [20011, 20013]}")
	g.mu.Lock()
	g.failACD = http.StatusBadGateway
	g.mu.Unlock()
	for scrape := 1; scrape <= 2; scrape++ {
		families := gatherScrape(t, e)
		for _, id := range []string{"20011", "20013"} {
			labels := map[string]string{"skill_id": id}
			if got := seriesValueIn(families, "agentgateway_queue_up", labels); got != 0 {
				t.Errorf("skill %s: queue_up %v, want 0", id, got)
			}
			for _, metric := range []string{"agentgateway_queue_calls_waiting", "agentgateway_queue_longest_wait_seconds",
				"agentgateway_queue_agents_signed_in", "agentgateway_queue_agents_available"} {
				if got := seriesValueIn(families, metric, labels); got != -1 {
					t.Errorf("skill %s: %s = %v after a failed request, want absent", id, metric, got)
				}
			}
		}
		if got := seriesValueIn(families, "agentgateway_queue_query_errors_total", map[string]string{"reason": "http", "retcode": ""}); got != float64(scrape) {
			t.Errorf("scrape %d: %v http errors counted, want one per request", scrape, got)
		}
	}
	// Recovered: the gauges come back, nothing of the failure is carried.
	g.mu.Lock()
	g.failACD = 0
	g.mu.Unlock()
	if got := seriesValue(t, e, "agentgateway_queue_up", map[string]string{"skill_id": "20013"}); got != 1 {
		t.Errorf("queue_up %v after recovery, want 1", got)
	}
}

func TestQueueDiscoveryInterval(t *testing.T) {
	g := newQueueGateway(t, 3)
	e := g.exporter(t, "queues: {discovery_interval: 5m}")
	steps := []struct {
		advance     time.Duration
		failVDN     bool
		discoveries int
	}{
		// Until a first list is known, every scrape tries.
		{0, true, 1},
		{time.Second, true, 2},
		{time.Second, false, 3},
		{time.Minute, false, 3},
		{3*time.Minute + 59*time.Second, false, 3},
		{time.Second, false, 4}, // 5m after the first good one
		{5 * time.Minute, true, 5},
		{time.Minute, false, 5}, // a failed discovery is retried at the interval too
		{4 * time.Minute, false, 6},
	}
	for i, step := range steps {
		g.clock.Advance(step.advance)
		g.mu.Lock()
		g.failVDN = 0
		if step.failVDN {
			g.failVDN = http.StatusServiceUnavailable
		}
		g.mu.Unlock()
		families := gatherScrape(t, e)
		if n, _ := g.count("agentvdnskill"); n != step.discoveries {
			t.Fatalf("step %d: %d discoveries, want %d", i, n, step.discoveries)
		}
		// The last good list is kept through a failed discovery; before
		// the first, no queue is known.
		want := 1.0
		if i < 2 {
			want = -1
		}
		for _, id := range []string{"20011", "20012", "20013", "20014"} {
			if got := seriesValueIn(families, "agentgateway_queue_up", map[string]string{"skill_id": id}); got != want {
				t.Errorf("step %d: skill %s queue_up %v, want %v", i, id, got, want)
			}
		}
	}
}

func TestQueueAgentNeedsUsableGuid(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setting  string
		noGUID   []string
		wantFrom string // "" = no statistics request at all
	}{
		{"first agents without Guid", "queues: {skills: [20011]}", []string{"101", "102"}, "103"},
		{"configured agent without Guid", `queues: {agent: "102", skills: [20011]}`, []string{"102"}, ""},
		{"no agent has a Guid", "queues: {skills: [20011]}", []string{"101", "102", "103"}, ""},
		{"no agent has a Guid to discover with", "queues: {}", []string{"101", "102", "103"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newQueueGateway(t, 3)
			for _, id := range tc.noGUID {
				g.withoutGUID[id] = true
			}
			e := g.exporter(t, tc.setting)
			families := gatherScrape(t, e)
			_ = gatherScrape(t, e)
			n, by := g.count("queryacdstat")
			if tc.wantFrom == "" {
				if discoveries, _ := g.count("agentvdnskill"); n != 0 || discoveries != 0 {
					t.Fatalf("statistics asked by %v and %d discoveries, want none", by, discoveries)
				}
				if got := seriesValueIn(families, "agentgateway_queue_query_errors_total", map[string]string{"reason": "no_guid"}); got != 1 {
					t.Errorf("no_guid errors %v, want 1", got)
				}
				want := 0.0 // a listed queue is known, and not answered
				if strings.Contains(tc.setting, "{}") {
					want = -1 // no queue is known
				}
				if got := seriesValueIn(families, "agentgateway_queue_up", map[string]string{"skill_id": "20011"}); got != want {
					t.Errorf("queue_up %v, want %v", got, want)
				}
				return
			}
			if by[tc.wantFrom] != n || n != 2 {
				t.Errorf("statistics asked by %v, want twice by %s", by, tc.wantFrom)
			}
		})
	}
}

func TestAgentStateFromTheGateway(t *testing.T) {
	g := newQueueGateway(t, 20)
	e := g.exporter(t, "agent_state: true", "queues: {}")
	seen := map[string]bool{}
	for step := range 60 {
		g.clock.Advance(23 * time.Second)
		r := runScrape(t, e, selection{})
		for _, ref := range r.refs(false) {
			view := r.view(ref)
			var ones []string
			var buf sampleBuf
			buf.reset(&view)
			agentStateFamily := agentFamilies[slicesIndex(agentFamilies, "agentgateway_agent_state")]
			agentStateFamily.samples(&view, r.now, &buf)
			if len(buf.samples) != len(allStatesByName) {
				t.Fatalf("agent %s lists %d states, want %d", view.id, len(buf.samples), len(allStatesByName))
			}
			for _, s := range buf.samples {
				if s.value == 1 {
					ones = append(ones, s.extra[0])
				}
			}
			if len(ones) != 1 {
				t.Fatalf("step %d, agent %s: states at 1: %v, want exactly one", step, view.id, ones)
			}
			seen[ones[0]] = true
			// The gateway's own states win; idle and talking are the call's.
			code, _ := g.sim.AgentState(view.id)
			want := map[int]string{5: stateWrapUp, 8: stateRest, 9: statePreRest, 2: stateSignedOut}[code]
			if want != "" && ones[0] != want && view.obs.err == nil {
				t.Errorf("step %d, agent %s: state %s, gateway says %s", step, view.id, ones[0], want)
			}
			if want == "" && view.obs.err == nil && ones[0] != view.obs.callState() {
				t.Errorf("step %d, agent %s: state %s, call says %s", step, view.id, ones[0], view.obs.callState())
			}
		}
		// Both output paths agree with queues and agent states on.
		for _, format := range []expfmt.Format{expfmt.FmtText + "; escaping=underscores"} {
			if want, got := viaRegistry(t, r, ownGatherer(), format), viaText(t, r, ownGatherer(), format); got != want {
				t.Fatalf("step %d: text writer differs from the registry\n--- registry\n%s\n--- text writer\n%s", step, want, got)
			}
			if step == 0 {
				text := viaText(t, r, ownGatherer(), format)
				for _, id := range g.ids {
					if strings.Contains(text, simulator.Guid(queueSeed, id)) {
						t.Fatalf("agent %s's Guid in the output", id)
					}
				}
				if !strings.Contains(text, "agentgateway_queue_calls_waiting{") {
					t.Fatalf("no queue statistics in the output:\n%s", text)
				}
			}
		}
	}
	for _, state := range []string{stateIdle, stateTalking, stateWrapUp, stateRest, statePreRest} {
		if !seen[state] {
			t.Errorf("state %s never seen in an hour of scrapes (saw %v)", state, seen)
		}
	}
}

func TestAgentStateOffListsCallStatesOnly(t *testing.T) {
	g := newQueueGateway(t, 2)
	e := g.exporter(t)
	families := gatherScrape(t, e)
	if got := seriesValueIn(families, "agentgateway_agent_state", map[string]string{"state": stateRest}); got != -1 {
		t.Errorf("rest listed without agent_state: %v", got)
	}
	if n, _ := g.count("agentstatus"); n != 0 {
		t.Errorf("%d agentstatus requests without agent_state", n)
	}
}

func slicesIndex(families []agentFamily, name string) int {
	for i, f := range families {
		if f.name == name {
			return i
		}
	}
	panic(name)
}

// TestStateSourcesCombine: the gateway's own states win over the call, the
// call wins for idle and talking, and a failed query decides before both.
func TestStateSourcesCombine(t *testing.T) {
	ringing := testCall{id: "1700000095-7", waitAgo: 30, answerAgo: 5}
	answered := func(body string) *gateway.Answer {
		answer, err := gateway.DecodeAnswer([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return answer
	}
	failed := &gateway.QueryError{Reason: gateway.ReasonRetcode, Retcode: "100-006"}
	for _, tc := range []struct {
		name         string
		body         string
		err          *gateway.QueryError
		gatewayState int64 // 0: none named
		want         string
	}{
		{"rest with the last call shown", endedA.body(), nil, 8, stateRest},
		{"pre-rest while ringing", ringing.body(), nil, 9, statePreRest},
		{"busy without a call", noCallBody, nil, 3, stateBusy},
		{"wrap-up after the call", endedA.body(), nil, 5, stateWrapUp},
		{"signed out by the gateway's state", noCallBody, nil, 2, stateSignedOut},
		{"gateway says talking, call rings", ringing.body(), nil, 7, stateRinging},
		{"gateway says idle, call talks", talkingA.body(), nil, 4, stateTalking},
		{"gateway says talking, no call", noCallBody, nil, 7, stateIdle},
		{"no state named", talkingA.body(), nil, 0, stateTalking},
		{"unknown code", noCallBody, nil, 1, stateIdle},
		{"call query failed", "", failed, 8, stateSignedOut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := &observation{err: tc.err}
			if tc.err == nil {
				obs.callInfo = answered(tc.body).Call
			}
			if name, ok := (gateway.AgentStatus{State: stateNumber(tc.gatewayState)}).Name(); ok {
				obs.gatewayState = name
			}
			if got := obs.state(); got != tc.want {
				t.Errorf("state %s, want %s", got, tc.want)
			}
		})
	}
}

// stateNumber is a gateway state code, unknown for 0 (no state sent).
func stateNumber(code int64) gateway.Number {
	if code == 0 {
		return gateway.Number{}
	}
	return gateway.NumberOf(code)
}

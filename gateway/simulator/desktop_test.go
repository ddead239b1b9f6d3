package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/agentgateway/agentgateway_exporter/internal/syncbuf"
)

const pushToken = "push-token-5f1c9e"

// fakeExporter stands in for the exporter's push API: it checks the token and the body, keeps the
// latest Guid per agent, and checks every pushed Guid against the simulator when it arrives.
type fakeExporter struct {
	t   *testing.T
	sim *Simulator // nil: no check

	mu       sync.Mutex
	guids    map[string]string
	pushes   int
	attempts map[string]int // pushes naming the agent, answered 200 or not
	largest  int
	problems []string
	// answer, when set, decides the status of a push of these Guids (0: the normal answer).
	answer func(guids map[string]string) int
	// reject names agents to refuse by name, with the reason.
	reject func(id, guid string) string
}

func newFakeExporter(t *testing.T, sim *Simulator) (*fakeExporter, *httptest.Server) {
	f := &fakeExporter{t: t, sim: sim, guids: map[string]string{}, attempts: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeExporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Gateway string            `json:"gateway"`
		Guids   map[string]string `json:"guids"`
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method != http.MethodPut:
		f.problems = append(f.problems, "method "+r.Method)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	case r.Header.Get("Authorization") != "Bearer "+pushToken:
		f.problems = append(f.problems, "wrong token")
		w.WriteHeader(http.StatusUnauthorized)
		return
	case json.NewDecoder(r.Body).Decode(&body) != nil || body.Gateway != ConfigGateway || len(body.Guids) == 0:
		f.problems = append(f.problems, "bad body")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.largest = max(f.largest, len(body.Guids))
	for id := range body.Guids {
		f.attempts[id]++
	}
	if f.answer != nil {
		if status := f.answer(body.Guids); status != 0 {
			w.WriteHeader(status)
			return
		}
	}
	f.pushes++
	rejected := map[string]string{}
	for id, guid := range body.Guids {
		if f.sim != nil && !f.sim.GuidAccepted(id, guid) {
			f.problems = append(f.problems, "agent "+id+": pushed a Guid the gateway does not accept")
		}
		if f.reject != nil {
			if why := f.reject(id, guid); why != "" {
				rejected[id] = why
				continue
			}
		}
		f.guids[id] = guid
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"accepted": len(body.Guids) - len(rejected), "rejected": rejected})
}

func (f *fakeExporter) snapshot() (guids map[string]string, pushes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	guids = make(map[string]string, len(f.guids))
	for id, g := range f.guids {
		guids[id] = g
	}
	return guids, f.pushes
}

// current reports whether the exporter holds every agent's current Guid.
func (f *fakeExporter) current(sim *Simulator) bool {
	guids, _ := f.snapshot()
	for _, id := range sim.AgentIDs() {
		if g := sim.Guid(id); g == "" || guids[id] != g {
			return false
		}
	}
	return true
}

func (f *fakeExporter) checkProblems() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.problems) > 0 {
		f.t.Errorf("%d problems, the first: %s", len(f.problems), f.problems[0])
	}
}

// startSessionGateway runs a simulator in mode on a manual clock, so that renewals and idle sign-outs
// happen only when the test moves the clock; polls answer after 10ms of real time.
func startSessionGateway(t *testing.T, mode AuthMode, agents int) (*Server, *ManualClock) {
	t.Helper()
	clock := NewManualClock(testStart)
	opts := sessionOptions(mode)
	opts.Agents, opts.Now, opts.PollWait = agents, clock.Now, 10*time.Millisecond
	srv, err := Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, clock
}

func startTestDesktop(t *testing.T, srv *Server, pushURL string, logs *syncbuf.Buffer, tune func(*DesktopOptions)) *Desktop {
	t.Helper()
	o := DesktopOptions{
		GatewayURL:  srv.URL(),
		AgentIDs:    srv.AgentIDs(),
		PushURL:     pushURL,
		PushToken:   pushToken,
		Pollers:     4,
		RepollDelay: 5 * time.Millisecond,
		RetryDelay:  20 * time.Millisecond,
		PushDelay:   5 * time.Millisecond,
	}
	if logs != nil {
		o.Logger = log.NewLogfmtLogger(logs)
	}
	if tune != nil {
		tune(&o)
	}
	d, err := StartDesktop(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// TestDesktopKeepsGuidsFresh: whatever the mode, the exporter ends up with every agent's current Guid
// after each renewal, and every Guid pushed is one the gateway accepts.
func TestDesktopKeepsGuidsFresh(t *testing.T) {
	for _, mode := range []AuthMode{AuthDynamic, AuthStatic, AuthPreset} {
		t.Run(mode.String(), func(t *testing.T) {
			srv, clock := startSessionGateway(t, mode, 12)
			exporter, push := newFakeExporter(t, srv.Simulator)
			d := startTestDesktop(t, srv, push.URL, nil, nil)
			waitFor(t, "the first Guids", func() bool { return exporter.current(srv.Simulator) })
			first, _ := exporter.snapshot()
			for round := range 4 {
				clock.Advance(2 * time.Second) // one renewal in dynamic mode
				waitFor(t, fmt.Sprintf("the Guids of round %d", round), func() bool { return exporter.current(srv.Simulator) })
			}
			last, _ := exporter.snapshot()
			for _, id := range srv.AgentIDs() {
				if got := query(t, srv, id, last[id], true).retcode(); got != "0" {
					t.Errorf("agent %s: query with the pushed Guid: %s", id, got)
				}
				if renewed := last[id] != first[id]; renewed != (mode == AuthDynamic) {
					t.Errorf("agent %s: Guid renewed %v in %s mode", id, renewed, mode)
				}
			}
			// The exporter holds the Guids as soon as a push arrives; the desktop
			// counts it once the answer is back.
			waitFor(t, "the pushes counted", func() bool { return d.Stats().GuidsAccepted >= 12 })
			st := d.Stats()
			if st.SignIns < 12 || st.SignedIn != 12 || st.GuidsAccepted < 12 || st.Polls == 0 {
				t.Errorf("stats %+v", st)
			}
			if mode == AuthDynamic && st.Renewals < 12*4 {
				t.Errorf("%d renewals, want at least %d", st.Renewals, 12*4)
			}
			exporter.checkProblems()
		})
	}
}

// TestDesktopPauses: with pushes paused the sessions live on but the exporter gets nothing new; with
// polling paused the gateway signs the agents out, and on resume they are signed in again.
func TestDesktopPauses(t *testing.T) {
	srv, clock := startSessionGateway(t, AuthDynamic, 6)
	exporter, push := newFakeExporter(t, srv.Simulator)
	d := startTestDesktop(t, srv, push.URL, nil, nil)
	waitFor(t, "the first Guids", func() bool { return exporter.current(srv.Simulator) })

	d.PausePushes()
	_, pushesBefore := exporter.snapshot()
	renewals := d.Stats().Renewals
	clock.Advance(2 * time.Second)
	waitFor(t, "the desktop to see the renewals", func() bool { return d.Stats().Renewals >= renewals+6 })
	time.Sleep(100 * time.Millisecond) // twenty push delays
	if _, pushes := exporter.snapshot(); pushes != pushesBefore || exporter.current(srv.Simulator) {
		t.Fatalf("%d pushes while paused", pushes-pushesBefore)
	}
	d.ResumePushes()
	waitFor(t, "the renewed Guids after resuming the pushes", func() bool { return exporter.current(srv.Simulator) })

	d.PausePolling()
	held, _ := exporter.snapshot()
	clock.Advance(11 * time.Second) // past the idle sign-out of 10s
	for _, id := range srv.AgentIDs() {
		if srv.SignedIn(id) {
			t.Fatalf("agent %s still signed in after 11s without polls", id)
		}
		if got := query(t, srv, id, held[id], true).retcode(); got != "100-006" {
			t.Errorf("agent %s: %s after the idle sign-out", id, got)
		}
	}
	signIns := d.Stats().SignIns
	d.ResumePolling()
	waitFor(t, "new sessions after resuming the polls", func() bool { return exporter.current(srv.Simulator) })
	if got := d.Stats().SignIns - signIns; got < 6 {
		t.Errorf("%d sign-ins after resuming, want 6", got)
	}
	exporter.checkProblems()
}

// TestDesktopWaitsForTheExporter: pushes to an exporter that is not listening yet are retried until it is.
func TestDesktopWaitsForTheExporter(t *testing.T) {
	srv, _ := startSessionGateway(t, AuthDynamic, 3)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := listener.Addr().String()
	listener.Close()
	d := startTestDesktop(t, srv, "http://"+addr+"/api/v1/guids", nil, nil)
	waitFor(t, "failed pushes", func() bool { return d.Stats().PushFailures >= 2 })

	exporter := &fakeExporter{t: t, sim: srv.Simulator, guids: map[string]string{}, attempts: map[string]int{}}
	late := httptest.NewUnstartedServer(exporter)
	if late.Listener, err = net.Listen("tcp", addr); err != nil {
		t.Skipf("the address was taken meanwhile: %v", err)
	}
	late.Start()
	t.Cleanup(late.Close)
	waitFor(t, "the Guids at the late exporter", func() bool { return exporter.current(srv.Simulator) })
	exporter.checkProblems()
}

// TestDesktopPushAnswers: failed pushes are retried, 413 makes the batches smaller, rejected agents
// are logged by id and not retried, and no log line holds a Guid or the token.
func TestDesktopPushAnswers(t *testing.T) {
	tests := []struct {
		name    string
		status  int // answered to the first two pushes
		batch   int // 413 above this many Guids
		reject  string
		wantRej int64
	}{
		{name: "unauthorized at first", status: http.StatusUnauthorized},
		{name: "unknown gateway at first", status: http.StatusNotFound},
		{name: "server error at first", status: http.StatusServiceUnavailable},
		{name: "too large", batch: 3},
		{name: "rejected agent", reject: "1003", wantRej: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := startSessionGateway(t, AuthStatic, 10)
			exporter, push := newFakeExporter(t, srv.Simulator)
			failures := 0
			exporter.answer = func(guids map[string]string) int {
				if tc.batch > 0 && len(guids) > tc.batch {
					return http.StatusRequestEntityTooLarge
				}
				if tc.status != 0 && failures < 2 {
					failures++
					return tc.status
				}
				return 0
			}
			exporter.reject = func(id, guid string) string {
				if id == tc.reject {
					return "not configured (it said " + guid + ")"
				}
				return ""
			}
			var logs syncbuf.Buffer
			d := startTestDesktop(t, srv, push.URL, &logs, nil)
			waitFor(t, "every accepted Guid", func() bool {
				guids, _ := exporter.snapshot()
				return len(guids) == 10-int(tc.wantRej)
			})
			time.Sleep(50 * time.Millisecond) // room for a wrong retry of the rejected agent
			st := d.Stats()
			exporter.mu.Lock()
			attempts, largest := exporter.attempts[tc.reject], exporter.largest
			exporter.mu.Unlock()
			switch {
			case st.GuidsRejected != tc.wantRej:
				t.Errorf("%d rejected, want %d", st.GuidsRejected, tc.wantRej)
			case tc.reject != "" && (attempts != 1 || !strings.Contains(logs.String(), "agent="+tc.reject)):
				t.Errorf("rejected agent pushed %d times; logs:\n%s", attempts, logs.String())
			case tc.status != 0 && st.PushFailures < 2:
				t.Errorf("%d failed pushes, want 2", st.PushFailures)
			case tc.batch > 0 && st.Pushes < int64(10/tc.batch):
				t.Errorf("%d pushes (largest %d) for 10 Guids at most %d at a time", st.Pushes, largest, tc.batch)
			}
			for _, id := range srv.AgentIDs() {
				if strings.Contains(logs.String(), srv.Guid(id)) {
					t.Fatalf("a Guid is in the logs:\n%s", logs.String())
				}
			}
			if strings.Contains(logs.String(), pushToken) {
				t.Fatalf("the token is in the logs:\n%s", logs.String())
			}
			exporter.checkProblems()
		})
	}
}

// TestDesktopManyAgents: thousands of agents are served by a bounded number of goroutines and
// connections. It is bounded in count and in time, not a speed test.
func TestDesktopManyAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const agents, pollers = 2000, 32
	srv, clock := startSessionGateway(t, AuthDynamic, agents)
	exporter, push := newFakeExporter(t, nil)
	before := runtime.NumGoroutine()
	d := startTestDesktop(t, srv, push.URL, nil, func(o *DesktopOptions) { o.Pollers, o.PushBatch = pollers, 500 })
	peak := 0
	for _, what := range []string{"the first Guids", "the renewed Guids"} {
		waitFor(t, what, func() bool {
			peak = max(peak, runtime.NumGoroutine()-before)
			return exporter.current(srv.Simulator)
		})
		clock.Advance(2 * time.Second)
	}
	// Per poller: itself, a client connection's two loops, and the server's connection and its reader;
	// far fewer than one per agent.
	t.Logf("%d goroutines at most for %d agents, %d connections", peak, agents, srv.ConnectionsOpened())
	if limit := 6*pollers + 30; peak > limit {
		t.Errorf("%d more goroutines for %d agents with %d pollers, want at most %d", peak, agents, pollers, limit)
	}
	if conns := srv.ConnectionsOpened(); conns > 2*pollers {
		t.Errorf("%d connections to the gateway for %d pollers", conns, pollers)
	}
	exporter.mu.Lock()
	largest := exporter.largest
	exporter.mu.Unlock()
	if st := d.Stats(); st.GuidsAccepted < 10*st.Pushes || largest > 500 {
		t.Errorf("%d pushes of %d Guids, the largest %d (batch 500): not batched", st.Pushes, st.GuidsAccepted, largest)
	}
	exporter.checkProblems()
}

func TestDesktopOptions(t *testing.T) {
	tests := []struct {
		name string
		o    DesktopOptions
	}{
		{"no gateway URL", DesktopOptions{AgentIDs: []string{"1001"}}},
		{"relative gateway URL", DesktopOptions{GatewayURL: "127.0.0.1:8043", AgentIDs: []string{"1001"}}},
		{"no agents", DesktopOptions{GatewayURL: "http://127.0.0.1:1"}},
		{"repeated agent", DesktopOptions{GatewayURL: "http://127.0.0.1:1", AgentIDs: []string{"1001", "1001"}}},
		{"agent id with a slash", DesktopOptions{GatewayURL: "http://127.0.0.1:1", AgentIDs: []string{"10/01"}}},
		{"bad push URL", DesktopOptions{GatewayURL: "http://127.0.0.1:1", AgentIDs: []string{"1001"}, PushURL: "ftp://x"}},
		{"bad CA", DesktopOptions{GatewayURL: "https://127.0.0.1:1", AgentIDs: []string{"1001"}, GatewayCACertPEM: []byte("x")}},
	}
	for _, tc := range tests {
		if d, err := StartDesktop(t.Context(), tc.o); err == nil {
			d.Close()
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestGuidOf(t *testing.T) {
	tests := map[string]string{
		"JSESSIONID=279fe21d-2caa.AgentGateway0":         "279fe21d-2caa.AgentGateway0",
		"jsessionid=abc.AgentGateway1; Path=/; HttpOnly": "abc.AgentGateway1",
		" abc.AgentGateway0 ":                            "abc.AgentGateway0",
		"":                                               "",
	}
	for header, want := range tests {
		if got := guidOf(header); got != want {
			t.Errorf("guidOf(%q) = %q, want %q", header, got, want)
		}
	}
}

// TestDesktopOverTLS: the default client trusts the certificate it is given, and nothing else.
func TestDesktopOverTLS(t *testing.T) {
	opts := sessionOptions(AuthStatic)
	opts.PollWait = 10 * time.Millisecond
	srv, err := StartTLS("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	exporter, push := newFakeExporter(t, srv.Simulator)
	startTestDesktop(t, srv, push.URL, nil, func(o *DesktopOptions) { o.GatewayCACertPEM = srv.CACertPEM() })
	waitFor(t, "the Guids over TLS", func() bool { return exporter.current(srv.Simulator) })
	exporter.checkProblems()

	var logs syncbuf.Buffer
	untrusting := startTestDesktop(t, srv, push.URL, &logs, func(o *DesktopOptions) { o.AgentIDs = []string{"1001"} })
	waitFor(t, "failed sign-ins", func() bool { return untrusting.Stats().SignInFailures >= 3 })
	if st := untrusting.Stats(); st.SignIns != 0 {
		t.Errorf("signed in over TLS without trusting the certificate: %+v", st)
	}
	if n := strings.Count(logs.String(), `level=warn msg="sign-in failed"`); n != 1 {
		t.Errorf("%d warnings for failed sign-ins in a row of one agent, want 1:\n%s", n, logs.String())
	}
}

// TestDesktopStopsWithItsContext: when the context ends the desktop sends nothing more.
func TestDesktopStopsWithItsContext(t *testing.T) {
	srv, _ := startSessionGateway(t, AuthDynamic, 4)
	exporter, push := newFakeExporter(t, srv.Simulator)
	ctx, cancel := context.WithCancel(t.Context())
	d, err := StartDesktop(ctx, DesktopOptions{GatewayURL: srv.URL(), AgentIDs: srv.AgentIDs(), PushURL: push.URL,
		PushToken: pushToken, RepollDelay: time.Millisecond, PushDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first Guids", func() bool { return exporter.current(srv.Simulator) })
	cancel()
	d.Close() // waits for the pollers and the pusher
	// A request cancelled on its way may still reach the server after Close
	// returns; once the count has held still, nothing more may come. A
	// desktop still polling every millisecond never lets it hold still.
	requests := srv.Stats().SessionRequests
	waitFor(t, "the session requests to settle", func() bool {
		before := requests
		time.Sleep(20 * time.Millisecond)
		requests = srv.Stats().SessionRequests
		return requests == before
	})
	time.Sleep(50 * time.Millisecond) // fifty repoll delays
	if got := srv.Stats().SessionRequests; got != requests {
		t.Errorf("%d requests after the context ended", got-requests)
	}
}

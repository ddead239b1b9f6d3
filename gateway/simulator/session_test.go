package simulator

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

var setGUIDShape = regexp.MustCompile(`^JSESSIONID=([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.AgentGateway0)$`)

// call sends one request to a session interface in-process.
func call(t testing.TB, h http.Handler, method, path, guid, body string) reply {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	if guid != "" {
		req.Header.Set("Guid", guid)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return decodeReply(rec.Code, rec.Header(), rec.Body.Bytes())
}

// newGUID is the Guid an answer hands out in Set-GUID, "" without the header; a header of the wrong
// shape fails the test.
func (r reply) newGUID(t testing.TB) string {
	t.Helper()
	v := r.header.Get(SetGuidHeader)
	if v == "" {
		return ""
	}
	m := setGUIDShape.FindStringSubmatch(v)
	if m == nil {
		t.Fatalf("Set-GUID %q is not shaped like the gateway's", v)
	}
	return m[1]
}

func signIn(t testing.TB, s *Simulator, agentID string) reply {
	t.Helper()
	return call(t, s, http.MethodPut, onlineAgentPrefix+agentID, "", `{"password":"","phonenum":"6001"}`)
}

func poll(t testing.TB, s *Simulator, agentID, guid string) reply {
	t.Helper()
	return call(t, s, http.MethodGet, agentEventPrefix+agentID, guid, "")
}

// sessionOptions are short dynamic-authentication times on a manual clock; polls answer at once.
func sessionOptions(mode AuthMode) Options {
	return Options{Agents: 2, AuthMode: mode, GuidInterval: 2 * time.Second, GuidTimeout: 4 * time.Second,
		IdleSignOut: 10 * time.Second, PollWait: -1}
}

func TestSignInBody(t *testing.T) {
	tests := []struct {
		name, body string
		want       string
	}{
		{"documented fields", `{"password":"secret","phonenum":"6001","autoanswer":true,"status":4}`, "0"},
		{"empty object", `{}`, "0"},
		{"phone number as a number", `{"phonenum":6001}`, "0"},
		{"unknown keys and null", `{"password":null,"checkInWebm":"false","x":[1]}`, "0"},
		{"not JSON", `password=1`, "100-001"},
		{"empty body", ``, "100-001"},
		{"array", `[]`, "100-001"},
		{"null", `null`, "100-001"},
		{"password not a string", `{"password":123}`, "100-001"},
		{"password too long", `{"password":"` + strings.Repeat("p", 33) + `"}`, "100-001"},
		{"phone number too long", `{"phonenum":"` + strings.Repeat("6", 25) + `"}`, "100-001"},
		{"body too large", `{"x":"` + strings.Repeat("x", maxSignInBody) + `"}`, "100-001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestSimulator(t, sessionOptions(AuthDynamic))
			r := call(t, s, http.MethodPut, onlineAgentPrefix+"1001", "", tc.body)
			if r.status != http.StatusOK || r.retcode() != tc.want {
				t.Fatalf("HTTP %d retcode %s, want 200 and %s: %s", r.status, r.retcode(), tc.want, r.raw)
			}
			guid := r.newGUID(t)
			if (guid != "") != (tc.want == "0") {
				t.Fatalf("Set-GUID %q with retcode %s", guid, tc.want)
			}
			if tc.want != "0" {
				return
			}
			if got, ok := r.result(); !ok || got["workno"] != "1001" || got["serverName"] != "AgentGateway" {
				t.Errorf("sign-in result %s", r.raw)
			}
			if strings.Contains(string(r.raw), guid) {
				t.Error("the Guid is in the body; the gateway sends it only in Set-GUID")
			}
			if got := query(t, s, "1001", guid, true).retcode(); got != "0" {
				t.Errorf("query with the new Guid: %s", got)
			}
		})
	}
}

func TestSessionCalls(t *testing.T) {
	s, _ := newTestSimulator(t, sessionOptions(AuthStatic))
	if got := queryAgent(t, s, "1001", true).retcode(); got != "100-006" {
		t.Fatalf("before any sign-in: %s, want 100-006", got)
	}
	first := signIn(t, s, "1001").mustSucceed(t).newGUID(t)
	steps := []struct {
		name   string
		method string
		path   string
		guid   *string
		want   string
	}{
		{"sign-in again", http.MethodPut, onlineAgentPrefix + "1001", nil, "100-002"},
		{"poll with a wrong Guid", http.MethodGet, agentEventPrefix + "1001", ptr("x"), "100-006"},
		{"sign-out with a wrong Guid", http.MethodDelete, onlineAgentPrefix + "1001/logout", ptr("x"), "100-006"},
		{"poll", http.MethodGet, agentEventPrefix + "1001", &first, "0"},
		{"bad agent id", http.MethodGet, agentEventPrefix + "12x", &first, "000-002"},
		{"unknown agent", http.MethodGet, agentEventPrefix + "2001", &first, "100-006"},
		{"other agent's Guid", http.MethodGet, agentEventPrefix + "1002", &first, "100-006"},
		{"sign-out", http.MethodDelete, onlineAgentPrefix + "1001/logout", &first, "0"},
		{"query after sign-out", http.MethodGet, callInfoPath("1001", false), &first, "100-006"},
		{"poll after sign-out", http.MethodGet, agentEventPrefix + "1001", &first, "100-006"},
		{"sign-out again", http.MethodDelete, onlineAgentPrefix + "1001/logout", &first, "100-006"},
	}
	for _, st := range steps {
		guid := ""
		if st.guid != nil {
			guid = *st.guid
		}
		if got := call(t, s, st.method, st.path, guid, "{}").retcode(); got != st.want {
			t.Errorf("%s: retcode %s, want %s", st.name, got, st.want)
		}
	}

	second := signIn(t, s, "1001").mustSucceed(t).newGUID(t)
	if second == first {
		t.Fatal("a new sign-in gave the old Guid")
	}
	forced := call(t, s, http.MethodPut, onlineAgentPrefix+"1001/forcelogin", "", "{}").mustSucceed(t).newGUID(t)
	if forced == "" || forced == second {
		t.Fatalf("forced sign-in gave %q", forced)
	}
	for guid, want := range map[string]string{forced: "0", second: "000-003", first: "000-003"} {
		if got := query(t, s, "1001", guid, true).retcode(); got != want {
			t.Errorf("after the forced sign-in a Guid answers %s, want %s", got, want)
		}
	}
}

func ptr(s string) *string { return &s }

// TestDynamicRenewal walks through renewals on the manual clock: who is accepted when, and which poll
// answer carries Set-GUID.
func TestDynamicRenewal(t *testing.T) {
	s, clock := newTestSimulator(t, sessionOptions(AuthDynamic))
	g0 := signIn(t, s, "1001").mustSucceed(t).newGUID(t)
	if r := poll(t, s, "1001", g0).mustSucceed(t); r.newGUID(t) != "" || r.str(t, "event", "eventType") == "" {
		t.Fatalf("first poll after sign-in: want the greeting event without Set-GUID, got %s %v", r.raw, r.header)
	}
	if r := poll(t, s, "1001", g0).mustSucceed(t); r.newGUID(t) != "" || string(r.raw) != `{"message":"","retcode":"0","event":null}` {
		t.Fatalf("poll without a renewal: %s %v", r.raw, r.header)
	}

	clock.Advance(2 * time.Second) // renewal: g1 replaces g0, which lasts until +6s
	g1 := poll(t, s, "1001", g0).mustSucceed(t).newGUID(t)
	if g1 == "" || g1 == g0 || s.Guid("1001") != g1 {
		t.Fatalf("poll after the renewal carried %q (old %q, current %q)", g1, g0, s.Guid("1001"))
	}
	if got := poll(t, s, "1001", g1).mustSucceed(t).newGUID(t); got != "" {
		t.Fatal("Set-GUID again though the owner has the current Guid")
	}
	clock.Advance(time.Second) // +3s
	if got := poll(t, s, "1001", g0).mustSucceed(t).newGUID(t); got != g1 {
		t.Fatalf("a poll with the previous Guid got Set-GUID %q, want the current one", got)
	}

	clock.Advance(time.Second) // +4s: g2; g0 still until +6s, g1 until +8s
	g2 := s.Guid("1001")
	steps := []struct {
		at   time.Duration // since sign-in
		guid string
		want string
	}{
		{4 * time.Second, g0, "0"},
		{4 * time.Second, g1, "0"},
		{4 * time.Second, g2, "0"},
		{6*time.Second - time.Millisecond, g0, "0"},
		{6 * time.Second, g0, "000-003"},
		{6 * time.Second, g1, "0"},
		{8 * time.Second, g1, "000-003"},
		{8 * time.Second, "never-issued", "100-006"},
	}
	start := testStart
	for _, st := range steps {
		clock.Set(start.Add(st.at))
		if got := query(t, s, "1001", st.guid, true).retcode(); got != st.want {
			t.Errorf("at +%s: %s, want %s", st.at, got, st.want)
		}
		if accepted := s.GuidAccepted("1001", st.guid); accepted != (st.want == "0") {
			t.Errorf("at +%s: GuidAccepted %v with answer %s", st.at, accepted, st.want)
		}
	}
	if g2 == g1 || s.Guid("1001") == g2 {
		t.Error("no renewals while the clock moved on")
	}
}

func TestIdleSignOut(t *testing.T) {
	tests := []struct {
		mode AuthMode
		idle time.Duration
		want string // answer to a query with the last Guid after 12s without polls
	}{
		{AuthStatic, 10 * time.Second, "100-006"},
		{AuthDynamic, 10 * time.Second, "100-006"},
		{AuthStatic, -1, "0"}, // never
	}
	for _, tc := range tests {
		t.Run(tc.mode.String()+"/"+tc.idle.String(), func(t *testing.T) {
			opts := sessionOptions(tc.mode)
			opts.IdleSignOut = tc.idle
			s, clock := newTestSimulator(t, opts)
			guid := signIn(t, s, "1001").mustSucceed(t).newGUID(t)
			// Polled every 3s (within the Guid timeout), the session outlives its idle time; queries do not count.
			for range 5 {
				clock.Advance(3 * time.Second)
				r := poll(t, s, "1001", guid).mustSucceed(t)
				if g := r.newGUID(t); g != "" {
					guid = g
				}
				if got := query(t, s, "1001", guid, false).retcode(); got != "0" {
					t.Fatalf("polled agent: query %s", got)
				}
			}
			for range 4 {
				clock.Advance(3 * time.Second)
				query(t, s, "1001", guid, false)
			}
			if got := query(t, s, "1001", guid, false).retcode(); got != tc.want {
				t.Fatalf("12s without polls: %s, want %s", got, tc.want)
			}
			if tc.want == "0" {
				return
			}
			if s.SignedIn("1001") {
				t.Error("SignedIn says yes after the idle sign-out")
			}
			if got := poll(t, s, "1001", guid).retcode(); got != "100-006" {
				t.Errorf("poll after the idle sign-out: %s", got)
			}
			again := signIn(t, s, "1001").mustSucceed(t).newGUID(t)
			if got := query(t, s, "1001", again, false).retcode(); got != "0" {
				t.Errorf("after signing in again: %s", got)
			}
		})
	}
}

func TestStaticKeepsItsGuid(t *testing.T) {
	s, clock := newTestSimulator(t, sessionOptions(AuthStatic))
	guid := signIn(t, s, "1002").mustSucceed(t).newGUID(t)
	for range 20 {
		clock.Advance(5 * time.Second)
		if r := poll(t, s, "1002", guid).mustSucceed(t); r.newGUID(t) != "" {
			t.Fatal("static authentication renewed the Guid")
		}
	}
	if got := query(t, s, "1002", guid, true).retcode(); got != "0" {
		t.Errorf("static Guid after 100s: %s", got)
	}
}

// TestPollWaits: without an event the poll answers after PollWait, and a client that gives up
// first gets nothing.
func TestPollWaits(t *testing.T) {
	opts := sessionOptions(AuthDynamic)
	opts.PollWait = 50 * time.Millisecond
	s, _ := newTestSimulator(t, opts)
	guid := signIn(t, s, "1001").mustSucceed(t).newGUID(t)
	poll(t, s, "1001", guid).mustSucceed(t) // the greeting, at once
	began := time.Now()
	poll(t, s, "1001", guid).mustSucceed(t)
	if waited := time.Since(began); waited < opts.PollWait {
		t.Errorf("poll answered after %s, before its wait of %s", waited, opts.PollWait)
	}
}

func TestAuthOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"defaults", Options{AuthMode: AuthDynamic}, true},
		{"timeout not longer than interval", Options{AuthMode: AuthDynamic, GuidInterval: 2 * time.Second, GuidTimeout: 2 * time.Second}, false},
		{"static ignores the interval", Options{AuthMode: AuthStatic, GuidInterval: 2 * time.Second, GuidTimeout: time.Second}, true},
		{"negative interval", Options{AuthMode: AuthDynamic, GuidInterval: -time.Second}, false},
		{"unknown mode", Options{AuthMode: 7}, false},
	}
	for _, tc := range tests {
		_, err := newSimulator(tc.opts)
		if (err == nil) != tc.ok {
			t.Errorf("%s: error %v", tc.name, err)
		}
	}
	for _, name := range AuthModeNames() {
		if m, err := ParseAuthMode(name); err != nil || m.String() != name {
			t.Errorf("ParseAuthMode(%q) = %v, %v", name, m, err)
		}
	}
	if _, err := ParseAuthMode("AUTHMODE=2"); err == nil {
		t.Error("ParseAuthMode accepted nonsense")
	}
}

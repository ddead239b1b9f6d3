package simulator

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestErrorAnswers(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		setup   func(s *Simulator)
		agentID string
		guid    func(s *Simulator) string
		want    string
	}{
		{name: "right guid", agentID: "1001", guid: ownGUID("1001"), want: "0"},
		{name: "missing guid", agentID: "1001", guid: fixedGUID(""), want: "100-006"},
		{name: "wrong guid", agentID: "1001", guid: fixedGUID("00000000-0000-4000-8000-000000000000.AgentGateway0"), want: "100-006"},
		{name: "another agent's guid", agentID: "1001", guid: ownGUID("1002"), want: "100-006"},
		{name: "wrong guid answered 000-003 when configured", opts: Options{BadGuidRetcode: "000-003"},
			agentID: "1001", guid: fixedGUID("nope"), want: "000-003"},
		{name: "unknown agent", agentID: "2001", guid: ownGUID("1001"), want: "100-006"},
		{name: "unknown agent answered 000-003 when configured", opts: Options{BadGuidRetcode: "000-003"},
			agentID: "2001", guid: ownGUID("1001"), want: "000-003"},
		{name: "signed out", setup: func(s *Simulator) { s.SignOut("1001") }, agentID: "1001", guid: ownGUID("1001"), want: "100-006"},
		{name: "signed out and in again", setup: func(s *Simulator) { s.SignOut("1001"); s.SignIn("1001") },
			agentID: "1001", guid: ownGUID("1001"), want: "0"},
		{name: "signed out even with BadGuidRetcode 000-003", opts: Options{BadGuidRetcode: "000-003"},
			setup: func(s *Simulator) { s.SignOut("1001") }, agentID: "1001", guid: ownGUID("1001"), want: "100-006"},
		{name: "set retcode", setup: func(s *Simulator) { s.SetRetcode("1001", "100-007") }, agentID: "1001", guid: ownGUID("1001"), want: "100-007"},
		{name: "retcode cleared", setup: func(s *Simulator) { s.SetRetcode("1001", "105-005"); s.SetRetcode("1001", "") },
			agentID: "1001", guid: ownGUID("1001"), want: "0"},
		{name: "retcode of one agent only", setup: func(s *Simulator) { s.SetRetcode("1002", "100-007") },
			agentID: "1001", guid: ownGUID("1001"), want: "0"},
		{name: "non-digit agent id", agentID: "10a1", guid: ownGUID("1001"), want: "000-002"},
		{name: "empty agent id", agentID: "", guid: ownGUID("1001"), want: "000-002"},
		{name: "agent id below 101", agentID: "100", guid: ownGUID("1001"), want: "000-002"},
		{name: "agent id above 999999", agentID: "1000000", guid: ownGUID("1001"), want: "000-002"},
		{name: "negative agent id", agentID: "-1001", guid: ownGUID("1001"), want: "000-002"},
		{name: "old gateway range: 60000 refused", opts: Options{MaxAgentID: 59999}, agentID: "60000", guid: ownGUID("1001"), want: "000-002"},
		{name: "old gateway range: 59999 unknown", opts: Options{MaxAgentID: 59999}, agentID: "59999", guid: ownGUID("1001"), want: "100-006"},
		{name: "largest accepted id is unknown, not refused", agentID: "999999", guid: ownGUID("1001"), want: "100-006"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestSimulator(t, tc.opts)
			if tc.setup != nil {
				tc.setup(s)
			}
			r := query(t, s, tc.agentID, tc.guid(s), true)
			if r.status != http.StatusOK {
				t.Fatalf("HTTP %d, want 200 (the gateway reports errors in the body)", r.status)
			}
			if got := r.retcode(); got != tc.want {
				t.Fatalf("retcode %s, want %s: %s", got, tc.want, r.raw)
			}
			if tc.want == "0" {
				return
			}
			// The real error shape: result is an empty string, message a text.
			if result, ok := lookup(r.body, "result"); !ok || result != "" {
				t.Errorf("error result %#v, want \"\": %s", result, r.raw)
			}
			if message, _ := lookup(r.body, "message"); message == "" || message == nil {
				t.Errorf("error without message: %s", r.raw)
			}
			if !strings.HasPrefix(string(r.raw), `{"retcode":"`+tc.want+`","message":"`) {
				t.Errorf("error body %s does not start with retcode and message", r.raw)
			}
		})
	}
}

func ownGUID(agentID string) func(*Simulator) string {
	return func(s *Simulator) string { return s.Guid(agentID) }
}

func fixedGUID(guid string) func(*Simulator) string {
	return func(*Simulator) string { return guid }
}

func TestNotSignedInBodyMatchesTheRealOne(t *testing.T) {
	s, _ := newTestSimulator(t, Options{})
	s.SignOut("1001")
	r := queryAgent(t, s, "1001", false)
	if got, want := string(r.raw), `{"retcode":"100-006","message":"agent not login","result":""}`; got != want {
		t.Fatalf("body %s, want %s", got, want)
	}
	if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type %q", got)
	}
}

func TestGuidsAndRotation(t *testing.T) {
	s, _ := newTestSimulator(t, Options{Seed: 3})
	shape := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.AgentGateway0$`)
	seen := map[string]bool{}
	for _, id := range s.AgentIDs() {
		g := s.Guid(id)
		if !shape.MatchString(g) {
			t.Fatalf("guid %q of agent %s is not shaped like a gateway guid", g, id)
		}
		if g != Guid(3, id) {
			t.Fatalf("agent %s: Guid(seed) %q differs from the simulator's %q", id, Guid(3, id), g)
		}
		if seen[g] {
			t.Fatalf("guid %q given twice", g)
		}
		seen[g] = true
	}
	if Guid(3, "1001") == Guid(4, "1001") {
		t.Error("the seed does not change the guid")
	}

	old := s.Guid("1001")
	rotated := s.RotateGuid("1001")
	if rotated == old || !shape.MatchString(rotated) || s.Guid("1001") != rotated {
		t.Fatalf("rotation gave %q (old %q, now %q)", rotated, old, s.Guid("1001"))
	}
	again := s.RotateGuid("1001")
	tests := []struct {
		name string
		guid string
		want string
	}{
		{"current guid", again, "0"},
		{"guid before the last rotation", rotated, "000-003"},
		{"first guid", old, "000-003"},
		{"never issued", "x", "100-006"},
	}
	for _, tc := range tests {
		if got := query(t, s, "1001", tc.guid, true).retcode(); got != tc.want {
			t.Errorf("%s: retcode %s, want %s", tc.name, got, tc.want)
		}
	}
	if got := queryAgent(t, s, "1002", true).retcode(); got != "0" {
		t.Errorf("rotating 1001 broke 1002: %s", got)
	}

	strict, _ := newTestSimulator(t, Options{StaleGuidRetcode: "100-006"})
	first := strict.Guid("1001")
	strict.RotateGuid("1001")
	if got := query(t, strict, "1001", first, true).retcode(); got != "100-006" {
		t.Errorf("stale guid with StaleGuidRetcode 100-006: retcode %s", got)
	}
}

func TestMethodsAndPaths(t *testing.T) {
	s, _ := newTestSimulator(t, Options{})
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, callInfoPath("1001", true), http.StatusOK},
		{http.MethodPost, callInfoPath("1001", true), http.StatusMethodNotAllowed},
		{http.MethodPut, callInfoPath("1001", true), http.StatusMethodNotAllowed},
		{http.MethodHead, callInfoPath("1001", true), http.StatusMethodNotAllowed},
		{http.MethodGet, "/agentgateway/resource/calldata/1001/callinfobeforeanswer", http.StatusNotFound},
		{http.MethodGet, "/agentgateway/resource/calldata/1001/callinfo/", http.StatusNotFound},
		{http.MethodGet, "/agentgateway/resource/calldata/10/01/callinfo", http.StatusNotFound},
		{http.MethodGet, "/agentgateway/resource/onlineagent/1001", http.StatusMethodNotAllowed},
		{http.MethodPost, "/agentgateway/resource/agentevent/1001", http.StatusMethodNotAllowed},
		{http.MethodGet, "/agentgateway/resource/onlineagent/1001/logout", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/agentgateway/resource/onlineagent/1001/signout", http.StatusNotFound},
		{http.MethodGet, "/agentgateway/resource/agentevent/1001/more", http.StatusNotFound},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodPost, "/nowhere", http.StatusNotFound},
	}
	for _, tc := range tests {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		req.Header.Set("Guid", s.Guid("1001"))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%s %s: HTTP %d, want %d", tc.method, tc.path, rec.Code, tc.status)
			continue
		}
		if tc.status == http.StatusOK {
			continue
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s %s: Content-Type %q, want an HTML page", tc.method, tc.path, ct)
		}
		if tc.method != http.MethodHead && !strings.Contains(rec.Body.String(), "<html") {
			t.Errorf("%s %s: body %q is not an HTML page", tc.method, tc.path, rec.Body.String())
		}
		wantAllow := http.MethodGet
		switch {
		case strings.HasSuffix(tc.path, "/logout"):
			wantAllow = http.MethodDelete
		case strings.HasPrefix(tc.path, onlineAgentPrefix):
			wantAllow = http.MethodPut
		}
		if tc.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != wantAllow {
			t.Errorf("%s %s: Allow %q", tc.method, tc.path, rec.Header().Get("Allow"))
		}
	}
}

func TestRequireContentType(t *testing.T) {
	s, _ := newTestSimulator(t, Options{RequireContentType: true})
	tests := []struct {
		contentType string
		want        string
	}{
		{"application/json; charset=UTF-8", "0"},
		{"application/json", "0"},
		{"text/plain", "000-006"},
		{"", "000-006"},
	}
	for _, tc := range tests {
		req := httptest.NewRequest(http.MethodGet, callInfoPath("1001", false), nil)
		req.Header.Set("Guid", s.Guid("1001"))
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if got := decodeReply(rec.Code, rec.Header(), rec.Body.Bytes()).retcode(); got != tc.want {
			t.Errorf("Content-Type %q: retcode %s, want %s", tc.contentType, got, tc.want)
		}
	}
}

func TestFlowControl(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		wantStatus int
		wantCode   string
	}{
		{"retcode", Options{FlowLimit: 5}, http.StatusOK, "000-007"},
		{"other retcode", Options{FlowLimit: 5, FlowRetcode: "100-007"}, http.StatusOK, "100-007"},
		{"HTTP status", Options{FlowLimit: 5, FlowHTTPStatus: http.StatusTooManyRequests}, http.StatusTooManyRequests, "<absent>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newTestSimulator(t, tc.opts)
			limited := func(r reply) bool {
				return r.status == tc.wantStatus && r.retcode() == tc.wantCode
			}
			for i := range 5 {
				if r := queryAgent(t, s, "1001", true); r.retcode() != "0" {
					t.Fatalf("query %d refused: HTTP %d %s", i+1, r.status, r.raw)
				}
				clock.Advance(100 * time.Millisecond)
			}
			if r := queryAgent(t, s, "1001", true); !limited(r) {
				t.Fatalf("sixth query within 2s: HTTP %d %s", r.status, r.raw)
			}
			if r := queryAgent(t, s, "1002", true); r.retcode() != "0" {
				t.Fatalf("another agent was limited too: %s", r.raw)
			}
			// The first query was at 0s; at 1.999s the window still holds five.
			clock.Set(testStart.Add(1999 * time.Millisecond))
			if r := queryAgent(t, s, "1001", true); !limited(r) {
				t.Fatalf("query at 1.999s: HTTP %d %s", r.status, r.raw)
			}
			clock.Set(testStart.Add(2 * time.Second))
			if r := queryAgent(t, s, "1001", true); r.retcode() != "0" {
				t.Fatalf("query at 2s, after the first left the window: %s", r.raw)
			}
			if r := queryAgent(t, s, "1001", true); !limited(r) {
				t.Fatalf("second query at 2s: HTTP %d %s", r.status, r.raw)
			}
		})
	}

	off, _ := newTestSimulator(t, Options{})
	for i := range 50 {
		if r := queryAgent(t, off, "1001", false); r.retcode() != "0" {
			t.Fatalf("query %d limited without flow control: %s", i, r.raw)
		}
	}
}

func TestStatsCountRequests(t *testing.T) {
	s, _ := newTestSimulator(t, Options{Agents: 3})
	for range 3 {
		queryAgent(t, s, "1001", true)
	}
	queryAgent(t, s, "1002", true)
	query(t, s, "9999", "", true)
	query(t, s, "abc", "", true)
	st := s.Stats()
	if st.Requests != 6 {
		t.Errorf("Requests %d, want 6", st.Requests)
	}
	want := map[string]int64{"1001": 3, "1002": 1, "1003": 0}
	for id, n := range want {
		if st.RequestsByAgent[id] != n {
			t.Errorf("agent %s: %d requests, want %d", id, st.RequestsByAgent[id], n)
		}
	}
	if len(st.RequestsByAgent) != len(want) {
		t.Errorf("RequestsByAgent %v has agents that do not exist", st.RequestsByAgent)
	}
	if st.InFlight != 0 || st.MaxInFlight != 1 {
		t.Errorf("in flight %d, max %d; want 0 and 1 for sequential requests", st.InFlight, st.MaxInFlight)
	}
	s.ResetStats()
	if st := s.Stats(); st.Requests != 0 || st.RequestsByAgent["1001"] != 0 || st.MaxInFlight != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"first id below 101", Options{FirstAgentID: 100}},
		{"ids beyond the old range", Options{MaxAgentID: 59999, FirstAgentID: 59990, Agents: 20}},
		{"negative agents", Options{Agents: -1}},
		{"negative latency", Options{Latency: -time.Second}},
		{"negative flow limit", Options{FlowLimit: -1}},
		{"flow status not HTTP", Options{FlowLimit: 5, FlowHTTPStatus: 42}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Start("127.0.0.1:0", tc.opts); err == nil {
				t.Fatal("Start accepted the options")
			}
			defer func() {
				if recover() == nil {
					t.Error("New accepted the options")
				}
			}()
			New(tc.opts)
		})
	}
}

func TestControlsRefuseUnknownAgents(t *testing.T) {
	s, _ := newTestSimulator(t, Options{Agents: 2})
	defer func() {
		if recover() == nil {
			t.Error("SetRetcode on an agent that does not exist did not panic")
		}
	}()
	s.SetRetcode("1003", "100-006")
}

package simulator

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

const (
	callInfoPrefix    = "/agentgateway/resource/calldata/"
	onlineAgentPrefix = "/agentgateway/resource/onlineagent/"
	agentEventPrefix  = "/agentgateway/resource/agentevent/"
)

// route is one interface of the gateway with an {agentid} in its path.
type route struct {
	prefix, suffix, method string
}

var (
	routeCallInfo    = route{callInfoPrefix, "/callinfo", http.MethodGet}
	routeSignIn      = route{onlineAgentPrefix, "", http.MethodPut}
	routeForceSignIn = route{onlineAgentPrefix, "/forcelogin", http.MethodPut}
	routeSignOut     = route{onlineAgentPrefix, "/logout", http.MethodDelete}
	routeEvents      = route{agentEventPrefix, "", http.MethodGet}
	routes           = [...]route{routeCallInfo, routeSignIn, routeForceSignIn, routeSignOut, routeEvents}
)

func parsePath(path string) (rt route, agentID string, ok bool) {
	for _, rt := range routes {
		rest, ok := strings.CutPrefix(path, rt.prefix)
		if !ok {
			continue
		}
		agentID, ok = strings.CutSuffix(rest, rt.suffix)
		if ok && !strings.Contains(agentID, "/") {
			return rt, agentID, true
		}
	}
	return route{}, "", false
}

func (s *Simulator) validAgentID(agentID string) bool {
	if agentID == "" || len(agentID) > 7 {
		return false
	}
	for i := 0; i < len(agentID); i++ {
		if agentID[i] < '0' || agentID[i] > '9' {
			return false
		}
	}
	n, err := strconv.Atoi(agentID)
	return err == nil && n >= minAgentID && n <= s.opts.MaxAgentID
}

// ServeHTTP answers GET /agentgateway/resource/calldata/{agentid}/callinfo and the session interfaces
// (sign-in, forced sign-in, sign-out, event poll) like the gateway: errors are JSON bodies with
// HTTP 200; only unknown paths (404) and other methods (405) get HTML pages.
// isNoContainLastCall=true asks for the previous call when the agent is idle, as the documentation
// says; any other value, or none, does not.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, agentID, ok := parsePath(r.URL.Path)
	if ok && rt != routeCallInfo {
		s.sessionRequests.Add(1)
		s.serveSession(w, r, rt, agentID)
		return
	}
	s.requests.Add(1)
	s.noteInFlight(s.inFlight.Add(1))
	defer s.inFlight.Add(-1)

	if !s.sleep(r.Context(), s.opts.Latency) {
		return
	}
	if !ok {
		writeHTMLStatus(w, http.StatusNotFound)
		return
	}
	a, ok := s.agentOf(w, r, rt, agentID)
	if !ok {
		return
	}
	a.requests.Add(1)
	if f := a.takeFault(); f.active() && s.applyFault(w, r, a, f) {
		return
	}
	resp := s.answer(a, r)
	if resp.httpStatus != 0 {
		writeHTMLStatus(w, resp.httpStatus)
		return
	}
	writeJSON(w, resp.body)
}

type response struct {
	httpStatus int // non-zero: an HTML error page instead of body
	body       []byte
}

// answer decides the JSON answer for one query of a configured agent, in the order a gateway would
// check: its own load first, then the request, then the session, then the data.
func (s *Simulator) answer(a *agent, r *http.Request) response {
	now := s.opts.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.admit(now, s.opts.FlowLimit, s.opts.FlowWindow) {
		if s.opts.FlowHTTPStatus != 0 {
			return response{httpStatus: s.opts.FlowHTTPStatus}
		}
		return response{body: errorBody(s.opts.FlowRetcode)}
	}
	if s.opts.RequireContentType && !isJSONContentType(r.Header.Get("Content-Type")) {
		return response{body: errorBody(retcodeBadMessage)}
	}
	a.advance(now, &s.opts, bits(s.opts.Seed))
	if code := a.checkGUID(r.Header.Get("Guid"), now, &s.opts); code != "" {
		return response{body: errorBody(code)}
	}
	if a.retcode != "" {
		return response{body: errorBody(a.retcode)}
	}
	// The gateway parses the flag like Java's Boolean.valueOf: anything but "true" is false.
	includePrevious := strings.EqualFold(r.URL.Query().Get("isNoContainLastCall"), "true")
	current, previous := a.calls(now, &s.life)
	switch {
	case current != nil:
		return response{body: successBody(&s.opts, now, a.num, current, false, 0)}
	case includePrevious && previous != nil:
		return response{body: successBody(&s.opts, now, a.num, previous, true, 0)}
	default:
		idleKey := hashOf(bits(s.opts.Seed), purposeNoCall, bits(int64(a.num)))
		if previous != nil {
			idleKey = previous.key
		}
		return response{body: successBody(&s.opts, now, a.num, nil, false, idleKey)}
	}
}

// agentOf checks the method and the agent id of a request to one of the routes, answering when
// they are wrong, and returns the agent.
func (s *Simulator) agentOf(w http.ResponseWriter, r *http.Request, rt route, agentID string) (*agent, bool) {
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		writeHTMLStatus(w, http.StatusMethodNotAllowed)
		return nil, false
	}
	if !s.validAgentID(agentID) {
		writeJSON(w, errorBody(retcodeBadParameter))
		return nil, false
	}
	a, ok := s.agents[agentID]
	if !ok {
		writeJSON(w, errorBody(s.opts.BadGuidRetcode))
		return nil, false
	}
	return a, true
}

func isJSONContentType(value string) bool {
	mediaType, _, err := mime.ParseMediaType(value)
	return err == nil && mediaType == "application/json"
}

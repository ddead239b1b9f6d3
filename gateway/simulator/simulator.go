package simulator

import (
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Simulator is a simulated CC-Gateway. It implements http.Handler and is safe for concurrent use.
type Simulator struct {
	opts   Options
	life   lifecycle
	ids    []string
	agents map[string]*agent // fixed after New, so it is read without a lock

	closed    chan struct{}
	closeOnce sync.Once

	requests    atomic.Int64
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
}

// agent holds what one agent's answers depend on besides the clock. Each agent has its own lock so
// that a load test over many agents does not serialise on one mutex.
type agent struct {
	id       string
	num      int // the agent id as a number
	requests atomic.Int64

	mu             sync.Mutex
	guidGeneration uint64
	guid           string
	staleGuids     map[string]struct{}
	signedOut      bool
	retcode        string
	fault          Fault
	faultLeft      int
	manual         *manualCalls // nil while the automatic lifecycle runs
	manualCount    uint64
	flow           []time.Time // the last FlowLimit admitted queries, a ring starting at flowNext
	flowNext       int
	windows        [2]cachedWindow // the windows asked for last: usually the current and the previous one
}

type manualCalls struct {
	current, previous *Call
}

type cachedWindow struct {
	number int64
	calls  []Call
	valid  bool
}

// New returns a Simulator. It panics on options that cannot work (agent ids outside the accepted range,
// negative durations); Start reports the same problems as an error.
func New(opts Options) *Simulator {
	s, err := newSimulator(opts)
	if err != nil {
		panic(err)
	}
	return s
}

func newSimulator(opts Options) (*Simulator, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	s := &Simulator{
		opts:   opts,
		life:   newLifecycle(opts),
		ids:    make([]string, opts.Agents),
		agents: make(map[string]*agent, opts.Agents),
		closed: make(chan struct{}),
	}
	for i := range opts.Agents {
		id := strconv.Itoa(opts.FirstAgentID + i)
		s.ids[i] = id
		s.agents[id] = &agent{
			id:         id,
			num:        opts.FirstAgentID + i,
			guid:       guidFor(bits(opts.Seed), id, 0),
			staleGuids: map[string]struct{}{},
		}
	}
	return s, nil
}

// Close aborts requests held by FaultHang, Fault.Delay or Latency: their connections are closed
// without an answer, so a server shutting down does not wait for them. Later requests that would
// wait are aborted too.
func (s *Simulator) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
}

// AgentIDs returns the configured agent ids in ascending order.
func (s *Simulator) AgentIDs() []string {
	return append([]string(nil), s.ids...)
}

// Guid returns the Guid the agent must currently send.
func (s *Simulator) Guid(agentID string) string { //nolint:revive // spelt like the gateway's Guid header, as the package API was agreed
	a := s.agentFor(agentID)
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.guid
}

// Guid returns the first Guid the simulator with this seed gives the agent, shaped like a real one
// ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.AgentGateway0"), so configurations can be written before a simulator runs.
func Guid(seed int64, agentID string) string { //nolint:revive // spelt like the gateway's Guid header, as the package API was agreed
	return guidFor(bits(seed), agentID, 0)
}

func guidFor(seed uint64, agentID string, generation uint64) string {
	hi := hashOf(seed, purposeGUID, hashString(agentID), generation)
	lo := mix64(hi ^ purposeGUID)
	// Version 4 and RFC 4122 variant bits, so the value passes for a random UUID.
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x.AgentGateway0",
		hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// RotateGuid gives the agent a new Guid, as the gateway's dynamic authentication does, and returns it.
// The old Guid is then answered with Options.StaleGuidRetcode.
func (s *Simulator) RotateGuid(agentID string) string { //nolint:revive // spelt like the gateway's Guid header, as the package API was agreed
	a := s.agentFor(agentID)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.staleGuids[a.guid] = struct{}{}
	a.guidGeneration++
	a.guid = guidFor(bits(s.opts.Seed), a.id, a.guidGeneration)
	return a.guid
}

// SetCall takes the agent off the automatic lifecycle and reports c until ResumeLifecycle, SetCall or EndCall.
// Zero fields get defaults, and missing times are filled so that the call is in c.Phase now: a phase
// in progress has lasted a few seconds, an ended call ends now. PhaseIdle makes c the previous call of
// an idle agent. Options.Quirks shape the answer as for generated calls, except that UnknownEnums
// does not change the values given.
func (s *Simulator) SetCall(agentID string, c Call) {
	a := s.agentFor(agentID)
	now := s.opts.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	_, previous := a.calls(now, &s.life)
	a.manualCount++
	c = completeManual(c, now, s.opts.VDNID, hashOf(bits(s.opts.Seed), purposeManual, bits(int64(a.num)), a.manualCount))
	if c.Phase == PhaseIdle {
		c.Phase = PhaseEnded
		a.manual = &manualCalls{previous: &c}
		return
	}
	a.manual = &manualCalls{current: &c, previous: previous}
}

// EndCall ends the agent's current call now with the given leave reason (15 customer released,
// 16 agent released, 17 transferred out, 50 agent rejected, ...). The agent is then idle with that call
// as its previous call, off the automatic lifecycle until ResumeLifecycle. Without a current call the
// agent just stays idle.
func (s *Simulator) EndCall(agentID string, leaveReason int) {
	a := s.agentFor(agentID)
	now := s.opts.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	current, previous := a.calls(now, &s.life)
	if current != nil {
		ended := *current
		if ended.End.IsZero() {
			ended.End = now
			switch ended.Phase {
			case PhaseTalking:
				ended.TalkEnd = now
			case PhaseRinging:
				ended.AnswerEnd = now
			case PhaseQueued:
				ended.WaitEnd = now
			}
		}
		ended.Phase = PhaseEnded
		ended.LeaveReason = leaveReason
		ended.wrapUntil = time.Time{}
		previous = &ended
	}
	a.manual = &manualCalls{previous: previous}
}

// ClearCalls makes the agent idle without a previous call, as after a fresh sign-in, off the automatic
// lifecycle until ResumeLifecycle.
func (s *Simulator) ClearCalls(agentID string) {
	a := s.agentFor(agentID)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.manual = &manualCalls{}
}

// ResumeLifecycle hands the agent back to the automatic lifecycle after SetCall, EndCall or ClearCalls.
func (s *Simulator) ResumeLifecycle(agentID string) {
	a := s.agentFor(agentID)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.manual = nil
}

// Calls returns what the agent's answers report at the simulator's clock: the current call and the
// previous one, nil when there is none. Tests use it to know what to expect.
func (s *Simulator) Calls(agentID string) (current, previous *Call) {
	a := s.agentFor(agentID)
	now := s.opts.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls(now, &s.life)
}

// SignOut makes the agent answer 100-006 (not signed in) until SignIn.
func (s *Simulator) SignOut(agentID string) {
	s.setSignedOut(agentID, true)
}

// SignIn undoes SignOut; the agent keeps its Guid.
func (s *Simulator) SignIn(agentID string) {
	s.setSignedOut(agentID, false)
}

func (s *Simulator) setSignedOut(agentID string, signedOut bool) {
	a := s.agentFor(agentID)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.signedOut = signedOut
}

// SetRetcode makes the agent's answers carry this error code (with "result":""); "" clears it.
// Sign-out, Guid and flow control checks come first.
func (s *Simulator) SetRetcode(agentID, retcode string) {
	a := s.agentFor(agentID)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.retcode = retcode
}

// SetFault makes the agent's answers fail as f says, before any other check; Fault{} clears it.
func (s *Simulator) SetFault(agentID string, f Fault) {
	a := s.agentFor(agentID)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fault = f
	a.faultLeft = f.Count
}

func (s *Simulator) agentFor(agentID string) *agent {
	a, ok := s.agents[agentID]
	if !ok {
		// A test naming an agent that does not exist would otherwise pass without testing anything.
		panic(fmt.Sprintf("simulator: no agent %q", agentID))
	}
	return a
}

// Stats are request counters, for tests of concurrency and keep-alive behaviour.
type Stats struct {
	// Requests counts every request, including those for unknown paths and agents.
	Requests int64
	// RequestsByAgent counts the requests that named a configured agent, by agent id.
	RequestsByAgent map[string]int64
	// InFlight is the number of requests being served now.
	InFlight int64
	// MaxInFlight is the largest InFlight seen since the start or ResetStats.
	MaxInFlight int64
}

// Stats returns the request counters.
func (s *Simulator) Stats() Stats {
	st := Stats{
		Requests:        s.requests.Load(),
		RequestsByAgent: make(map[string]int64, len(s.ids)),
		InFlight:        s.inFlight.Load(),
		MaxInFlight:     s.maxInFlight.Load(),
	}
	for _, id := range s.ids {
		st.RequestsByAgent[id] = s.agents[id].requests.Load()
	}
	return st
}

// ResetStats sets the counters back to zero (MaxInFlight to the current InFlight).
func (s *Simulator) ResetStats() {
	s.requests.Store(0)
	s.maxInFlight.Store(s.inFlight.Load())
	for _, a := range s.agents {
		a.requests.Store(0)
	}
}

func (s *Simulator) noteInFlight(n int64) {
	for {
		seen := s.maxInFlight.Load()
		if n <= seen || s.maxInFlight.CompareAndSwap(seen, n) {
			return
		}
	}
}

const (
	callInfoPrefix = "/agentgateway/resource/calldata/"
	callInfoSuffix = "/callinfo"
)

func parseCallInfoPath(path string) (agentID string, ok bool) {
	rest, ok := strings.CutPrefix(path, callInfoPrefix)
	if !ok {
		return "", false
	}
	agentID, ok = strings.CutSuffix(rest, callInfoSuffix)
	if !ok || strings.Contains(agentID, "/") {
		return "", false
	}
	return agentID, true
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

// ServeHTTP answers GET /agentgateway/resource/calldata/{agentid}/callinfo like the gateway: errors
// are JSON bodies with HTTP 200; only unknown paths (404) and other methods (405) get HTML pages.
// isNoContainLastCall=true asks for the previous call when the agent is idle, as the documentation
// says; any other value, or none, does not.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.noteInFlight(s.inFlight.Add(1))
	defer s.inFlight.Add(-1)

	if !s.sleep(r.Context(), s.opts.Latency) {
		return
	}
	agentID, ok := parseCallInfoPath(r.URL.Path)
	if !ok {
		writeHTMLStatus(w, http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeHTMLStatus(w, http.StatusMethodNotAllowed)
		return
	}
	if !s.validAgentID(agentID) {
		writeJSON(w, errorBody(retcodeBadParameter))
		return
	}
	a, ok := s.agents[agentID]
	if !ok {
		writeJSON(w, errorBody(s.opts.BadGuidRetcode))
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
	if a.signedOut {
		return response{body: errorBody(retcodeNotSignedIn)}
	}
	if guid := r.Header.Get("Guid"); guid != a.guid {
		if _, stale := a.staleGuids[guid]; stale {
			return response{body: errorBody(s.opts.StaleGuidRetcode)}
		}
		return response{body: errorBody(s.opts.BadGuidRetcode)}
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

func isJSONContentType(value string) bool {
	mediaType, _, err := mime.ParseMediaType(value)
	return err == nil && mediaType == "application/json"
}

func (a *agent) takeFault() Fault {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.fault
	if f.Count > 0 {
		a.faultLeft--
		if a.faultLeft <= 0 {
			a.fault = Fault{}
		}
	}
	return f
}

// admit applies flow control: a sliding window over the admitted queries of one agent.
func (a *agent) admit(now time.Time, limit int, window time.Duration) bool {
	if limit <= 0 {
		return true
	}
	if len(a.flow) < limit {
		a.flow = append(a.flow, now)
		return true
	}
	if oldest := a.flow[a.flowNext]; now.Sub(oldest) < window {
		return false
	}
	a.flow[a.flowNext] = now
	a.flowNext = (a.flowNext + 1) % limit
	return true
}

// calls returns the agent's current and previous call at now; the caller holds a.mu.
func (a *agent) calls(now time.Time, l *lifecycle) (current, previous *Call) {
	if a.manual != nil {
		return viewAt(a.manual.current, now), viewAt(a.manual.previous, now)
	}
	w := l.windowOf(now)
	calls := a.window(l, w)
	i := sort.Search(len(calls), func(i int) bool { return calls[i].WaitBegin.After(now) }) - 1
	if i >= 0 && now.Before(calls[i].wrapUntil) {
		current = viewAt(&calls[i], now)
		i--
	}
	if i >= 0 {
		return current, viewAt(&calls[i], now)
	}
	// The previous call lies in an earlier window. Windows hold dozens of calls, so looking back a few is plenty.
	for back := int64(1); back <= 3; back++ {
		if earlier := a.window(l, w-back); len(earlier) > 0 {
			return current, viewAt(&earlier[len(earlier)-1], now)
		}
	}
	return current, nil
}

func (a *agent) window(l *lifecycle, number int64) []Call {
	for i := range a.windows {
		if a.windows[i].valid && a.windows[i].number == number {
			return a.windows[i].calls
		}
	}
	// Replace the slot farther from the window asked for: polls move forward, so that keeps the neighbour.
	slot := 0
	if a.windows[0].valid && (!a.windows[1].valid || distance(a.windows[0].number, number) < distance(a.windows[1].number, number)) {
		slot = 1
	}
	a.windows[slot] = cachedWindow{number: number, calls: l.windowCalls(a.num, number), valid: true}
	return a.windows[slot].calls
}

func distance(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

func viewAt(c *Call, now time.Time) *Call {
	if c == nil {
		return nil
	}
	v := c.at(now)
	return &v
}

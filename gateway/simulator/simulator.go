package simulator

import (
	"fmt"
	"strconv"
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

	requests        atomic.Int64
	sessionRequests atomic.Int64
	inFlight        atomic.Int64
	maxInFlight     atomic.Int64
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
		a := &agent{id: id, num: opts.FirstAgentID + i}
		if opts.AuthMode == AuthPreset {
			a.session = session{signedIn: true, guid: guidFor(bits(opts.Seed), id, 0)}
		}
		s.agents[id] = a
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

func (s *Simulator) agentFor(agentID string) *agent {
	a, ok := s.agents[agentID]
	if !ok {
		// A test naming an agent that does not exist would otherwise pass without testing anything.
		panic(fmt.Sprintf("simulator: no agent %q", agentID))
	}
	return a
}

// lockAgent finds the agent, reads the clock and locks the agent; the caller unlocks a.mu. The clock is
// read before the lock, as a query reads it on arrival.
func (s *Simulator) lockAgent(agentID string) (a *agent, now time.Time) {
	a = s.agentFor(agentID)
	now = s.opts.Now()
	a.mu.Lock()
	return a, now
}

// lockSession is lockAgent that also brings the agent's session up to now (renewals, idle sign-out),
// as every look at the session needs first.
func (s *Simulator) lockSession(agentID string) (a *agent, now time.Time) {
	a, now = s.lockAgent(agentID)
	a.advance(now, &s.opts, bits(s.opts.Seed))
	return a, now
}

// Stats are request counters, for tests of concurrency and keep-alive behaviour. The session
// interfaces (sign-in, sign-out, event poll) count only in SessionRequests, so that a session owner's
// long polls do not blur what a test measures of the exporter's queries.
type Stats struct {
	// Requests counts every request but those of the session interfaces, including those for unknown
	// paths and agents.
	Requests int64
	// RequestsByAgent counts the queries that named a configured agent, by agent id.
	RequestsByAgent map[string]int64
	// SessionRequests counts the requests to the session interfaces.
	SessionRequests int64
	// InFlight is the number of queries being served now.
	InFlight int64
	// MaxInFlight is the largest InFlight seen since the start or ResetStats.
	MaxInFlight int64
}

// Stats returns the request counters.
func (s *Simulator) Stats() Stats {
	st := Stats{
		Requests:        s.requests.Load(),
		SessionRequests: s.sessionRequests.Load(),
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
	s.sessionRequests.Store(0)
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

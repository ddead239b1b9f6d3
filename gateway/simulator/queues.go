package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// Skill queues and agent states. What queryacdstat, agentvdnskill and agentstatus answer is derived
// from the same per-agent lifecycle that callinfo serves, at the same clock, so that all answers agree:
// a call in its queued phase waits in its skill queue (and has the agent reserved for it), an ended
// call still reported is the agent's wrap-up, and some idle gaps are rests. Calls that are abandoned
// in the queue never reach an agent, so callinfo never shows them; they are drawn per skill queue
// from the clock alone, like the agents' calls.

var (
	routeACDStat     = route{"/agentgateway/resource/queuedevice/", "/queryacdstat", http.MethodPost}
	routeVDNSkills   = route{"/agentgateway/resource/queuedevice/", "/agentvdnskill", http.MethodGet}
	routeAgentStatus = route{onlineAgentPrefix, "/agentstatus", http.MethodGet}
)

// isQuery tells the read-only query interfaces from the session ones.
func (rt route) isQuery() bool {
	return rt == routeCallInfo || rt == routeACDStat || rt == routeVDNSkills || rt == routeAgentStatus
}

// Gateway agent state codes of the agentstatus interface.
const (
	agentStateSignedOut = 2
	agentStateIdle      = 4
	agentStateWrapUp    = 5
	agentStateTalking   = 7 // the gateway's code also covers reserved, ringing and answering
	agentStateRest      = 8
	agentStatePreRest   = 9
)

// More purposes of random draws, continuing the list in random.go.
const (
	purposeRest uint64 = 64 + iota
	purposeAbandon
)

const (
	// restPercent is the share of the gaps between two calls that the agent spends resting; the wrap-up
	// before such a gap is reported as pre-rest (rest requested, starting after the call).
	restPercent = 15
	// abandonPercent is how many calls per hundred answered ones are abandoned in the queue.
	abandonPercent = 8
	// abandonSlot cuts time into slots for drawing abandoned calls; maxAbandonWait bounds their wait,
	// so a few slots back are all that can still be waiting.
	abandonSlot    = 10 * time.Second
	maxAbandonWait = 2 * time.Minute
)

// vdnSkill is a skill queue of the simulated VDN: every agent serves all of them.
type vdnSkill struct {
	skillQueue
	mediaType int
}

var vdnSkills = []vdnSkill{{voiceSkill, 5}, {chatSkill, 53}, {vipSkill, 5}, {videoSkill, 19}}

// AgentState returns the gateway's state code for the agent at the simulator's clock (2 signed out,
// 4 idle, 5 wrap-up, 7 in a call, 8 rest, 9 pre-rest) and whether it is in a call, as agentstatus
// answers them.
func (s *Simulator) AgentState(agentID string) (code int, working bool) {
	a, now := s.lockSession(agentID)
	defer a.mu.Unlock()
	code, working, _ = a.state(now, &s.life, bits(s.opts.Seed))
	return code, working
}

// state is the agent's gateway state at now and its current call; the caller holds a.mu and has
// advanced the session.
func (a *agent) state(now time.Time, l *lifecycle, seed uint64) (code int, working bool, current *Call) {
	if !a.session.signedIn {
		return agentStateSignedOut, false, nil
	}
	current, previous := a.calls(now, l)
	switch {
	case current == nil && previous != nil && restsAfter(seed, previous):
		return agentStateRest, false, nil
	case current == nil:
		return agentStateIdle, false, nil
	case current.Phase == PhaseEnded && restsAfter(seed, current):
		return agentStatePreRest, false, current
	case current.Phase == PhaseEnded:
		return agentStateWrapUp, false, current
	default:
		return agentStateTalking, true, current
	}
}

// restsAfter decides whether the agent rests in the gap after call c.
func restsAfter(seed uint64, c *Call) bool {
	return hashOf(seed, purposeRest, c.key)%100 < restPercent
}

// QueueStat is what queryacdstat reports for one skill queue.
type QueueStat struct {
	SkillID, CallsWaiting, AgentsSignedIn, AgentsAvailable int
	Name                                                   string
	// LongestWait is how long the call waiting longest has waited, 0 when none waits.
	LongestWait time.Duration
}

// QueueStats returns the statistics of every skill queue at the simulator's clock, in the order of
// agentvdnskill. Tests use it to know what to expect.
func (s *Simulator) QueueStats() []QueueStat {
	return s.queueStats(s.opts.Now())
}

func (s *Simulator) queueStats(now time.Time) []QueueStat {
	seed := bits(s.opts.Seed)
	stats := make([]QueueStat, len(vdnSkills))
	index := make(map[int]int, len(vdnSkills))
	for i, sk := range vdnSkills {
		stats[i] = QueueStat{SkillID: sk.id, Name: sk.name}
		index[sk.id] = i
	}
	wait := func(i int, begin time.Time) {
		stats[i].CallsWaiting++
		stats[i].LongestWait = max(stats[i].LongestWait, now.Sub(begin).Truncate(time.Second))
	}
	signedIn, available := 0, 0
	for _, id := range s.ids {
		a := s.agents[id]
		// One agent's lock at a time: a query holding its own agent's lock never waits here.
		a.mu.Lock()
		a.advance(now, &s.opts, seed)
		code, _, current := a.state(now, &s.life, seed)
		a.mu.Unlock()
		if code == agentStateSignedOut {
			continue
		}
		signedIn++
		if code == agentStateIdle {
			available++
		}
		if i, ok := index[current.skillIfQueued()]; ok {
			wait(i, current.WaitBegin)
		}
	}
	for i := range stats {
		stats[i].AgentsSignedIn, stats[i].AgentsAvailable = signedIn, available
		s.life.abandoned(seed, stats[i].SkillID, signedIn, now, func(begin time.Time) { wait(i, begin) })
	}
	return stats
}

// skillIfQueued is the skill queue id of a call waiting in its queue, 0 otherwise.
func (c *Call) skillIfQueued() int {
	if c == nil || c.Phase != PhaseQueued {
		return 0
	}
	return c.SkillID
}

// abandoned calls fn with the queueing start of each call of the skill queue that waits at now and
// will be abandoned. Their number follows the agents signed in: abandonPercent of the calls those
// agents answer, spread evenly over the queues.
func (l *lifecycle) abandoned(seed uint64, skillID, agents int, now time.Time, fn func(begin time.Time)) {
	cycle := l.idle + l.queue + l.ring + l.talk + l.wrap
	perSlot := float64(agents) * float64(abandonSlot.Milliseconds()) / float64(cycle) *
		abandonPercent / 100 / float64(len(vdnSkills))
	slot := now.UnixMilli() / abandonSlot.Milliseconds()
	for k := slot - int64(maxAbandonWait/abandonSlot); k <= slot; k++ {
		d := newDrawer(seed, purposeAbandon, uint64(skillID), bits(k)) //nolint:gosec // a positive id as hash input
		n := int(perSlot)
		if d.float() < perSlot-float64(n) {
			n++
		}
		for range n {
			begin := time.UnixMilli(k*abandonSlot.Milliseconds() + d.spread(abandonSlot.Milliseconds()/2, 1))
			// Callers who give up wait longer than answered calls queue, up to maxAbandonWait.
			patience := time.Duration(d.spread(maxAbandonWait.Milliseconds()/2, 0.9)) * time.Millisecond
			if !begin.After(now) && now.Before(begin.Add(patience)) {
				fn(begin)
			}
		}
	}
}

// answerQuery answers one of the query interfaces for a configured agent.
func (s *Simulator) answerQuery(a *agent, r *http.Request, rt route) response {
	if rt == routeCallInfo {
		return s.answer(a, r)
	}
	now := s.opts.Now()
	if resp, ok := s.check(a, r, now); !ok {
		return resp
	}
	return s.queueAnswer(rt, a, r, now)
}

// queueAnswer answers the queue and state interfaces for an agent that passed the checks every query
// passes. The agent's lock is not held: queryacdstat looks at every agent.
func (s *Simulator) queueAnswer(rt route, a *agent, r *http.Request, now time.Time) response {
	quoted := func(key uint64) bool {
		return s.opts.Quirks.NumbersAsStrings.appliesTo(hashOf(bits(s.opts.Seed), key, bits(now.Unix())), quirkNumbersAsStrings)
	}
	switch rt {
	case routeAgentStatus:
		a.mu.Lock()
		a.advance(now, &s.opts, bits(s.opts.Seed))
		code, working, _ := a.state(now, &s.life, bits(s.opts.Seed))
		a.mu.Unlock()
		return response{body: agentStatusBody(code, working, quoted(uint64(a.num)))} //nolint:gosec // a positive id as hash input
	case routeVDNSkills:
		return response{body: vdnSkillsBody()}
	default:
		var req struct {
			Skills []json.Number `json:"skills"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
			return response{body: errorBody(retcodeBadMessage)}
		}
		if len(req.Skills) == 0 || len(req.Skills) > maxSkillsPerQuery {
			return response{body: errorBody(retcodeBadSkillQuery)}
		}
		return response{body: acdStatBody(s.queueStats(now), req.Skills, quoted)}
	}
}

// maxSkillsPerQuery is the documented limit of queryacdstat; retcodeBadSkillQuery is the newer error
// list's "invalid parameter when querying skill queues".
const (
	maxSkillsPerQuery    = 100
	retcodeBadSkillQuery = "100-019"
)

package collector

import (
	"strconv"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// observation is one query's outcome.
type observation struct {
	sentAt   time.Time
	duration time.Duration
	// callInfo is the answer's call, nil for none (or a failed query);
	// the rest of the answer (retcode, message) is not kept.
	callInfo *gateway.CallInfo
	err      *gateway.QueryError
	// errKey (err's reason and retcode) and labels are the answer's label
	// values, bounded by the gateway's labelFolds and held once in their
	// tables when the observation is recorded.
	errKey *errorKey
	labels *callLabels
	// gatewayState is the state agentstatus named, with agent_state; ""
	// when off, failed or unnamed. statusErr is its failure.
	gatewayState string
	statusErr    *gateway.QueryError
}

// retcode is the failure's retcode label value, "" for none.
func (o *observation) retcode() string {
	if o.errKey == nil {
		return ""
	}
	return o.errKey.retcode
}

func (o *observation) call() *gateway.CallInfo {
	if o.err != nil {
		return nil
	}
	return o.callInfo
}

// callState is the state the call information gives.
func (o *observation) callState() string {
	switch {
	case o.err == nil && (o.callInfo == nil || o.callInfo.Ended()):
		return stateIdle
	case o.err == nil && o.callInfo.Talking():
		return stateTalking
	case o.err == nil:
		return stateRinging
	case o.err.Reason == reasonNoGUID:
		return stateNoGUID
	case o.err.Reason == gateway.ReasonRetcode && gateway.SignedOut(o.err.Retcode):
		return stateSignedOut
	default:
		return stateError
	}
}

type errorKey struct {
	reason  gateway.Reason
	retcode string
}

// errorKey is a failure's counter key, its retcode bounded by the folds.
func (f *labelFolds) errorKey(err *gateway.QueryError) errorKey {
	if err.Reason != gateway.ReasonRetcode {
		return errorKey{reason: err.Reason}
	}
	return errorKey{err.Reason, f.retcode.value(err.Retcode)}
}

type leaveKey struct{ reason, description string }

// presetLeaveReasons are exported at 0 before their first call. A counter
// series that appears already at 1 hides that call from rate(), and with
// one series per agent and reason that would hide a large part of the
// first hours after a start. These are the common ends of a call and the
// ones the shipped rules single out; rarer codes appear when they occur.
var presetLeaveReasons = func() []leaveKey {
	var keys []leaveKey
	for _, code := range []int64{15, 16, 17, 26, 50, 88, 89} {
		reason, description := gateway.LeaveReason(gateway.NumberOf(code))
		keys = append(keys, leaveKey{reason, description})
	}
	return append(keys,
		leaveKey{gateway.LeaveReasonUnknown, "unknown"},
		leaveKey{gateway.LeaveReasonUnobserved, unobservedDescription})
}()

// Counter keys are held once each, in these tables, and an agent's
// counters point to them: eight bytes a counter instead of two strings
// (thirty-two), which at ten thousand agents with a handful of leave
// reasons each is a megabyte or two. The keys are folded label values, so
// there are few of them.
var (
	errorKeys keyTable[errorKey]
	leaveKeys keyTable[leaveKey]

	presetLeaveKeys = func() []*leaveKey {
		keys := make([]*leaveKey, len(presetLeaveReasons))
		for i, key := range presetLeaveReasons {
			keys[i] = leaveKeys.intern(key, nil)
		}
		return keys
	}()
)

// keyTable holds each distinct key once. Past limit (0: none) keys are not
// held, and each caller gets its own.
type keyTable[K comparable] struct {
	mu    sync.RWMutex
	keys  map[K]*K
	limit int
}

// intern returns the table's copy of key. A new key is held as own(key)
// (own nil: key itself), so that what it holds can be a copy that keeps
// no answer alive.
func (t *keyTable[K]) intern(key K, own func(K) K) *K {
	t.mu.RLock()
	held := t.keys[key]
	t.mu.RUnlock()
	if held != nil {
		return held
	}
	if own != nil {
		key = own(key)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if held := t.keys[key]; held != nil {
		return held
	}
	held = &key
	if t.limit > 0 && len(t.keys) >= t.limit {
		return held
	}
	if t.keys == nil {
		t.keys = map[K]*K{}
	}
	t.keys[key] = held
	return held
}

// agentState is everything the exporter remembers about one agent between
// scrapes. Its size does not grow with the number of calls.
type agentState struct {
	mu          sync.Mutex
	calls       callTracker
	errorCounts counts[*errorKey]
	leaveCounts counts[*leaveKey]
	// health is the last reported status, so a failing agent is logged once
	// per change, not once per scrape: okHealth, the failure's counter key,
	// or nil before the first query.
	health *errorKey
	// share is set with min_interval, whose scrapes share one answer.
	share *sharedAnswer
}

// okHealth is the health of an agent whose last query was answered.
var okHealth = new(errorKey)

// sharedAnswer is an agent's answer for scrapes within min_interval: the
// latest from the gateway, or the query in flight for it. Only agents of
// gateways with min_interval have one, which keeps ten thousand agents'
// state smaller by a size class.
type sharedAnswer struct {
	latest   *observation
	askedAt  time.Time // latest's, on the exporter's clock
	inFlight chan struct{}
}

// sharing is the agent's shared answer, made on first use. Call it with
// the agent's lock held.
func (s *agentState) sharing() *sharedAnswer {
	if s.share == nil {
		s.share = &sharedAnswer{}
	}
	return s.share
}

func newAgentState() *agentState {
	return &agentState{}
}

// counts are an agent's counters by label values. An agent sees a handful
// of distinct leave reasons and errors, and a short list holds them in a
// fraction of a map's memory: at ten thousand agents, megabytes.
type counts[K comparable] []counted[K]

type counted[K comparable] struct {
	key   K
	count float64
}

func (c *counts[K]) inc(key K) {
	if i := c.find(key); i >= 0 {
		(*c)[i].count++
		return
	}
	*c = append(*c, counted[K]{key, 1})
}

// find returns the position of key, or -1.
func (c counts[K]) find(key K) int {
	for i := range c {
		if c[i].key == key {
			return i
		}
	}
	return -1
}

// record applies a new observation: counters, ended calls, the health log
// and the answer shared under min_interval, with the answer's label values
// bounded by the gateway's folds. It is the only place state changes,
// under the agent's lock. askedAt is when the query was sent on the
// exporter's clock (Options.Now), zero if it was not.
func (s *agentState) record(obs *observation, askedAt time.Time, gw *gatewayTarget, histograms *callHistograms, agentID string, logger log.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	folds := gw.folds
	if obs.err != nil {
		obs.errKey = errorKeys.intern(folds.errorKey(obs.err), nil)
		s.errorCounts.inc(obs.errKey)
	} else {
		if obs.statusErr != nil {
			s.errorCounts.inc(errorKeys.intern(folds.errorKey(obs.statusErr), nil))
		}
		if call := obs.callInfo; call != nil {
			obs.labels = folds.callLabels(call)
		}
		for _, ended := range s.calls.observe(obs.sentAt, obs.callInfo) {
			key := leaveKey{folds.reason.value(ended.reason), ended.description}
			if key.reason == otherLabelValue {
				key.description = otherLabelValue
			}
			s.leaveCounts.inc(leaveKeys.intern(key, nil))
			if ended.call != nil {
				histograms.observe(ended.call, folds.skill.lookup(string(ended.call.CallSkill)), folds.mediaType.lookup(numberLabel(ended.call.MediaType)))
			}
		}
	}
	s.logHealthChange(obs, gw.name, agentID, logger)
	// The observation is kept for later scrapes to share only with
	// min_interval, aged by askedAt: otherwise nothing reads it, and at ten
	// thousand agents keeping every last answer costs megabytes. Only what
	// the gateway said is shared: a timeout belongs to the scrape whose
	// deadline or slot wait ran out, and another scrape may have the budget
	// to get an answer.
	switch {
	case gw.cfg.MinInterval <= 0:
		if s.share != nil {
			s.share.latest = nil
		}
	case obs.fromGateway():
		if share := s.sharing(); share.latest == nil || obs.sentAt.After(share.latest.sentAt) {
			share.latest, share.askedAt = obs, askedAt
		}
	}
}

// fromGateway reports whether the gateway itself answered: with a call,
// no call or a retcode.
func (o *observation) fromGateway() bool {
	return o.err == nil || o.err.Reason == gateway.ReasonRetcode
}

func (s *agentState) logHealthChange(obs *observation, gatewayName, agentID string, logger log.Logger) {
	health := okHealth
	if obs.err != nil {
		health = obs.errKey
	}
	if health == s.health {
		return
	}
	previous := s.health
	s.health = health
	switch {
	case obs.err != nil:
		level.Warn(logger).Log("msg", "agent query failing", "gateway", gatewayName, "agent_id", agentID,
			"reason", obs.err.Reason, "retcode", obs.err.Retcode, "err", obs.err)
	case previous != nil:
		level.Info(logger).Log("msg", "agent query recovered", "gateway", gatewayName, "agent_id", agentID)
	}
}

// errorSamples adds the agent's query error counters, as they stand now,
// to out.
func (s *agentState) errorSamples(out *sampleBuf) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.errorCounts {
		out.add(c.count, string(c.key.reason), c.key.retcode)
	}
}

// leaveSamples adds the agent's leave reason counters, as they stand now,
// to out, the preset reasons at 0 until they are first counted.
func (s *agentState) leaveSamples(out *sampleBuf) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.leaveCounts {
		out.add(c.count, c.key.reason, c.key.description)
	}
	for _, key := range presetLeaveKeys {
		if s.leaveCounts.find(key) < 0 {
			out.add(0, key.reason, key.description)
		}
	}
}

// observe adds an ended call, under its (bounded) skill and media type.
func (h *callHistograms) observe(call *gateway.CallInfo, skill, mediaType string) {
	if seconds, ok := waitSeconds(call, time.Time{}); ok {
		h.wait.WithLabelValues(skill, mediaType).Observe(seconds)
	}
	if seconds, ok := talkSeconds(call, time.Time{}); ok {
		h.talk.WithLabelValues(skill, mediaType).Observe(seconds)
	}
	if seconds, ok := ringSeconds(call, time.Time{}); ok {
		h.ring.WithLabelValues(skill, mediaType).Observe(seconds)
	}
}

// numberLabel renders a code for a label; "" when the gateway gave none.
func numberLabel(n gateway.Number) string {
	if !n.Valid() {
		return ""
	}
	return strconv.FormatInt(n.Value(), 10)
}

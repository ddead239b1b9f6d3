package collector

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// Skill-queue statistics: per gateway with `queues:` set, one queryacdstat
// per 100 skill ids and scrape, sent with the Guid of one of its agents.
// The answers are about the agent's VDN, not the agent, so any signed-in
// agent will do; one that answered its own last query is most likely
// signed in.

var (
	queueLabels = []string{"gateway", "skill_id", "skill"}

	queueCallsWaitingDesc = newDesc("queue_calls_waiting",
		"Calls waiting in the skill queue now, as answered on this scrape.", queueLabels)
	queueLongestWaitDesc = newDesc("queue_longest_wait_seconds",
		"How long the call waiting longest in the skill queue has waited, as answered on this scrape.", queueLabels)
	queueSignedInDesc = newDesc("queue_agents_signed_in",
		"Agents signed in to the skill queue, as answered on this scrape.", queueLabels)
	queueAvailableDesc = newDesc("queue_agents_available",
		"Agents of the skill queue available now, as answered on this scrape.", queueLabels)
	queueUpDesc = newDesc("queue_up",
		"1 if this scrape's statistics for the skill queue were answered, else 0 (and its other gauges are absent).", queueLabels)
	queueErrorsDesc = newDesc("queue_query_errors_total",
		"Failed skill-queue requests (statistics and discovery) by reason (timeout, transport, http, decode, retcode, no_guid) and gateway retcode.",
		[]string{"gateway", "reason", "retcode"})
)

// queueSkill is one skill queue to ask about; name is "" until discovery
// gives one.
type queueSkill struct {
	id   int64
	name string
}

// queueState is what a gateway remembers about its queues between
// scrapes; it lives across reloads as long as the gateway is configured.
type queueState struct {
	mu sync.Mutex
	// discovered is the last good discovery and discoveredAt when it was
	// made (the exporter's clock); tried is the last attempt, good or not,
	// so a failing discovery is retried at the interval, not every scrape,
	// once a list is known.
	discovered   []queueSkill
	discoveredAt time.Time
	tried        time.Time
	errorCounts  map[errorKey]float64
	// names are the last description answered per skill id, so a queue
	// keeps its skill label on a scrape whose statistics failed.
	names map[int64]string
}

func newQueueState() *queueState {
	return &queueState{errorCounts: map[errorKey]float64{}, names: map[int64]string{}}
}

// queueResult is one scrape's queue statistics of a gateway.
type queueResult struct {
	skills   []queueSkill
	answered map[int64]gateway.QueueStat
}

// count records a failed request, its retcode bounded by the gateway's folds.
func (q *queueState) count(gw *gatewayTarget, err *gateway.QueryError) {
	key := gw.folds.errorKey(err)
	q.mu.Lock()
	q.errorCounts[key]++
	q.mu.Unlock()
}

// queueAgent picks the agent whose Guid the queue requests carry: the
// configured one, else the first whose last query was answered, else the
// first with a usable Guid. Only an agent with a usable Guid is used.
func (gw *gatewayTarget) queueAgent(e *Exporter) (*agentTarget, string, bool) {
	if name := gw.cfg.Queues.Agent; name != "" {
		if a := gw.agent(name); a != nil {
			if guid, ok := gw.usableGUID(e, a); ok {
				return a, guid, true
			}
		}
		return nil, "", false
	}
	var fallback *agentTarget
	var fallbackGUID string
	for _, a := range gw.agents {
		guid, ok := gw.usableGUID(e, a)
		if !ok {
			continue
		}
		if a.state.answered() {
			return a, guid, true
		}
		if fallback == nil {
			fallback, fallbackGUID = a, guid
		}
	}
	return fallback, fallbackGUID, fallback != nil
}

// answered reports whether the agent's last query got an answer.
func (s *agentState) answered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.health == okHealth
}

// scrapeQueues asks for the statistics of every queue of the gateway, one
// request per batch of skills, under the gateway's slots and ctx.
func (gw *gatewayTarget) scrapeQueues(ctx context.Context, e *Exporter) *queueResult {
	q := gw.queues
	a, guid, ok := gw.queueAgent(e)
	skills := gw.queueSkills(ctx, e, a, guid, ok)
	result := &queueResult{skills: slices.Clone(skills), answered: map[int64]gateway.QueueStat{}}
	if !ok {
		// Nothing can be asked, neither statistics nor discovery.
		q.count(gw, &gateway.QueryError{Reason: reasonNoGUID, Err: errNoGUID})
		return result
	}
	if len(skills) == 0 {
		return result
	}
	ids := make([]int64, len(skills))
	for i, s := range skills {
		ids[i] = s.id
	}
	batches := gateway.SkillBatches(ids)
	answers := make([]map[int64]gateway.QueueStat, len(batches))
	var wg sync.WaitGroup
	for i, batch := range batches {
		wg.Go(func() {
			var answer *gateway.ACDStatAnswer
			err := gw.withSlot(ctx, func(reqCtx context.Context) (err error) {
				answer, err = gw.api().QueryACDStat(reqCtx, a.id, guid, batch)
				return err
			})
			if gw.failed(ctx, e, "queue statistics", err) {
				return
			}
			answers[i] = answer.ByID(batch)
		})
	}
	wg.Wait()
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, found := range answers {
		for id, stat := range found {
			result.answered[id] = stat
			if stat.Description != "" {
				q.names[id] = string(stat.Description)
			}
		}
	}
	for i, s := range result.skills {
		if s.name == "" {
			result.skills[i].name = q.names[s.id]
		}
	}
	return result
}

// queueSkills returns the skill queues to ask about: the configured ones,
// or the discovered ones, discovered again once discovery_interval has
// passed since the last attempt; a failed discovery keeps the last list.
func (gw *gatewayTarget) queueSkills(ctx context.Context, e *Exporter, a *agentTarget, guid string, haveAgent bool) []queueSkill {
	cfg, q := gw.cfg.Queues, gw.queues
	if !cfg.Discover() {
		skills := make([]queueSkill, len(cfg.Skills))
		for i, id := range cfg.Skills {
			skills[i] = queueSkill{id: id}
		}
		return skills
	}
	now := e.opts.Now()
	q.mu.Lock()
	// Until a first discovery succeeds there is nothing to show: try on
	// every scrape, one request each, no more than the statistics cost.
	due := q.discoveredAt.IsZero() || now.Sub(q.tried) >= time.Duration(cfg.DiscoveryInterval)
	if due && haveAgent {
		q.tried = now
	}
	skills := q.discovered
	q.mu.Unlock()
	if !due || !haveAgent {
		return skills
	}
	var answer *gateway.VDNSkillsAnswer
	err := gw.withSlot(ctx, func(reqCtx context.Context) (err error) {
		answer, err = gw.api().QueryVDNSkills(reqCtx, a.id, guid)
		return err
	})
	if gw.failed(ctx, e, "queue discovery", err) {
		return skills
	}
	discovered := make([]queueSkill, 0, min(len(answer.Skills), config.MaxQueues))
	seen := map[int64]bool{}
	for _, s := range answer.Skills {
		if id := s.ID.Value(); id > 0 && !seen[id] && len(discovered) < config.MaxQueues {
			seen[id] = true
			discovered = append(discovered, queueSkill{id: id, name: string(s.Name)})
		}
	}
	q.mu.Lock()
	q.discovered, q.discoveredAt = discovered, now
	q.mu.Unlock()
	return discovered
}

// failed counts and logs a failed queue request; false when err is nil.
// A request cut off by the scrape's client going away is not counted.
func (gw *gatewayTarget) failed(ctx context.Context, e *Exporter, what string, err error) bool {
	if err == nil {
		return false
	}
	var queryErr *gateway.QueryError
	if !errors.As(err, &queryErr) {
		queryErr = &gateway.QueryError{Reason: gateway.ReasonTransport, Err: err}
	}
	if queryErr.Reason == gateway.ReasonTimeout && abandoned(ctx) {
		return true
	}
	gw.queues.count(gw, queryErr)
	level.Debug(e.logger()).Log("msg", what+" failed", "gateway", gw.name, "reason", queryErr.Reason,
		"retcode", queryErr.Retcode, "err", queryErr)
	return true
}

// withSlot runs one request holding one of the gateway's slots, within
// the rate limit and the gateway's per-request timeout.
func (gw *gatewayTarget) withSlot(ctx context.Context, do func(context.Context) error) error {
	select {
	case gw.slots <- struct{}{}:
	case <-ctx.Done():
		return &gateway.QueryError{Reason: gateway.ReasonTimeout, Err: ctx.Err()}
	}
	defer func() { <-gw.slots }()
	if gw.limiter != nil {
		if err := gw.limiter.Wait(ctx); err != nil {
			return &gateway.QueryError{Reason: gateway.ReasonTimeout, Err: err}
		}
	}
	reqCtx, cancel := context.WithTimeout(ctx, time.Duration(gw.cfg.Timeout))
	defer cancel()
	return do(reqCtx)
}

// collectQueues emits a gateway's queue families: the gauges of every
// answered queue, queue_up for every queue asked about, and the errors.
func (gw *gatewayTarget) collectQueues(res *queueResult, ch chan<- prometheus.Metric) {
	if res == nil {
		return
	}
	for _, s := range res.skills {
		id := strconv.FormatInt(s.id, 10)
		stat, ok := res.answered[s.id]
		name := gw.folds.skill.value(s.name)
		ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, boolValue(ok), gw.name, id, name)
		if !ok {
			continue
		}
		for _, g := range []struct {
			desc *prometheus.Desc
			n    gateway.Number
		}{
			{queueCallsWaitingDesc, stat.CallsWaiting},
			{queueLongestWaitDesc, stat.LongestWaitSeconds},
			{queueSignedInDesc, stat.AgentsSignedIn},
			{queueAvailableDesc, stat.AgentsAvailable},
		} {
			if g.n.Valid() {
				ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(g.n.Value()), gw.name, id, name)
			}
		}
	}
	gw.queues.mu.Lock()
	defer gw.queues.mu.Unlock()
	for key, count := range gw.queues.errorCounts {
		ch <- prometheus.MustNewConstMetric(queueErrorsDesc, prometheus.CounterValue, count, gw.name, string(key.reason), key.retcode)
	}
}

package collector

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
	"time"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentgateway/agentgateway_exporter/gateway"
	"github.com/agentgateway/agentgateway_exporter/internal/guids"
)

// selection narrows a scrape to one gateway and, optionally, one shard of
// its agents (a stable hash of the agent id), so several scrape targets or
// exporter replicas can split a large gateway.
type selection struct {
	Gateway string // "" = every gateway
	Shard   int
	Shards  int // 0 or 1 = no sharding
}

// errUnknownGateway is returned for a selection naming no configured gateway.
var errUnknownGateway = errors.New("unknown gateway")

func (s selection) includes(agentID string) bool {
	if s.Shards <= 1 {
		return true
	}
	return shardOf(agentID, s.Shards) == s.Shard
}

// shardOf is the shard an agent id belongs to among n.
func shardOf(agentID string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(agentID))
	return int(h.Sum32() % uint32(n)) //nolint:gosec // n is a small positive shard count
}

// newScrape returns a collector that, when collected, queries the selected
// agents once within ctx and reports what it learned. It is registered in
// a fresh registry per HTTP request, like blackbox_exporter's probes, so
// each scrape carries its own deadline.
func (e *Exporter) newScrape(ctx context.Context, sel selection) (*scrape, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var targets []*gatewayTarget
	for _, gw := range e.gateways {
		if sel.Gateway == "" || sel.Gateway == gw.name {
			targets = append(targets, gw)
		}
	}
	if sel.Gateway != "" && len(targets) == 0 {
		return nil, errUnknownGateway
	}
	return &scrape{exporter: e, ctx: ctx, sel: sel, gateways: targets}, nil
}

type scrape struct {
	exporter *Exporter
	ctx      context.Context //nolint:containedctx // a scrape collector lives for one request
	sel      selection
	gateways []*gatewayTarget
}

// Describe sends nothing: the scrape is an unchecked collector because its
// series depend on what the gateways answer.
func (s *scrape) Describe(chan<- *prometheus.Desc) {}

// Collect queries every gateway in parallel, then emits.
func (s *scrape) Collect(ch chan<- prometheus.Metric) {
	r := s.run()
	r.collectGateways(ch)
	r.collectAgents(ch)
}

// scrapeResult is what one scrape learned, ready to be emitted.
type scrapeResult struct {
	started     time.Time
	deadline    time.Time
	hasDeadline bool
	gateways    []*gatewayTarget
	results     []gatewayResult
	// now is the clock for the running phase of calls; guidNow the one
	// Guid ages are measured on.
	now, guidNow time.Time
}

// run queries every selected agent of every selected gateway once, the
// gateways in parallel.
func (s *scrape) run() *scrapeResult {
	r := &scrapeResult{started: time.Now(), gateways: s.gateways, results: make([]gatewayResult, len(s.gateways))}
	r.deadline, r.hasDeadline = s.ctx.Deadline()
	var wg sync.WaitGroup
	for i, gw := range s.gateways {
		wg.Go(func() {
			r.results[i] = gw.scrape(s.ctx, s.exporter, s.sel)
		})
	}
	wg.Wait()
	if abandoned(s.ctx) {
		level.Debug(s.exporter.logger()).Log("msg", "scrape abandoned by its client; the queries it cut off are not counted",
			"err", context.Cause(s.ctx))
	}
	r.now = s.exporter.opts.Now()
	r.guidNow = s.exporter.guids.Now()
	return r
}

type gatewayResult struct {
	agents       []*agentTarget
	observations []*observation
	histograms   *callHistograms
	duration     time.Duration
	// guidTimes are when each agent's Guid was supplied, after its query,
	// in Unix nanoseconds of the Guid clock; 0 for none. A third of a
	// time.Time, at ten thousand agents a scrape's 160 KiB.
	guidTimes []int64
	// updates are the gateway's Guid update counts; nil for a shard other
	// than the first, so that shards scraped separately do not repeat them.
	updates []guids.UpdateCount
	// queues are the skill-queue statistics; nil without `queues:` and,
	// like updates, for a shard other than the first.
	queues *queueResult
}

// scrape queries the selected agents with at most `concurrency` workers;
// the gateway-wide slots keep concurrent scrapes within the same bound.
func (gw *gatewayTarget) scrape(ctx context.Context, e *Exporter, sel selection) gatewayResult {
	started := time.Now()
	// Without sharding a scrape takes every agent: the target's own list,
	// never changed once built, rather than a copy per scrape.
	agents := gw.agents
	if sel.Shards > 1 {
		agents = nil
		for _, a := range gw.agents {
			if sel.includes(a.id) {
				agents = append(agents, a)
			}
		}
	}
	histograms := gw.histograms.forSelection(sel)
	result := gatewayResult{agents: agents, observations: make([]*observation, len(agents)), histograms: histograms,
		guidTimes: make([]int64, len(agents))}
	if gw.dir != nil {
		gw.dir.refresh(gw.guidReader(e), gw.agent)
	}
	gw.refreshConn(e.logger())
	next := make(chan int)
	var wg sync.WaitGroup
	if gw.cfg.Queues != nil && (sel.Shards <= 1 || sel.Shard == 0) {
		wg.Go(func() { result.queues = gw.scrapeQueues(ctx, e) })
	}
	for range min(cap(gw.slots), len(agents)) {
		wg.Go(func() {
			for i := range next {
				result.observations[i] = gw.observe(ctx, e, agents[i], histograms)
				if _, at, ok := agents[i].cell.Get(); ok {
					result.guidTimes[i] = at.UnixNano()
				}
			}
		})
	}
	for i := range agents {
		next <- i
	}
	close(next)
	wg.Wait()
	result.duration = time.Since(started)
	e.status.record(gw.name, started, result.observations)
	if sel.Shards <= 1 || sel.Shard == 0 {
		result.updates = e.guids.Updates(gw.name)
	}
	return result
}

// observe returns the agent's answer for this scrape: a fresh query, or,
// with min_interval, one the gateway gave another scrape close in time (on
// the exporter's clock). A scrape that waited for another's query which
// then ended without an answer from the gateway asks the gateway itself.
// An agent without a usable Guid is not queried.
func (gw *gatewayTarget) observe(ctx context.Context, e *Exporter, a *agentTarget, histograms *callHistograms) *observation {
	guid, ok := gw.usableGUID(e, a)
	if !ok {
		obs := noGUID(time.Now())
		a.state.record(obs, time.Time{}, gw, histograms, a.id, e.logger())
		return obs
	}
	minInterval := time.Duration(gw.cfg.MinInterval)
	if minInterval <= 0 {
		return gw.query(ctx, e, a, guid, histograms)
	}
	started := time.Now()
	for {
		a.state.mu.Lock()
		share := a.state.sharing()
		if latest := share.latest; latest != nil && e.opts.Now().Sub(share.askedAt) < minInterval {
			a.state.mu.Unlock()
			return latest
		}
		waitFor := share.inFlight
		if waitFor == nil {
			done := make(chan struct{})
			share.inFlight = done
			a.state.mu.Unlock()
			obs := gw.query(ctx, e, a, guid, histograms)
			a.state.mu.Lock()
			share.inFlight = nil
			a.state.mu.Unlock()
			close(done)
			return obs
		}
		a.state.mu.Unlock()
		select {
		case <-waitFor:
		case <-ctx.Done():
			return gw.finish(ctx, e, a, histograms, timedOut(started, ctx.Err()), time.Time{})
		}
	}
}

func timedOut(sentAt time.Time, err error) *observation {
	return &observation{
		sentAt:   sentAt,
		duration: time.Since(sentAt),
		err:      &gateway.QueryError{Reason: gateway.ReasonTimeout, Err: err},
	}
}

// query sends one request and records its outcome in the agent's state.
// It waits for a slot, the rate limiter and sends within the request
// timeout as every query to the gateway does (withSlot); a local timeout
// before sending is an observation of its own.
func (gw *gatewayTarget) query(ctx context.Context, e *Exporter, a *agentTarget, guid string, histograms *callHistograms) *observation {
	queued := time.Now()
	var (
		obs     *observation
		askedAt time.Time
	)
	err := gw.withSlot(ctx, func(reqCtx context.Context) error {
		sentAt := time.Now()
		askedAt = e.opts.Now()
		answer, newGUID, err := gw.api().QueryCallInfoGUID(reqCtx, a.id, guid, gw.cfg.IncludesLastCall())
		gw.adoptHeaderGUID(e, a, guid, newGUID)
		obs = &observation{sentAt: sentAt, duration: time.Since(queued)}
		if answer != nil {
			obs.callInfo = answer.Call
		}
		if err != nil {
			var queryErr *gateway.QueryError
			errors.As(err, &queryErr)
			obs.err = queryErr
		}
		if gw.cfg.AgentState && obs.err == nil {
			gw.queryStatus(ctx, a, guid, obs)
		}
		return nil
	})
	if obs == nil { // no slot or no rate before the deadline: nothing was sent
		var queryErr *gateway.QueryError
		errors.As(err, &queryErr)
		obs = &observation{sentAt: queued, duration: time.Since(queued), err: queryErr}
	}
	return gw.finish(ctx, e, a, histograms, obs, askedAt)
}

// finish records a query's outcome, unless the scrape was abandoned by its
// client: a query its cancellation cut off says nothing about the gateway,
// so it is neither counted nor logged as a failing agent (the scrape logs
// it once, at debug). The scrape's own deadline running out is a timeout.
// askedAt is when the query was sent on the exporter's clock, zero if it
// was not.
func (gw *gatewayTarget) finish(ctx context.Context, e *Exporter, a *agentTarget, histograms *callHistograms, obs *observation, askedAt time.Time) *observation {
	if obs.err != nil && obs.err.Reason == gateway.ReasonTimeout && abandoned(ctx) {
		return obs
	}
	a.state.record(obs, askedAt, gw, histograms, a.id, e.logger())
	return obs
}

// abandoned tells a scrape cancelled by its client from one whose deadline
// ran out: the handler's deadline, and any deadline above it, end the
// context with DeadlineExceeded; only the request going away cancels it.
func abandoned(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled)
}

// collectGateways emits everything that is not per agent: the scrape's
// deadline, the gateway gauges and the call histograms.
func (r *scrapeResult) collectGateways(ch chan<- prometheus.Metric) {
	if r.hasDeadline {
		ch <- prometheus.MustNewConstMetric(scrapeDeadlineDesc, prometheus.GaugeValue, r.deadline.Sub(r.started).Seconds())
	}
	for i, gw := range r.gateways {
		res := &r.results[i]
		if up, asked := gatewayUp(res.observations); asked {
			ch <- prometheus.MustNewConstMetric(gatewayUpDesc, prometheus.GaugeValue, up, gw.name)
		}
		if ttl := time.Duration(gw.cfg.GUIDTTL); ttl > 0 {
			ch <- prometheus.MustNewConstMetric(gatewayGUIDTTLDesc, prometheus.GaugeValue, ttl.Seconds(), gw.name)
		}
		for _, u := range res.updates {
			ch <- prometheus.MustNewConstMetric(guidUpdatesDesc, prometheus.CounterValue, u.Count, gw.name, string(u.Source), u.Result)
		}
		ch <- prometheus.MustNewConstMetric(gatewayScrapeDurationDesc, prometheus.GaugeValue, res.duration.Seconds(), gw.name)
		ch <- prometheus.MustNewConstMetric(gatewayAgentsDesc, prometheus.GaugeValue, float64(len(res.agents)), gw.name)
		res.histograms.collect(ch)
		gw.collectQueues(res.queues, ch)
		for _, fold := range gw.folds.all() {
			ch <- prometheus.MustNewConstMetric(labelValuesFoldedDesc, prometheus.CounterValue, float64(fold.folded.Load()), gw.name, fold.label)
		}
	}
}

// gatewayUp is 1 when a query got a decodable answer. Agents without a
// usable Guid were not queried and say nothing about the gateway: when no
// agent was queried, asked is false and gateway_up is left out rather than
// guessed.
func gatewayUp(observations []*observation) (up float64, asked bool) {
	for _, obs := range observations {
		switch {
		case obs.err != nil && obs.err.Reason == reasonNoGUID:
		case obs.err == nil || obs.err.Reason == gateway.ReasonRetcode:
			return 1, true
		default:
			asked = true
		}
	}
	return 0, asked
}

// collectAgents emits the per-agent families as const metrics.
func (r *scrapeResult) collectAgents(ch chan<- prometheus.Metric) {
	var buf sampleBuf
	for _, ref := range r.refs(false) {
		view := r.view(ref)
		for _, f := range agentFamilies {
			buf.reset(&view)
			f.samples(&view, r.now, &buf)
			for _, s := range buf.samples {
				labelValues := append([]string{view.gateway, view.id}, s.extra[:len(f.labels)-2]...)
				ch <- prometheus.MustNewConstMetric(f.desc, f.typ, s.value, labelValues...)
			}
		}
	}
}

package simulator

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
)

// Desktop is a session owner, the part of an agent desktop that the exporter depends on: it signs
// agents in, long-polls their events so that the gateway keeps them signed in, picks up every new Guid
// from the Set-GUID header, and pushes the Guids that changed to the exporter's push API. Agents the
// gateway signed out (100-006) are signed in again. It is safe for concurrent use.
type Desktop struct {
	o       DesktopOptions
	logger  log.Logger
	base    string
	pushFor string // the push URL without a password, for the log
	gateway *http.Client
	push    *http.Client
	owned   *http.Transport // closed on Close when the desktop made the gateway client
	agents  []*deskAgent
	ready   chan *deskAgent // agents due for a sign-in or poll
	// Agents waiting for their next turn. Each agent is in one place at a time: ready, a line or a poller.
	repoll, retry chan waiting

	polling, pushing gate
	pollMu           sync.RWMutex // read-held by each poll and sign-in, so that PausePolling can wait for them
	pushMu           sync.Mutex   // held while a push is sent, so that PausePushes can wait for it
	mu               sync.Mutex   // guards dirty
	dirty            map[*deskAgent]struct{}
	batch            int
	wake             chan struct{}

	stats     desktopCounters
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

type deskAgent struct {
	id   string
	mu   sync.Mutex
	guid string // "" while not signed in
	// Only the poller that holds the agent touches these.
	badPolls int  // 000-003 answers in a row
	failing  bool // the last sign-in or poll failed, and was logged
}

func (a *deskAgent) currentGUID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.guid
}

type desktopCounters struct {
	signIns, signInFailures, polls, pollFailures, renewals, pushes, pushFailures, accepted, rejected atomic.Int64
}

// DesktopStats are the desktop's counters.
type DesktopStats struct {
	SignIns        int64 // successful sign-ins, forced ones included
	SignInFailures int64 // sign-ins that failed or were refused
	Polls          int64 // polls answered with retcode 0
	PollFailures   int64 // polls that failed or were refused
	Renewals       int64 // new Guids taken from poll answers
	Pushes         int64 // pushes the exporter answered with 200
	PushFailures   int64 // pushes that failed, to be sent again
	GuidsAccepted  int64 // Guids the exporter accepted
	GuidsRejected  int64 // Guids the exporter rejected by name
	SignedIn       int   // agents holding a Guid now
}

// StartDesktop signs the agents in and keeps them signed in until ctx ends or Close. Their Guids are
// pushed as soon as they are known, and again until the exporter takes them, so the exporter may start
// later. It returns an error only for unusable options.
func StartDesktop(ctx context.Context, o DesktopOptions) (*Desktop, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("desktop: %w", err)
	}
	d := &Desktop{
		o:       o,
		logger:  o.Logger,
		base:    strings.TrimSuffix(o.GatewayURL, "/"),
		gateway: o.GatewayClient,
		push:    o.PushClient,
		ready:   make(chan *deskAgent, len(o.AgentIDs)),
		repoll:  make(chan waiting, len(o.AgentIDs)),
		retry:   make(chan waiting, len(o.AgentIDs)),
		dirty:   map[*deskAgent]struct{}{},
		batch:   o.PushBatch,
		wake:    make(chan struct{}, 1),
	}
	if u, err := url.Parse(o.PushURL); err == nil {
		d.pushFor = u.Redacted()
	}
	d.polling.init()
	d.pushing.init()
	if d.gateway == nil {
		d.gateway, d.owned, err = gatewayClient(o.GatewayCACertPEM, o.Pollers)
		if err != nil {
			return nil, fmt.Errorf("desktop: %w", err)
		}
	}
	for _, id := range o.AgentIDs {
		a := &deskAgent{id: id}
		d.agents = append(d.agents, a)
		d.ready <- a
	}
	ctx, d.cancel = context.WithCancel(ctx)
	for range o.Pollers {
		d.wg.Go(func() { d.poller(ctx) })
	}
	d.wg.Go(func() { d.delayLine(ctx, d.repoll) })
	d.wg.Go(func() { d.delayLine(ctx, d.retry) })
	if o.PushURL != "" {
		d.wg.Go(func() { d.pusher(ctx) })
	}
	return d, nil
}

// Close stops polling and pushing and waits for both. The agents stay signed in at the gateway until
// it signs them out for want of polls.
func (d *Desktop) Close() {
	d.closeOnce.Do(func() {
		d.cancel()
		d.wg.Wait()
		if d.owned != nil {
			d.owned.CloseIdleConnections()
		}
	})
}

// PausePolling stops the polls and sign-ins, so that the gateway signs the agents out after its idle
// time; when it returns, none is in flight. After ResumePolling the agents are signed in again.
func (d *Desktop) PausePolling() {
	d.polling.pause()
	d.pollMu.Lock()
	defer d.pollMu.Unlock()
}

// ResumePolling undoes PausePolling.
func (d *Desktop) ResumePolling() { d.polling.resume() }

// PausePushes stops the pushes while polling goes on; when it returns, no push is on its way. The
// Guids that change meanwhile go out on ResumePushes.
func (d *Desktop) PausePushes() {
	d.pushing.pause()
	d.pushMu.Lock()
	defer d.pushMu.Unlock()
}

// ResumePushes undoes PausePushes.
func (d *Desktop) ResumePushes() {
	d.pushing.resume()
	d.poke()
}

// Stats returns the desktop's counters.
func (d *Desktop) Stats() DesktopStats {
	st := DesktopStats{
		SignIns:        d.stats.signIns.Load(),
		SignInFailures: d.stats.signInFailures.Load(),
		Polls:          d.stats.polls.Load(),
		PollFailures:   d.stats.pollFailures.Load(),
		Renewals:       d.stats.renewals.Load(),
		Pushes:         d.stats.pushes.Load(),
		PushFailures:   d.stats.pushFailures.Load(),
		GuidsAccepted:  d.stats.accepted.Load(),
		GuidsRejected:  d.stats.rejected.Load(),
	}
	for _, a := range d.agents {
		if a.currentGUID() != "" {
			st.SignedIn++
		}
	}
	return st
}

// serve signs the agent in or polls its events once the gate is open, and returns how long the
// agent waits for its next turn; ok is false when ctx ended.
func (d *Desktop) serve(ctx context.Context, a *deskAgent) (next turn, ok bool) {
	for {
		if d.polling.wait(ctx) != nil {
			return turnNow, false
		}
		d.pollMu.RLock()
		if d.polling.isOpen() {
			break
		}
		d.pollMu.RUnlock()
	}
	defer d.pollMu.RUnlock()
	if a.currentGUID() == "" {
		next = d.signIn(ctx, a)
	} else {
		next = d.poll(ctx, a)
	}
	return next, ctx.Err() == nil
}

// turn is when an agent is served next.
type turn uint8

const (
	turnNow    turn = iota // at once: a sign-in is followed by the first poll
	turnRepoll             // after RepollDelay
	turnRetry              // after RetryDelay
)

// waiting is an agent in one of the delay lines, due at a time.
type waiting struct {
	due time.Time
	a   *deskAgent
}

// delayLine hands the agents of one line back to the pollers when they are due. All of a line's
// agents wait the same delay, so first in is first due, and one goroutine per line serves thousands
// of agents where a timer each would start a goroutine each.
func (d *Desktop) delayLine(ctx context.Context, line <-chan waiting) {
	for {
		select {
		case w := <-line:
			if !sleepContext(ctx, time.Until(w.due)) {
				return
			}
			d.ready <- w.a
		case <-ctx.Done():
			return
		}
	}
}

// poller takes the agents that are due one at a time: a sign-in for one without a Guid, else a poll.
func (d *Desktop) poller(ctx context.Context) {
	for {
		var a *deskAgent
		select {
		case a = <-d.ready:
		case <-ctx.Done():
			return
		}
		next, ok := d.serve(ctx, a)
		if !ok {
			return
		}
		// Each channel holds every agent, so putting one back never blocks.
		switch next {
		case turnNow:
			d.ready <- a
		case turnRepoll:
			d.repoll <- waiting{time.Now().Add(d.o.RepollDelay), a}
		default:
			d.retry <- waiting{time.Now().Add(d.o.RetryDelay), a}
		}
	}
}

package simulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
)

// DesktopOptions configure a Desktop. GatewayURL and AgentIDs are required.
type DesktopOptions struct {
	// GatewayURL is the gateway's base URL without the /agentgateway path, such as Server.URL().
	GatewayURL string
	// GatewayClient talks to the gateway. Default: a client of the desktop's own whose connection pool
	// fits Pollers, trusting GatewayCACertPEM when given. A client's Timeout must exceed the poll wait.
	GatewayClient *http.Client
	// GatewayCACertPEM is the certificate the default client trusts, such as Server.CACertPEM().
	GatewayCACertPEM []byte
	// AgentIDs are the agents to sign in and keep signed in.
	AgentIDs []string

	// PushURL is the exporter's Guid push endpoint, such as http://127.0.0.1:9712/api/v1/guids.
	// Empty: nothing is pushed; the desktop only keeps the sessions alive.
	PushURL string
	// PushToken is sent as "Authorization: Bearer <token>".
	PushToken string
	// PushClient talks to the exporter (default: a client with a 30s timeout).
	PushClient *http.Client
	// Gateway names the gateway in the pushes, as the exporter's configuration does (default ConfigGateway).
	Gateway string

	// Pollers bounds the event polls in flight, and so the goroutines and connections towards the
	// gateway (default: one per agent up to 256). A poll holds its connection for up to the gateway's
	// poll wait, so each agent is polled about every len(AgentIDs)/Pollers waits; keep that well
	// inside the gateway's idle sign-out (2 minutes) and, with dynamic authentication, its Guid timeout.
	Pollers int
	// PollTimeout bounds one request to the gateway (default 30s, three times the gateway's poll wait).
	PollTimeout time.Duration
	// RepollDelay is the pause before an agent is polled again (default 300ms; the gateway asks for 200-500ms).
	RepollDelay time.Duration
	// RetryDelay is the pause after a failed sign-in, poll or push (default 2s).
	RetryDelay time.Duration
	// PushDelay gathers the Guids that change within it into one push (default 200ms).
	PushDelay time.Duration
	// PushBatch is the most Guids one push carries (default 1000); an answer 413 halves it.
	PushBatch int
	// ResyncInterval pushes every Guid again this often, so that an exporter that restarted, and so
	// lost the Guids it keeps only in memory, has them back before the next renewal (default: never).
	ResyncInterval time.Duration
	// Logger gets warnings about sign-ins, polls and pushes (default: none). It is never given a Guid or the token.
	Logger log.Logger
}

const (
	defaultMaxPollers  = 256
	defaultPollTimeout = 30 * time.Second
	defaultRepollDelay = 300 * time.Millisecond
	defaultRetryDelay  = 2 * time.Second
	defaultPushDelay   = 200 * time.Millisecond
	defaultPushBatch   = 1000
	maxAnswerSize      = 1 << 20
	// badPollsBeforeSignIn: the gateway's own demo desktop tolerates a few 000-003 answers before
	// it gives a session up; the code can be transient.
	badPollsBeforeSignIn = 3
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
	mu               sync.Mutex
	dirty            map[*deskAgent]struct{}
	batch            int
	wake             chan struct{}

	stats     desktopCounters
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

type deskAgent struct {
	id       string
	mu       sync.Mutex
	guid     string // "" while not signed in
	badPolls int    // only touched by the poller that holds the agent
}

func (a *deskAgent) currentGUID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.guid
}

type desktopCounters struct {
	signIns, polls, pollFailures, renewals, pushes, pushFailures, accepted, rejected atomic.Int64
}

// DesktopStats are the desktop's counters.
type DesktopStats struct {
	SignIns       int64 // successful sign-ins, forced ones included
	Polls         int64 // polls answered with retcode 0
	PollFailures  int64 // polls that failed or were refused
	Renewals      int64 // new Guids taken from poll answers
	Pushes        int64 // pushes the exporter answered with 200
	PushFailures  int64 // pushes that failed, to be sent again
	GuidsAccepted int64 // Guids the exporter accepted
	GuidsRejected int64 // Guids the exporter rejected by name
	SignedIn      int   // agents holding a Guid now
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

func (o DesktopOptions) withDefaults() (DesktopOptions, error) {
	var errs []error
	if !isHTTPURL(o.GatewayURL) {
		errs = append(errs, fmt.Errorf("gateway URL %q is not an http or https URL", o.GatewayURL))
	}
	if o.PushURL != "" && !isHTTPURL(o.PushURL) {
		errs = append(errs, fmt.Errorf("push URL %q is not an http or https URL", o.PushURL))
	}
	if len(o.AgentIDs) == 0 {
		errs = append(errs, errors.New("no agents"))
	}
	seen := make(map[string]bool, len(o.AgentIDs))
	for _, id := range o.AgentIDs {
		if seen[id] || id == "" || strings.ContainsAny(id, "/?#") {
			errs = append(errs, fmt.Errorf("agent id %q is empty, repeated or not a path segment", id))
		}
		seen[id] = true
	}
	if o.Pollers < 0 || o.PushBatch < 0 {
		errs = append(errs, errors.New("pollers and push batch must not be negative"))
	}
	if o.Pollers == 0 {
		o.Pollers = defaultMaxPollers
	}
	o.Pollers = max(1, min(o.Pollers, len(o.AgentIDs)))
	o.PollTimeout = meanOrDefault(o.PollTimeout, defaultPollTimeout)
	o.RepollDelay = meanOrDefault(o.RepollDelay, defaultRepollDelay)
	o.RetryDelay = meanOrDefault(o.RetryDelay, defaultRetryDelay)
	o.PushDelay = meanOrDefault(o.PushDelay, defaultPushDelay)
	if o.PushBatch == 0 {
		o.PushBatch = defaultPushBatch
	}
	if o.Gateway == "" {
		o.Gateway = ConfigGateway
	}
	if o.PushClient == nil {
		o.PushClient = &http.Client{Timeout: defaultPollTimeout}
	}
	if o.Logger == nil {
		o.Logger = log.NewNopLogger()
	}
	return o, errors.Join(errs...)
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// gatewayClient keeps one idle connection per poller, where the default transport keeps two per host
// and would open and close connections all the time.
func gatewayClient(caPEM []byte, pollers int) (*http.Client, *http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = pollers
	t.MaxIdleConns = pollers
	if caPEM != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, nil, errors.New("the gateway's CA certificate is not PEM")
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: t}, t, nil
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
		SignIns:       d.stats.signIns.Load(),
		Polls:         d.stats.polls.Load(),
		PollFailures:  d.stats.pollFailures.Load(),
		Renewals:      d.stats.renewals.Load(),
		Pushes:        d.stats.pushes.Load(),
		PushFailures:  d.stats.pushFailures.Load(),
		GuidsAccepted: d.stats.accepted.Load(),
		GuidsRejected: d.stats.rejected.Load(),
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

package simulator

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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
	o.Pollers = max(1, min(cmp.Or(o.Pollers, defaultMaxPollers), len(o.AgentIDs)))
	o.PollTimeout = meanOrDefault(o.PollTimeout, defaultPollTimeout)
	o.RepollDelay = meanOrDefault(o.RepollDelay, defaultRepollDelay)
	o.RetryDelay = meanOrDefault(o.RetryDelay, defaultRetryDelay)
	o.PushDelay = meanOrDefault(o.PushDelay, defaultPushDelay)
	o.PushBatch = cmp.Or(o.PushBatch, defaultPushBatch)
	o.Gateway = cmp.Or(o.Gateway, ConfigGateway)
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

// Package collector turns CC-Gateway answers into Prometheus metrics: one
// query per configured agent on every scrape, with the state that counters
// and histograms need between scrapes.
package collector

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	promconfig "github.com/prometheus/common/config"
	"golang.org/x/time/rate"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// Options are the exporter-wide settings that do not come from agents.yml.
type Options struct {
	Logger log.Logger
	// NativeHistograms adds native (sparse) buckets to the call histograms.
	NativeHistograms bool
	// Now is the clock for the running phase of calls; tests replace it.
	Now func() time.Time
}

// Exporter holds the configured gateways and everything remembered about
// their agents. One Exporter serves every scrape; configuration can be
// swapped while scrapes run.
type Exporter struct {
	opts Options

	mu       sync.RWMutex
	gateways []*gatewayTarget
}

// New returns an exporter with no gateways; call ApplyConfig.
func New(opts Options) *Exporter {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Exporter{opts: opts}
}

type gatewayTarget struct {
	name       string
	cfg        *config.Gateway
	client     *gateway.Client
	httpClient *http.Client
	// slots bounds requests in flight to this gateway across all
	// concurrent scrapes, not per scrape.
	slots      chan struct{}
	limiter    *rate.Limiter
	histograms *histogramSets
	agents     []*agentTarget
}

type agentTarget struct {
	id    string
	guid  *guidSource
	state *agentState
}

// ApplyConfig replaces the configuration. State of agents that stay (same
// gateway name and agent id) is kept, so counters never reset on reload;
// agents that go are forgotten and vanish from the output.
func (e *Exporter) ApplyConfig(cfg *config.Config) error {
	e.mu.RLock()
	previous := map[string]*gatewayTarget{}
	for _, gw := range e.gateways {
		previous[gw.name] = gw
	}
	e.mu.RUnlock()

	next := make([]*gatewayTarget, 0, len(cfg.Gateways))
	for _, gwCfg := range cfg.Gateways {
		gw, err := e.newGatewayTarget(gwCfg, previous[gwCfg.Name])
		if err != nil {
			for _, built := range next {
				built.release(previous[built.name])
			}
			return err
		}
		next = append(next, gw)
	}

	e.mu.Lock()
	e.gateways = next
	e.mu.Unlock()

	for _, gw := range next {
		delete(previous, gw.name)
	}
	for _, gone := range previous {
		gone.httpClient.CloseIdleConnections()
	}
	return nil
}

func (e *Exporter) newGatewayTarget(cfg *config.Gateway, previous *gatewayTarget) (*gatewayTarget, error) {
	// The gateway's settings without its agent list, which the targets
	// below replace: at ten thousand agents the list is most of a megabyte.
	settings := *cfg
	settings.Agents = nil
	gw := &gatewayTarget{
		name:  cfg.Name,
		cfg:   &settings,
		slots: make(chan struct{}, cfg.Concurrency),
	}
	if cfg.MaxRequestsPerSecond > 0 {
		gw.limiter = rate.NewLimiter(rate.Limit(cfg.MaxRequestsPerSecond), max(1, int(cfg.MaxRequestsPerSecond)))
	}
	keepState := map[string]*agentState{}
	if previous != nil {
		gw.histograms = previous.histograms
		for _, a := range previous.agents {
			keepState[a.id] = a.state
		}
		if sameConnection(previous.cfg, cfg) {
			gw.httpClient, gw.client = previous.httpClient, previous.client
		}
		if previous.cfg.Concurrency == cfg.Concurrency {
			gw.slots = previous.slots
		}
	}
	if gw.histograms == nil {
		gw.histograms = &histogramSets{gateway: cfg.Name, native: e.opts.NativeHistograms}
	}
	if gw.httpClient == nil {
		httpClient, err := promconfig.NewClientFromConfig(cfg.HTTPClientConfig, "agentgateway_"+cfg.Name)
		if err != nil {
			return nil, err
		}
		httpClient.Timeout = 0 // the per-request context carries the timeout
		gw.httpClient = httpClient
		gw.client = gateway.NewClient(cfg.BaseURL, httpClient)
	}
	for _, agentCfg := range cfg.Agents {
		state := keepState[agentCfg.ID]
		if state == nil {
			state = newAgentState()
		}
		gw.agents = append(gw.agents, &agentTarget{id: agentCfg.ID, guid: newGUIDSource(agentCfg), state: state})
	}
	// In the order of the exposition formats, so a scrape need not sort.
	slices.SortFunc(gw.agents, func(a, b *agentTarget) int { return strings.Compare(a.id, b.id) })
	return gw, nil
}

// release closes a client built for a configuration that was not applied.
func (gw *gatewayTarget) release(previous *gatewayTarget) {
	if previous == nil || previous.httpClient != gw.httpClient {
		gw.httpClient.CloseIdleConnections()
	}
}

// sameConnection reports whether a reload can keep the old HTTP client and
// its warm keep-alive connections.
func sameConnection(a, b *config.Gateway) bool {
	return a.BaseURL.String() == b.BaseURL.String() && reflect.DeepEqual(a.HTTPClientConfig, b.HTTPClientConfig)
}

// Agents is the number of configured agents, for logs.
func (e *Exporter) Agents() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	n := 0
	for _, gw := range e.gateways {
		n += len(gw.agents)
	}
	return n
}

func (e *Exporter) logger() log.Logger { return e.opts.Logger }

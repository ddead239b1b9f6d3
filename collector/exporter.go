// Package collector turns CC-Gateway answers into Prometheus metrics: one
// query per configured agent on every scrape, with the state that counters
// and histograms need between scrapes.
package collector

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"golang.org/x/time/rate"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/internal/guids"
)

// Options are the exporter-wide settings that do not come from agents.yml.
type Options struct {
	Logger log.Logger
	// NativeHistograms adds native (sparse) buckets to the call histograms.
	NativeHistograms bool
	// Now is the clock for the running phase of calls; tests replace it.
	Now func() time.Time
	// GUIDs receives Guids from outside (the push API) and is the clock of
	// Guid ages and guid_ttl; nil = a store of its own on Now.
	GUIDs *guids.Store
}

// Exporter holds the configured gateways and everything remembered about
// their agents. One Exporter serves every scrape; configuration can be
// swapped while scrapes run.
type Exporter struct {
	opts  Options
	guids *guids.Store

	mu       sync.RWMutex
	gateways []*gatewayTarget
	status   statusBoard // latest scrape per gateway, for the landing page
}

// New returns an exporter with no gateways; call ApplyConfig.
func New(opts Options) *Exporter {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	store := opts.GUIDs
	if store == nil {
		store = guids.NewStore(opts.Now)
	}
	return &Exporter{opts: opts, guids: store}
}

type gatewayTarget struct {
	name string
	cfg  *config.Gateway
	// conn is the HTTP client; refreshConn replaces it when a file of
	// its settings changes.
	conn atomic.Pointer[gatewayConn]
	// slots bounds requests in flight to this gateway across all
	// concurrent scrapes, not per scrape.
	slots      chan struct{}
	limiter    *rate.Limiter
	histograms *histogramSets
	folds      *labelFolds
	queues     *queueState
	agents     []*agentTarget
	dir        *guidDir // nil without guid_dir
	// guidChanges are what agents.yml changed about Guids (an inline Guid
	// set, changed or removed; a guid_file or guid_dir dropped), made only
	// once the configuration is applied: cells are shared with the
	// running configuration.
	guidChanges []func()
}

type agentTarget struct {
	id string
	// cell holds the Guid the agent's queries carry, from whichever source
	// supplied it last; inline is the agents.yml value last offered to it.
	cell   *guids.Cell
	inline string
	file   *guidFile // nil without guid_file
	state  *agentState
}

// cell is the Guid cell of the agent with the id, nil for an agent not
// configured; the agents are not changed once the target is built.
func (gw *gatewayTarget) cell(id string) *guids.Cell {
	if a := gw.agent(id); a != nil {
		return a.cell
	}
	return nil
}

// agent is the configured agent with the id, or nil. The agents are
// sorted by id; a search in them needs no index beside them, which at ten
// thousand agents would be half a megabyte.
func (gw *gatewayTarget) agent(id string) *agentTarget {
	i, found := slices.BinarySearchFunc(gw.agents, id, func(a *agentTarget, id string) int { return strings.Compare(a.id, id) })
	if !found {
		return nil
	}
	return gw.agents[i]
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

	cells := make(map[string]guids.Cells, len(next))
	for _, gw := range next {
		for _, change := range gw.guidChanges {
			change()
		}
		gw.guidChanges = nil
		cells[gw.name] = gw.cell
	}
	e.mu.Lock()
	e.gateways = next
	e.guids.Configure(cells)
	e.mu.Unlock()

	// Clients no longer used (gateways removed, or reached another way)
	// let go of their keep-alive connections. A request still running on
	// one returns its connection later; that one idles out on its own.
	for _, gw := range next {
		if old := previous[gw.name]; old != nil && old.conn.Load() == gw.conn.Load() {
			delete(previous, gw.name)
		}
	}
	for _, replaced := range previous {
		replaced.conn.Load().httpClient.CloseIdleConnections()
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
	keep := map[string]*agentTarget{}
	if previous != nil {
		gw.histograms, gw.folds, gw.queues = previous.histograms, previous.folds, previous.queues
		for _, a := range previous.agents {
			keep[a.id] = a
		}
		if sameConnection(previous.cfg, cfg) {
			gw.conn.Store(previous.conn.Load())
		}
		if previous.cfg.Concurrency == cfg.Concurrency {
			gw.slots = previous.slots
		}
	}
	if gw.histograms == nil {
		gw.histograms = &histogramSets{gateway: cfg.Name, native: e.opts.NativeHistograms}
	}
	if gw.folds == nil {
		gw.folds = newLabelFolds()
	}
	if gw.queues == nil {
		gw.queues = newQueueState()
	}
	if gw.conn.Load() == nil {
		conn, err := newGatewayConn(cfg)
		if err != nil {
			return nil, err
		}
		gw.conn.Store(conn)
	}
	gw.setGUIDDir(previous)
	droppedDir := previous != nil && previous.dir != nil && gw.dir == nil
	for _, agentCfg := range cfg.Agents {
		a, change := e.newAgentTarget(agentCfg, keep[agentCfg.ID], droppedDir)
		if change != nil {
			gw.guidChanges = append(gw.guidChanges, change)
		}
		gw.agents = append(gw.agents, a)
	}
	// In the order of the exposition formats, so a scrape need not sort.
	slices.SortFunc(gw.agents, func(a, b *agentTarget) int { return strings.Compare(a.id, b.id) })
	return gw, nil
}

// newAgentTarget carries over what is known of an agent that stays: its
// state, its Guid, and its guid_file's last reading if the path is the
// same. It returns what the configuration changes about the agent's Guid,
// to be done when the configuration is applied, or nil.
func (e *Exporter) newAgentTarget(cfg *config.Agent, previous *agentTarget, droppedDir bool) (*agentTarget, func()) {
	// Copies, so the configuration's parse, interleaved with them in memory,
	// can be freed whole.
	a := &agentTarget{id: strings.Clone(cfg.ID), cell: &guids.Cell{}, state: newAgentState(), inline: strings.Clone(string(cfg.GUID))}
	var previousInline string
	hadFile := false
	if previous != nil {
		a.cell, a.state, previousInline = previous.cell, previous.state, previous.inline
		hadFile = previous.file != nil
		if hadFile && previous.file.path == cfg.GUIDFile {
			a.file = previous.file
		}
	}
	if cfg.GUIDFile != "" && a.file == nil {
		a.file = &guidFile{path: cfg.GUIDFile}
	}
	withdrawFile := cfg.GUIDFile == "" && hadFile
	if a.inline == previousInline && !withdrawFile && !droppedDir {
		return a, nil
	}
	return a, func() {
		// A changed inline Guid is newly supplied; one removed from
		// agents.yml is no longer sent, nor one from a dropped file.
		switch a.inline {
		case previousInline:
		case "":
			a.cell.Withdraw(guids.SourceInline)
		default:
			a.cell.Offer(a.inline, guids.SourceInline, e.guids.Now())
		}
		if withdrawFile {
			a.cell.Withdraw(guids.SourceFile)
		}
		if droppedDir {
			a.cell.Withdraw(guids.SourceDir)
		}
	}
}

// setGUIDDir keeps the previous guid_dir's readings when the path stays.
func (gw *gatewayTarget) setGUIDDir(previous *gatewayTarget) {
	switch {
	case gw.cfg.GUIDDir == "":
	case previous != nil && previous.dir != nil && previous.dir.path == gw.cfg.GUIDDir:
		gw.dir = previous.dir
	default:
		gw.dir = newGUIDDir(gw.cfg.GUIDDir)
	}
}

// release closes a client built for a configuration that was not applied.
func (gw *gatewayTarget) release(previous *gatewayTarget) {
	if conn := gw.conn.Load(); previous == nil || previous.conn.Load() != conn {
		conn.httpClient.CloseIdleConnections()
	}
}

// sameConnection reports whether a reload can keep the old HTTP client and
// its warm keep-alive connections.
func sameConnection(a, b *config.Gateway) bool {
	return a.BaseURL.String() == b.BaseURL.String() && reflect.DeepEqual(a.HTTPClientConfig, b.HTTPClientConfig) &&
		a.Concurrency == b.Concurrency // it bounds the client's connections
}

func (e *Exporter) logger() log.Logger { return e.opts.Logger }

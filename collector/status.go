package collector

import (
	"sync"
	"time"

	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// GatewayStatus is a read-only summary of one configured gateway for the
// landing page. It holds no Guid and no error text from the gateway: only
// counts, codes and times.
type GatewayStatus struct {
	Name string
	// URL is the gateway's base URL with any password masked.
	URL string
	// Agents is the number of configured agents.
	Agents int
	// LastScrape is when the latest scrape of this gateway began; zero
	// before the first. A /probe of one shard counts as a scrape.
	LastScrape time.Time
	// Queried and Answered are the agents queried on that scrape and those
	// that got retcode 0.
	Queried, Answered int
	// LastFailure is the most common failure of the latest scrape that had
	// failures; it stays after the agents recover, with its time.
	LastFailure *QueryFailure
}

// QueryFailure is one kind of failed query: the reason and the gateway's
// retcode (for reason "retcode"), how many agents had it, and when.
type QueryFailure struct {
	Reason  string
	Retcode string
	Agents  int
	At      time.Time
}

// statusBoard keeps the latest scrape outcome per gateway name; its zero
// value is ready for use.
type statusBoard struct {
	mu     sync.Mutex
	byName map[string]*GatewayStatus
}

// record notes a finished scrape of one gateway. Scrapes overlap, so an
// outcome older than the one already noted is dropped.
func (b *statusBoard) record(name string, started time.Time, observations []*observation) {
	s := GatewayStatus{LastScrape: started, Queried: len(observations)}
	counts := map[QueryFailure]int{}
	for _, obs := range observations {
		if obs == nil {
			continue
		}
		if obs.err == nil {
			s.Answered++
			continue
		}
		key := QueryFailure{Reason: string(obs.err.Reason)}
		if obs.err.Reason == gateway.ReasonRetcode {
			key.Retcode = obs.err.Retcode
		}
		counts[key]++
	}
	for key, n := range counts {
		if s.LastFailure == nil || n > s.LastFailure.Agents || (n == s.LastFailure.Agents && key.Reason+key.Retcode < s.LastFailure.Reason+s.LastFailure.Retcode) {
			failure := key
			failure.Agents, failure.At = n, started
			s.LastFailure = &failure
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byName == nil {
		b.byName = map[string]*GatewayStatus{}
	}
	previous := b.byName[name]
	if previous != nil && previous.LastScrape.After(started) {
		return
	}
	if s.LastFailure == nil && previous != nil {
		s.LastFailure = previous.LastFailure
	}
	b.byName[name] = &s
}

// Status summarises every configured gateway, in configuration order.
func (e *Exporter) Status() []GatewayStatus {
	e.mu.RLock()
	gateways := e.gateways
	e.mu.RUnlock()
	e.status.mu.Lock()
	defer e.status.mu.Unlock()
	out := make([]GatewayStatus, 0, len(gateways))
	for _, gw := range gateways {
		s := GatewayStatus{}
		if last := e.status.byName[gw.name]; last != nil {
			s = *last
			if last.LastFailure != nil {
				failure := *last.LastFailure
				s.LastFailure = &failure
			}
		}
		s.Name, s.Agents = gw.name, len(gw.agents)
		if gw.cfg.BaseURL != nil {
			s.URL = gw.cfg.BaseURL.Redacted()
		}
		out = append(out, s)
	}
	return out
}

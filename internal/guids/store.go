// Package guids keeps the Guid each agent's queries carry, whichever way it
// arrives (agents.yml, a file, a directory, the push API or the gateway's
// own Set-GUID header), and serves the push API. A Guid is a session
// credential: nothing here logs, prints or returns one to a caller other
// than the collector that sends it to the gateway.
package guids

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Source is where a Guid came from.
type Source string

// The sources of a Guid.
const (
	SourceInline Source = "inline" // guid in agents.yml
	SourceFile   Source = "file"   // guid_file
	SourceDir    Source = "dir"    // a file in guid_dir
	SourcePush   Source = "push"   // PUT /api/v1/guids
	SourceHeader Source = "header" // a Set-GUID header on a gateway answer
)

// UpdateSources are the sources counted by agentgateway_guid_updates_total;
// an inline Guid is configuration, not an update.
var UpdateSources = []Source{SourceDir, SourceFile, SourceHeader, SourcePush}

// MaxGUIDBytes bounds a Guid from any source but a guid_file: a real one
// is about fifty bytes.
const MaxGUIDBytes = 256

// Validate says why a Guid cannot be sent in a header, or nil. The reason
// never contains the Guid.
func Validate(guid string) error {
	switch {
	case guid == "":
		return errors.New("empty Guid")
	case len(guid) > MaxGUIDBytes:
		return fmt.Errorf("Guid longer than %d bytes", MaxGUIDBytes) //nolint:staticcheck // Guid is a name
	}
	for i := 0; i < len(guid); i++ {
		if guid[i] <= ' ' || guid[i] > '~' {
			return errors.New("Guid has characters other than printable ASCII") //nolint:staticcheck // Guid is a name
		}
	}
	return nil
}

// Cell is one agent's current Guid. The newest value wins, whatever its
// source: a value offered with an older time than the current one is
// ignored.
type Cell struct {
	mu     sync.Mutex
	value  string
	source Source
	at     time.Time
}

// Offer proposes a Guid supplied at the given time. Supplying the current
// value again renews it. It reports whether the cell took the value.
func (c *Cell) Offer(guid string, source Source, at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.value != "" && at.Before(c.at) {
		return false
	}
	c.value, c.source, c.at = guid, source, at
	return true
}

// Get returns the current Guid and when it was last supplied; ok is false
// when there is none.
func (c *Cell) Get() (guid string, at time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.value, c.at, c.value != ""
}

// Withdraw forgets the Guid if it came from source, as when its file in
// guid_dir is removed.
func (c *Cell) Withdraw(source Source) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.source == source {
		c.value, c.source, c.at = "", "", time.Time{}
	}
}

// Store holds the Guid cells of every configured agent, by gateway, and
// counts the updates each source made.
type Store struct {
	now func() time.Time

	mu       sync.RWMutex
	gateways map[string]Cells
	counts   map[string]*updateCounts
}

type updateCounts [4][2]atomic.Uint64 // by sourceIndex, then accepted and rejected

var sourceIndex = map[Source]int{SourceDir: 0, SourceFile: 1, SourceHeader: 2, SourcePush: 3}

// NewStore returns an empty store on the clock now (time.Now if nil).
func NewStore(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, gateways: map[string]Cells{}, counts: map[string]*updateCounts{}}
}

// Now is the store's clock, the one Guid ages are measured on.
func (s *Store) Now() time.Time { return s.now() }

// Cells finds a configured agent's cell by agent id, nil for an agent not
// configured. It is a lookup into the caller's own index of agents, so the
// store keeps no second map of ten thousand entries.
type Cells func(agentID string) *Cell

// Configure replaces the agents Guids are accepted for: each gateway's
// cells by gateway name. Update counts of gateways that stay are kept.
func (s *Store) Configure(gateways map[string]Cells) {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := make(map[string]*updateCounts, len(gateways))
	for name := range gateways {
		if counts[name] = s.counts[name]; counts[name] == nil {
			counts[name] = new(updateCounts)
		}
	}
	s.gateways, s.counts = gateways, counts
}

// Count records an update from source for the gateway: accepted when the
// Guid was valid, rejected when not.
func (s *Store) Count(gateway string, source Source, accepted bool) {
	i, known := sourceIndex[source]
	s.mu.RLock()
	counts := s.counts[gateway]
	s.mu.RUnlock()
	if !known || counts == nil {
		return
	}
	result := 1
	if accepted {
		result = 0
	}
	counts[i][result].Add(1)
}

// UpdateCount is one series of agentgateway_guid_updates_total.
type UpdateCount struct {
	Source Source
	Result string // "accepted" or "rejected"
	Count  float64
}

// Updates returns the gateway's update counts for every source and result,
// zeros included, so each series exists before its first increment.
func (s *Store) Updates(gateway string) []UpdateCount {
	s.mu.RLock()
	counts := s.counts[gateway]
	s.mu.RUnlock()
	out := make([]UpdateCount, 0, 2*len(UpdateSources))
	for _, source := range UpdateSources {
		for result, name := range []string{"accepted", "rejected"} {
			var n float64
			if counts != nil {
				n = float64(counts[sourceIndex[source]][result].Load())
			}
			out = append(out, UpdateCount{Source: source, Result: name, Count: n})
		}
	}
	return out
}

// ErrUnknownGateway is returned by Push for a gateway not configured.
var ErrUnknownGateway = errors.New("unknown gateway")

// Rejection reasons of Push besides those of Validate.
const reasonNotConfigured = "agent is not configured for this gateway"

// Push offers Guids by agent id for one gateway, as supplied now. Agents
// not configured for the gateway and invalid Guids are rejected by agent
// id with the reason; the others are taken.
func (s *Store) Push(gateway string, guids map[string]string) (accepted int, rejected map[string]string, err error) {
	s.mu.RLock()
	cells, known := s.gateways[gateway]
	s.mu.RUnlock()
	if !known {
		return 0, nil, ErrUnknownGateway
	}
	rejected = map[string]string{}
	now := s.now()
	for id, guid := range guids {
		cell := cells(id)
		if cell == nil {
			rejected[ShortID(id)] = reasonNotConfigured
			s.Count(gateway, SourcePush, false)
			continue
		}
		if err := Validate(guid); err != nil {
			rejected[id] = err.Error()
			s.Count(gateway, SourcePush, false)
			continue
		}
		cell.Offer(guid, SourcePush, now)
		s.Count(gateway, SourcePush, true)
		accepted++
	}
	return accepted, rejected, nil
}

// ShortID shortens a value too long to be an agent id, as configuration
// errors do: a Guid sent in place of an agent id must not be echoed.
func ShortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return id[:7] + "..."
}

package config

import (
	"math"
	"time"

	"github.com/prometheus/common/model"
)

// Queue settings.
const (
	// DefaultDiscoveryInterval is how often the skill queues of a gateway
	// whose queues: lists none are asked for again. Queues change with the
	// contact center's configuration, not from minute to minute.
	DefaultDiscoveryInterval = model.Duration(10 * time.Minute)
	// MinDiscoveryInterval keeps discovery from eating into the query quota
	// the agent shares with its desktop.
	MinDiscoveryInterval = model.Duration(time.Minute)
	// MaxQueues bounds the skill queues of one gateway, configured or
	// discovered: each is a label value of several series.
	MaxQueues = 1000
)

// Queues selects the skill queues whose statistics are exported for one
// gateway. An empty queues: {} asks the gateway for the skill queues of the
// agent's VDN instead of listing them.
type Queues struct {
	// Skills are skill queue ids; when empty they are discovered.
	Skills []int64 `yaml:"skills,omitempty"`
	// DiscoveryInterval is how often discovery runs; only without Skills.
	DiscoveryInterval model.Duration `yaml:"discovery_interval,omitempty"`
	// Agent names the agent of this gateway whose session the queue
	// queries use; empty means any agent whose Guid currently works.
	Agent string `yaml:"agent,omitempty"`
}

// Discover reports whether the skill queues come from the gateway rather
// than from the configuration.
func (q *Queues) Discover() bool { return len(q.Skills) == 0 }

// validateQueues checks queues: and applies its defaults. The agent it
// names must be one of the gateway's agents. fail reports a problem at the
// line of the key it names.
func (gw *Gateway) validateQueues(fail func(key, format string, args ...any)) {
	q := gw.Queues
	if q == nil {
		return
	}
	if len(q.Skills) > MaxQueues {
		fail("queues.skills", "queues: %d skills listed, at most %d", len(q.Skills), MaxQueues)
		return
	}
	first := make(map[int64]bool, len(q.Skills))
	for _, id := range q.Skills {
		if id < 1 || id > math.MaxInt32 {
			fail("queues.skills", "queues: skill %d is not a skill queue id (a positive number)", id)
		} else if first[id] {
			fail("queues.skills", "queues: skill %d listed twice", id)
		}
		first[id] = true
	}
	switch {
	case !q.Discover() && q.DiscoveryInterval != 0:
		fail("queues.discovery_interval", "queues: discovery_interval applies only when skills is empty (the listed skills are never rediscovered)")
	case q.Discover() && q.DiscoveryInterval == 0:
		q.DiscoveryInterval = DefaultDiscoveryInterval
	case q.Discover() && q.DiscoveryInterval < MinDiscoveryInterval:
		fail("queues.discovery_interval", "queues: discovery_interval must be at least %s", MinDiscoveryInterval)
	}
	if q.Agent != "" && !gw.hasAgent(q.Agent) {
		fail("queues.agent", "queues: agent %q is not one of this gateway's agents", shortID(q.Agent))
	}
}

func (gw *Gateway) hasAgent(id string) bool {
	for _, a := range gw.Agents {
		if a != nil && a.ID == id {
			return true
		}
	}
	return false
}

package config

import (
	"fmt"
	"math"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
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

	line       int
	skillLines []int
}

// Discover reports whether the skill queues come from the gateway rather
// than from the configuration.
func (q *Queues) Discover() bool { return len(q.Skills) == 0 }

var queuesKeys = map[string]bool{"skills": true, "discovery_interval": true, "agent": true}

// UnmarshalYAML records where the settings and each skill id are, for
// errors, and refuses unknown keys as the rest of the file does (yaml.v3
// does not carry strict decoding into custom unmarshalers).
func (q *Queues) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf(
			"line %d: queues must be a mapping, such as { skills: [20011, 20012] } or {} to discover them", node.Line)}}
	}
	var unknown []string
	for i := 0; i+1 < len(node.Content); i += 2 {
		if key := node.Content[i]; !queuesKeys[key.Value] {
			unknown = append(unknown, fmt.Sprintf("line %d: field %s not found in type config.Queues", key.Line, key.Value))
		}
	}
	if len(unknown) > 0 {
		return &yaml.TypeError{Errors: unknown}
	}
	type plain Queues
	if err := node.Decode((*plain)(q)); err != nil {
		return err
	}
	q.line = node.Line
	if skills := mappingValue(node, "skills"); skills != nil && skills.Kind == yaml.SequenceNode {
		for _, item := range skills.Content {
			q.skillLines = append(q.skillLines, item.Line)
		}
	}
	return nil
}

// skillLine is the line of the i-th skill id, or of queues: itself.
func (q *Queues) skillLine(i int) int {
	if i < len(q.skillLines) {
		return q.skillLines[i]
	}
	return q.line
}

// validateQueues checks queues: and applies its defaults. The agent it
// names must be one of the gateway's agents.
func (gw *Gateway) validateQueues(fail func(int, string, ...any) error) error {
	q := gw.Queues
	if q == nil {
		return nil
	}
	where := fmt.Sprintf("gateway %q: queues", gw.Name)
	line := q.line
	if line == 0 {
		line = gw.line
	}
	if len(q.Skills) > MaxQueues {
		return fail(line, "%s: %d skills listed, at most %d", where, len(q.Skills), MaxQueues)
	}
	first := make(map[int64]int, len(q.Skills))
	for i, id := range q.Skills {
		if id < 1 || id > math.MaxInt32 {
			return fail(q.skillLine(i), "%s: skill %d is not a skill queue id (a positive number)", where, id)
		}
		if at, dup := first[id]; dup {
			return fail(q.skillLine(i), "%s: skill %d listed twice (first at line %d)", where, id, at)
		}
		first[id] = q.skillLine(i)
	}
	switch {
	case !q.Discover() && q.DiscoveryInterval != 0:
		return fail(line, "%s: discovery_interval applies only when skills is empty (the listed skills are never rediscovered)", where)
	case q.Discover() && q.DiscoveryInterval == 0:
		q.DiscoveryInterval = DefaultDiscoveryInterval
	case q.Discover() && q.DiscoveryInterval < MinDiscoveryInterval:
		return fail(line, "%s: discovery_interval must be at least %s", where, MinDiscoveryInterval)
	}
	if q.Agent != "" && !gw.hasAgent(q.Agent) {
		return fail(line, "%s: agent %q is not one of this gateway's agents", where, shortID(q.Agent))
	}
	return nil
}

func (gw *Gateway) hasAgent(id string) bool {
	for _, a := range gw.Agents {
		if a != nil && a.ID == id {
			return true
		}
	}
	return false
}

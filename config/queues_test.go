package config

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

const queuesConfig = `gateways:
  - name: main
    url: https://10.1.2.3:8043
    agent_state: true
    queues:
      skills:
        - 20011
        - 20012
      agent: "1001"
    agents:
      - id: "1001"
        guid: "g1"
      - id: "1002"
        guid: "g2"
  - name: discover
    url: https://10.1.2.4:8043
    queues: {}
    agents:
      - id: "2001"
        guid: "g3"
  - name: plain
    url: https://10.1.2.5:8043
    agents:
      - id: "3001"
        guid: "g4"
`

func TestLoadQueues(t *testing.T) {
	cfg, err := Load([]byte(queuesConfig), "agents.yml")
	if err != nil {
		t.Fatal(err)
	}
	main, discover, plain := cfg.Gateways[0], cfg.Gateways[1], cfg.Gateways[2]

	if main.Queues == nil || main.Queues.Discover() {
		t.Fatalf("main: queues = %+v, want the listed skills", main.Queues)
	}
	if got := main.Queues.Skills; len(got) != 2 || got[0] != 20011 || got[1] != 20012 {
		t.Errorf("main: skills = %v", got)
	}
	expectEqual(t, "main: agent", main.Queues.Agent, "1001")
	expectEqual(t, "main: agent_state", main.AgentState, true)
	expectEqual(t, "main: no discovery interval", main.Queues.DiscoveryInterval, model.Duration(0))

	if discover.Queues == nil || !discover.Queues.Discover() {
		t.Fatalf("discover: queues = %+v, want discovery", discover.Queues)
	}
	expectEqual(t, "discover: interval", discover.Queues.DiscoveryInterval, DefaultDiscoveryInterval)
	expectEqual(t, "discover: agent_state", discover.AgentState, false)

	if plain.Queues != nil || plain.AgentState {
		t.Errorf("plain: queues %+v, agent_state %v; want both off", plain.Queues, plain.AgentState)
	}

	printed := cfg.String()
	for _, want := range []string{"agent_state: true", "- 20011", "discovery_interval: 10m"} {
		if !strings.Contains(printed, want) {
			t.Errorf("printed configuration lacks %q:\n%s", want, printed)
		}
	}
	// Printing and loading again gives the same settings.
	again, err := Load([]byte(strings.ReplaceAll(printed, "<secret>", "g")), "printed.yml")
	if err != nil {
		t.Fatalf("printed configuration does not load: %v\n%s", err, printed)
	}
	expectEqual(t, "reloaded interval", again.Gateways[1].Queues.DiscoveryInterval, DefaultDiscoveryInterval)
}

func TestLoadQueuesDiscoveryInterval(t *testing.T) {
	cfg, err := Load([]byte(strings.Replace(queuesConfig, "queues: {}", "queues: { discovery_interval: 1h }", 1)), "agents.yml")
	if err != nil {
		t.Fatal(err)
	}
	expectEqual(t, "interval", cfg.Gateways[1].Queues.DiscoveryInterval, model.Duration(time.Hour))
}

func TestLoadQueuesErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		wantErr string
	}{
		{"unknown key", replace("      agent: \"1001\"\n", "      agent: \"1001\"\n      skils: [1]\n"),
			`agents.yml:10: gateway "main": unknown key "queues.skils" (did you mean "queues.skills"?)`},
		{"unknown key in flow style", replace("queues: {}", "queues: { interval: 5m }"),
			`agents.yml:17: gateway "discover": unknown key "queues.interval"`},
		{"skill not a number", replace("- 20012", "- voice"),
			`agents.yml:6: gateway "main": queues.skills must be a list of whole numbers, not a list`},
		{"skill zero", replace("- 20012", "- 0"),
			`agents.yml:6: gateway "main": queues: skill 0 is not a skill queue id (a positive number)`},
		{"skill negative", replace("- 20011", "- -5"),
			`agents.yml:6: gateway "main": queues: skill -5 is not a skill queue id (a positive number)`},
		{"skill too large", replace("- 20012", "- 2147483648"),
			`agents.yml:6: gateway "main": queues: skill 2147483648 is not a skill queue id (a positive number)`},
		{"duplicate skill", replace("- 20012", "- 20011"),
			`agents.yml:6: gateway "main": queues: skill 20011 listed twice`},
		{"interval with listed skills", replace("      agent: \"1001\"\n", "      agent: \"1001\"\n      discovery_interval: 5m\n"),
			`agents.yml:10: gateway "main": queues: discovery_interval applies only when skills is empty (the listed skills are never rediscovered)`},
		{"interval too short", replace("queues: {}", "queues: { discovery_interval: 30s }"),
			`agents.yml:17: gateway "discover": queues: discovery_interval must be at least 1m`},
		{"agent not of this gateway", replace(`agent: "1001"`, `agent: "2001"`),
			`agents.yml:9: gateway "main": queues: agent "2001" is not one of this gateway's agents`},
		{"Guid given as the agent", replace(`agent: "1001"`, `agent: "0b5e7c1d-secret-guid"`),
			`agents.yml:9: gateway "main": queues: agent "0b5e7c1..." is not one of this gateway's agents`},
		{"too many skills", replace("        - 20011\n        - 20012\n", manySkills(MaxQueues+1)),
			`agents.yml:6: gateway "main": queues: 1001 skills listed, at most 1000`},
		{"queues a list", replace("queues: {}", "queues: [1, 2]"),
			`agents.yml:17: gateway "discover": queues must be a mapping of settings, not a list`},
		{"queues a word", replace("queues: {}", "queues: all"),
			`agents.yml:17: gateway "discover": queues must be a mapping of settings, not "all"`},
		{"agent_state not a boolean", replace("agent_state: true", "agent_state: sometimes"),
			`agents.yml:4: gateway "main": agent_state must be true or false, not "sometimes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.edit(queuesConfig)), "agents.yml")
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.wantErr)
			}
		})
	}
}

// checkQueues is FuzzLoad's check of an accepted queues: setting.
func checkQueues(t *testing.T, gw *Gateway) {
	t.Helper()
	q := gw.Queues
	if q == nil {
		return
	}
	seen := map[int64]bool{}
	for _, id := range q.Skills {
		if id < 1 || seen[id] {
			t.Fatalf("gateway %q: accepted skill %d of %v", gw.Name, id, q.Skills)
		}
		seen[id] = true
	}
	if len(q.Skills) > MaxQueues || (q.Discover() && q.DiscoveryInterval < MinDiscoveryInterval) ||
		(q.Agent != "" && !gw.hasAgent(q.Agent)) {
		t.Fatalf("gateway %q: accepted queues %+v", gw.Name, q)
	}
}

func manySkills(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("        - " + strconv.Itoa(30000+i) + "\n")
	}
	return b.String()
}

func expectEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

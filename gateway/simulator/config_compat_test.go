package simulator_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// The exporter's loader is strict about keys and values, so the generated configuration is checked
// against the loader itself rather than against a copy of its rules.
func TestGeneratedConfigurationLoads(t *testing.T) {
	plain, err := simulator.Start("127.0.0.1:0", simulator.Options{Agents: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(plain.Close)
	secure, err := simulator.StartTLS("127.0.0.1:0", simulator.Options{Agents: 4, FirstAgentID: 59990, MaxAgentID: 59999})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(secure.Close)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), secure.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		content []byte
		url     string
		last    bool
		agents  []string
		guidOf  func(string) string
		caFile  string
		// queues and agentState are what the configuration turns on.
		queues, agentState bool
	}{
		{"plain, last call", plain.ConfigYAML(true), plain.URL(), true, plain.AgentIDs(), plain.Guid, "", false, false},
		{"plain, no last call", plain.ConfigYAML(false), plain.URL(), false, plain.AgentIDs(), plain.Guid, "", false, false},
		{"TLS with CA file", secure.ConfigYAMLWithCAFile(true, "ca.pem"), secure.URL(), true, secure.AgentIDs(), secure.Guid,
			filepath.Join(dir, "ca.pem"), false, false},
		{"queues and agent states", plain.ConfigYAMLWith(simulator.ConfigOptions{Queues: true, AgentState: true}), plain.URL(), false,
			plain.AgentIDs(), plain.Guid, "", true, true},
		{"queues only", plain.ConfigYAMLWith(simulator.ConfigOptions{Queues: true}), plain.URL(), false,
			plain.AgentIDs(), plain.Guid, "", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load(tc.content, filepath.Join(dir, "agents.yml"))
			if err != nil {
				t.Fatalf("%v in\n%s", err, tc.content)
			}
			if len(cfg.Gateways) != 1 {
				t.Fatalf("%d gateways", len(cfg.Gateways))
			}
			gw := cfg.Gateways[0]
			if gw.URL != tc.url || gw.IncludesLastCall() != tc.last || len(gw.Agents) != len(tc.agents) {
				t.Fatalf("loaded %+v", gw)
			}
			if (gw.Queues != nil) != tc.queues || gw.AgentState != tc.agentState {
				t.Fatalf("queues %+v, agent_state %v; want queues %v, agent_state %v\n%s", gw.Queues, gw.AgentState, tc.queues, tc.agentState, tc.content)
			}
			if tc.queues && (!gw.Queues.Discover() || gw.Queues.DiscoveryInterval == 0) {
				t.Fatalf("queues %+v: want every queue discovered at the default interval", gw.Queues)
			}
			for i, agent := range gw.Agents {
				if agent.ID != tc.agents[i] || string(agent.GUID) != tc.guidOf(agent.ID) {
					t.Errorf("agent %d: %s with a different Guid, want %s", i, agent.ID, tc.agents[i])
				}
			}
			if gw.HTTPClientConfig.TLSConfig.CAFile != tc.caFile {
				t.Errorf("ca_file %q, want %q", gw.HTTPClientConfig.TLSConfig.CAFile, tc.caFile)
			}
		})
	}
}

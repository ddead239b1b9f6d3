package simulator

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The push-mode configuration cannot go through the exporter's loader until it accepts agents
// without a Guid, so its shape is checked here.
func TestConfigYAMLWithoutGuids(t *testing.T) {
	srv, err := Start("127.0.0.1:0", Options{Agents: 3, AuthMode: AuthDynamic})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	// Sign one agent in so that there is a Guid that must not appear.
	srv.SignIn("1002")
	tests := []struct {
		name      string
		opts      ConfigOptions
		wantGuids bool
		wantTTL   string
	}{
		{"push mode", ConfigOptions{WithoutGuids: true, IncludeLastCall: true}, false, ""},
		{"push mode with a ttl", ConfigOptions{WithoutGuids: true, GuidTTL: 110 * time.Second}, false, "1m50s"},
		{"inline", ConfigOptions{}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := srv.ConfigYAMLWith(tc.opts)
			var got struct {
				Gateways []struct {
					Name            string              `yaml:"name"`
					URL             string              `yaml:"url"`
					IncludeLastCall bool                `yaml:"include_last_call"`
					GUIDTTL         string              `yaml:"guid_ttl"`
					Agents          []map[string]string `yaml:"agents"`
				} `yaml:"gateways"`
			}
			if err := yaml.Unmarshal(raw, &got); err != nil || len(got.Gateways) != 1 {
				t.Fatalf("%v in\n%s", err, raw)
			}
			gw := got.Gateways[0]
			if gw.Name != ConfigGateway || gw.URL != srv.URL() || gw.IncludeLastCall != tc.opts.IncludeLastCall || gw.GUIDTTL != tc.wantTTL {
				t.Errorf("gateway %+v", gw)
			}
			if len(gw.Agents) != 3 {
				t.Fatalf("agents %v", gw.Agents)
			}
			for i, agent := range gw.Agents {
				_, hasGUID := agent["guid"]
				if agent["id"] != srv.AgentIDs()[i] || hasGUID != (tc.wantGuids && agent["id"] == "1002") {
					t.Errorf("agent %d: %v", i, agent)
				}
			}
			if !tc.wantGuids && strings.Contains(string(raw), srv.Guid("1002")) {
				t.Error("a Guid is in the push-mode configuration")
			}
		})
	}
}

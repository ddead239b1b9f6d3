package collector_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gokitlog "github.com/go-kit/log"

	"github.com/agentgateway/agentgateway_exporter/collector"
	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// TestConnectionsBoundedByConcurrency: over HTTPS, where handshakes make
// Go's transport dial connections that the requests they were dialled for
// no longer need, a gateway's client never has more connections open
// than its concurrency, and keeps them from one scrape to the next.
func TestConnectionsBoundedByConcurrency(t *testing.T) {
	const concurrency = 4
	server, err := simulator.StartTLS("127.0.0.1:0", simulator.Options{Agents: 300, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Close)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, server.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(server.ConfigYAMLWithCAFile(true, caFile)), "concurrency: 16", fmt.Sprintf("concurrency: %d", concurrency), 1)
	cfg, err := config.Load([]byte(yaml), filepath.Join(dir, "agents.yml"))
	if err != nil {
		t.Fatal(err)
	}
	e := collector.New(collector.Options{Logger: gokitlog.NewNopLogger()})
	if err := e.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
	handler := metricsHandler(e, 0)
	for i := range 3 {
		result := scrape(t, handler, "")
		up := 0.0
		for _, m := range result.matching("agentgateway_agent_up") {
			up += m.GetGauge().GetValue()
		}
		if up != 300 {
			t.Fatalf("scrape %d: %v agents up, want 300", i+1, up)
		}
		if opened := server.ConnectionsOpened(); opened > concurrency {
			t.Fatalf("scrape %d: %d connections opened, want at most the concurrency %d", i+1, opened, concurrency)
		}
	}
}

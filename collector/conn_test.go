package collector_test

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	gokitlog "github.com/go-kit/log"

	"github.com/agentgateway/agentgateway_exporter/collector"
	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
	"github.com/agentgateway/agentgateway_exporter/internal/syncbuf"
)

// TestTLSFilesReadPerScrapeNotPerRequest: the CA file is read when the
// client is built and checked once per scrape, not on every request. A
// CA file that disappears leaves queries working (logged once); a CA file
// that changes, for a gateway whose certificate was renewed at the same
// address, is used from the next scrape on without a reload.
func TestTLSFilesReadPerScrapeNotPerRequest(t *testing.T) {
	opts := simulator.Options{Agents: 3, Seed: 7}
	first, err := simulator.StartTLS("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "gateway-ca.pem")
	writeFile(t, caFile, first.CACertPEM())
	cfg, err := config.Load(first.ConfigYAMLWithCAFile(true, caFile), filepath.Join(dir, "agents.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	e := collector.New(collector.Options{Logger: gokitlog.NewLogfmtLogger(&logs)})
	if err := e.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
	handler := metricsHandler(e, 0)
	agentsUp := func() float64 {
		t.Helper()
		result := scrape(t, handler, "")
		up := 0.0
		for _, m := range result.matching("agentgateway_agent_up") {
			up += m.GetGauge().GetValue()
		}
		return up
	}
	if up := agentsUp(); up != 3 {
		t.Fatalf("agents up at the start: %v, want 3", up)
	}

	// Gone: the client goes on with the CA it read.
	if err := os.Remove(caFile); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if up := agentsUp(); up != 3 {
			t.Fatalf("agents up with the CA file removed: %v, want 3 (the CA was read per request)", up)
		}
	}

	// Renewed: a new certificate at the same address, its CA written to
	// the same file.
	address := mustHost(t, first.URL())
	first.Close()
	second, err := simulator.StartTLS(address, opts)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", address, err)
	}
	t.Cleanup(second.Close)
	writeFile(t, caFile, second.CACertPEM())
	if up := agentsUp(); up != 3 {
		t.Fatalf("agents up after the CA file was renewed: %v, want 3\n%s", up, logs.String())
	}
	if n := countLines(logs.String(), "cannot read a file of the gateway's HTTP settings"); n != 1 {
		t.Errorf("the unreadable CA file was logged %d times, want once:\n%s", n, logs.String())
	}
	if n := countLines(logs.String(), "new connections use them"); n != 1 {
		t.Errorf("the renewed CA file was logged %d times, want once:\n%s", n, logs.String())
	}
}

func writeFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustHost(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

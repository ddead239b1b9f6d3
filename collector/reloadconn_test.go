package collector_test

import (
	"testing"
	"time"

	gokitlog "github.com/go-kit/log"

	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// TestReloadClosesReplacedConnections: a reload that changes how a
// gateway is reached (its URL, TLS or proxy settings) builds a new client
// and closes the old one's idle keep-alive connections; a reload that
// changes nothing of that keeps them warm.
func TestReloadClosesReplacedConnections(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings []string // of the reloaded gateway; "url" moves it to another server
		closed   bool
	}{
		{name: "url", settings: []string{"url"}, closed: true},
		{name: "tls", settings: []string{"tls_config: {insecure_skip_verify: true}"}, closed: true},
		{name: "proxy", settings: []string{"proxy_url: http://127.0.0.1:9"}, closed: true},
		{name: "timeout only", settings: []string{"timeout: 3s"}, closed: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, old := startSimulator(t, 1001, false, simulator.Options{})
			_, moved := startSimulator(t, 1001, false, simulator.Options{})
			ids := agentIDs(1001, 3)
			e := newExporter(t, "gateways:\n"+gatewayYAML("gw", old.URL, ids), gokitlog.NewNopLogger())
			scrape(t, metricsHandler(e, 0), "")
			if old.open() == 0 {
				t.Fatal("no keep-alive connection after the first scrape")
			}

			url, settings := old.URL, []string{}
			for _, s := range tc.settings {
				if s == "url" {
					url = moved.URL
					continue
				}
				settings = append(settings, s)
			}
			apply(t, e, "gateways:\n"+gatewayYAML("gw", url, ids, settings...))
			if tc.closed {
				waitClosed(t, "replaced client", old)
				return
			}
			time.Sleep(100 * time.Millisecond)
			if old.open() == 0 {
				t.Error("a reload that kept the connection settings closed the keep-alive connections")
			}
		})
	}
}

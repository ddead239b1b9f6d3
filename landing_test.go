package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/common/version"

	"github.com/agentgateway/agentgateway_exporter/collector"
	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/internal/buildinfo"
)

// TestLandingPage serves the real routes over HTTP: the page shows each
// gateway with its agents, how many answered the last scrape, the last
// failure with its retcode, Guid push and the load time, and the build's
// version; every link on it works; no Guid appears.
func TestLandingPage(t *testing.T) {
	saved := version.Version
	t.Cleanup(func() { version.Version = saved })
	version.Version = ""
	buildinfo.Fill(debug.ReadBuildInfo())

	sim := startGateway(t)
	content := fmt.Sprintf("gateways:\n  - name: sim\n    url: %s\n    agents:\n"+
		"      - {id: \"1001\", guid: %q}\n      - {id: \"1002\", guid: \"wrong-guid-5ec2e7\"}\n      - {id: \"1003\", guid: %q}\n",
		sim.URL(), sim.Guid("1001"), sim.Guid("1003"))
	exporter := collector.New(collector.Options{})
	registry := ownRegistry()
	reloader := config.NewReloader(func() (*config.Config, error) { return config.Load([]byte(content), "agents.yml") },
		exporter.ApplyConfig, log.NewNopLogger(), registry)
	if err := reloader.Reload(); err != nil {
		t.Fatal(err)
	}
	server := httptest.NewServer(newMux(exporter, reloader, collector.HandlerOptions{Gatherer: registry, DefaultTimeout: 5 * time.Second}, "/metrics", nil))
	t.Cleanup(server.Close)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	_, page := get("/")
	if !strings.Contains(page, "not scraped yet") {
		t.Errorf("before the first scrape the page does not say so:\n%s", page)
	}
	get("/metrics")
	status, page := get("/")
	if status != http.StatusOK {
		t.Fatalf("GET /: %d", status)
	}
	loadedAt, _ := reloader.LoadedAt()
	for _, want := range []string{
		">sim<", ">3<", // the gateway and its agents
		"2 of 3",                              // answered on the last scrape
		"retcode 100-006</span> on 1 agent<",  // the failure of agent 1002
		"Guid push API</dt>\n    <dd>off",     // off unless main turns it on
		loadedAt.UTC().Format("15:04:05 UTC"), // when the configuration was loaded
		"version " + version.Version,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if version.Version == "" || strings.Contains(page, "version ,") {
		t.Errorf("no version on the page")
	}
	for _, secret := range append(guids(sim), "wrong-guid-5ec2e7") {
		if strings.Contains(page, secret) {
			t.Errorf("page shows a Guid")
		}
	}

	links := regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(links) < 3 {
		t.Fatalf("only %d links on the page", len(links))
	}
	for _, link := range links {
		href := strings.ReplaceAll(link[1], "&amp;", "&")
		if strings.Contains(href, "pprof") || strings.HasSuffix(href, "=") {
			t.Errorf("link %q points nowhere useful", href)
		}
		if status, body := get(href); status != http.StatusOK {
			t.Errorf("link %s: %d %.200s", href, status, body)
		}
	}
	if status, _ := get("/debug/pprof/heap"); status != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/heap: %d, want 404 (nothing serves it, nothing links to it)", status)
	}
}

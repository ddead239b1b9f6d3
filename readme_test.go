package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/agentgateway/agentgateway_exporter/collector"
	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// TestReadmeDocumentsEveryMetric keeps the README's metric table and the
// exporter's output in step, both ways, and lints the whole output.
func TestReadmeDocumentsEveryMetric(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(agentgateway_[a-z_]+)` \\|").FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = true
	}
	if len(documented) < 10 {
		t.Fatalf("found only %d metrics in the README table", len(documented))
	}

	emitted := scrapeSimulatedFamilies(t)
	for name := range emitted {
		if strings.HasPrefix(name, "agentgateway_") && !documented[name] {
			t.Errorf("metric %s is exported but not in the README table", name)
		}
	}
	for name := range documented {
		if !emitted[name] {
			t.Errorf("metric %s is in the README table but was not exported", name)
		}
	}
}

// scrapeSimulatedFamilies runs the exporter against a simulated gateway
// long enough (on a fake clock) for calls to end, with one failing agent,
// and returns the metric names of the last scrape.
func scrapeSimulatedFamilies(t *testing.T) map[string]bool {
	t.Helper()
	clock := simulator.NewManualClock(time.Unix(1_700_000_000, 0))
	sim, err := simulator.Start("127.0.0.1:0", simulator.Options{Agents: 10, Seed: 7, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.SetRetcode("1010", "100-006")
	// The first agent, whose Guid the first queue discovery carries, fails
	// the first scrape only, so that the queue errors counter is exported.
	sim.SetRetcode("1001", "100-006")

	registry := ownRegistry()
	exporter := collector.New(collector.Options{Now: clock.Now})
	load := func() (*config.Config, error) {
		yaml := sim.ConfigYAMLWith(simulator.ConfigOptions{IncludeLastCall: true, Queues: true, AgentState: true})
		cfg, err := config.Load(yaml, "simulated gateway")
		if err == nil {
			cfg.Gateways[0].GUIDTTL = model.Duration(time.Hour) // so that its gauge is exported too
		}
		return cfg, err
	}
	if err := config.NewReloader(load, exporter.ApplyConfig, log.NewNopLogger(), registry).Reload(); err != nil {
		t.Fatal(err)
	}
	handler := exporter.MetricsHandler(collector.HandlerOptions{Gatherer: registry, DefaultTimeout: 5 * time.Second})

	var body string
	for range 40 {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil).WithContext(context.Background()))
		body = rec.Body.String()
		clock.Advance(15 * time.Second)
		sim.SetRetcode("1001", "")
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var all []*dto.MetricFamily
	for _, mf := range families {
		all = append(all, mf)
	}
	problems, err := promlint.NewWithMetricFamilies(all).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "agentgateway_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
	names := map[string]bool{}
	var list []string
	for name := range families {
		names[name] = true
		list = append(list, name)
	}
	sort.Strings(list)
	t.Logf("exported: %s", strings.Join(list, " "))
	return names
}

// TestExampleConfigWorksWithTheSimulator: the shipped agents.yml loads and
// its Guids are the ones the simulator issues for seed 1, as its comment
// promises.
func TestExampleConfigWorksWithTheSimulator(t *testing.T) {
	cfg, err := config.LoadFile("agents.yml")
	if err != nil {
		t.Fatal(err)
	}
	agents := cfg.Gateways[0].Agents
	if len(agents) == 0 {
		t.Fatal("example has no agents")
	}
	for _, agent := range agents {
		if want := simulator.Guid(1, agent.ID); string(agent.GUID) != want {
			t.Errorf("agent %s: Guid does not match the simulator's seed-1 Guid", agent.ID)
		}
	}
}

// TestDropRegexSameInReadmeAndExample: the regex that drops the per-agent
// call details is written in the README and in examples/prometheus.yml; the
// two stay identical, and every metric it names is a documented one.
func TestDropRegexSameInReadmeAndExample(t *testing.T) {
	dropRegex := regexp.MustCompile(`(?m)^[ #]*regex: "(agentgateway_[^"]+)"\s*\n[ #]*action: drop`)
	found := map[string]string{}
	for _, file := range []string{"README.md", "examples/prometheus.yml"} {
		content, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		matches := dropRegex.FindAllStringSubmatch(string(content), -1)
		if len(matches) != 1 {
			t.Fatalf("%s: %d drop regexes for agentgateway metrics, want 1", file, len(matches))
		}
		found[file] = matches[0][1]
	}
	if found["README.md"] != found["examples/prometheus.yml"] {
		t.Fatalf("drop regex differs:\n README.md:               %s\n examples/prometheus.yml: %s", found["README.md"], found["examples/prometheus.yml"])
	}
	// Prometheus anchors relabel regexes at both ends.
	drop := regexp.MustCompile("^(?:" + found["README.md"] + ")$")
	readme, _ := os.ReadFile("README.md")
	var dropped []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(agentgateway_[a-z_]+)` \\|").FindAllStringSubmatch(string(readme), -1) {
		if drop.MatchString(m[1]) {
			dropped = append(dropped, m[1])
		}
	}
	// Each alternative of the regex must name a metric of the table.
	alternatives := strings.Count(found["README.md"], "|") + 1
	if len(dropped) != alternatives {
		t.Errorf("the regex has %d alternatives but matches %d documented metrics: %v", alternatives, len(dropped), dropped)
	}
	for _, name := range dropped {
		if !strings.HasPrefix(name, "agentgateway_call_") && name != "agentgateway_agent_logon_seconds" {
			t.Errorf("the drop regex drops %s, which the rules need", name)
		}
	}
}

// TestReadmeConfigErrors: the README's example of --config.check output
// is what the loader says about the file behind it.
func TestReadmeConfigErrors(t *testing.T) {
	const file = `gateways:
  - name: main
    url: 10.1.2.3:8043
    timeout: 5
    concurrency: 16
    concurency: 8
    tls_config:
      server_name: gw.example.net
      ca_file: ca.pem
    agents:
      - id: "1001"
        guid: "x"
      - id: "1001"
        guid: "x"
  - name: backup
    url: https://10.1.2.4:8043
    agents:
      - id: "100"
        guid: "y"
      - id: "1002"
        guid_file: /run/agentgateway/1002.guid
`
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	const command = "$ ./agentgateway_exporter --config.file=agents.yml --config.check\n"
	start := strings.Index(string(readme), command)
	if start < 0 {
		t.Fatal("README has no --config.check example")
	}
	shown, _, _ := strings.Cut(string(readme[start+len(command):]), "```")
	_, err = config.Load([]byte(file), "agents.yml")
	if err == nil || err.Error()+"\n" != shown {
		t.Errorf("README shows:\n%s\nthe loader says:\n%v", shown, err)
	}
}

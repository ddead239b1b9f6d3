package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/internal/loopback"

	"go.yaml.in/yaml/v3"
)

// Time limits. The whole test stays inside go test's default 10 minutes.
// The dashboard queries and the recording rules get up to 5 minutes, together,
// to have data. Rate-based ones may need it: a leave-reason series
// appears with its first call already counted, so rate() sees nothing until
// some agent ends a second call with the same reason, which with 20
// simulated agents (a call every 2 minutes or so each) takes 1 to 4 minutes.
const (
	testBudget      = 9 * time.Minute
	dataLimit       = 5 * time.Minute
	alertLimit      = 90 * time.Second
	simulatedAgents = "20"
	signedOutAgent  = "99999"
)

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped with -short")
	}
	goBin := lookBinary(t, "the Go toolchain", "go")

	budget := testBudget
	if deadline, ok := t.Deadline(); ok && time.Until(deadline)-30*time.Second < budget {
		budget = time.Until(deadline) - 30*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	t.Cleanup(cancel)

	root := moduleRoot(t)
	dir := t.TempDir()
	s := setup{
		root:        root,
		rulesFile:   filepath.Join(root, "prometheus", "agentgateway.rules.yml"),
		alertsFile:  filepath.Join(root, "prometheus", "agentgateway.alerts.yml"),
		exporterBin: goBuild(ctx, t, goBin, root, ".", filepath.Join(dir, "agentgateway_exporter")),
		simBin:      goBuild(ctx, t, goBin, root, "./cmd/gatewaysim", filepath.Join(dir, "gatewaysim")),
	}
	// The pairs run side by side, each with its own simulated gateway and
	// exporter, since each ends by stopping its gateway.
	for _, p := range findPairs(ctx, goBin) {
		t.Run(p.name, func(t *testing.T) {
			p.require(t)
			t.Parallel()
			t.Logf("%s", p.versions(ctx))
			s.check(ctx, t, p)
		})
	}
}

// setup is what the pairs share: the programs built once and the rule files.
type setup struct {
	root, rulesFile, alertsFile string
	exporterBin, simBin         string
}

// check runs every end-to-end check against one pair.
func (s setup) check(ctx context.Context, t *testing.T, p pair) {
	root, rulesFile, alertsFile := s.root, s.rulesFile, s.alertsFile
	prometheus, promtool, alertmanager := p.prometheus, p.promtool, p.alertmanager
	dir := t.TempDir()

	// The simulated gateway writes an agents.yml that points at itself. It
	// serves HTTPS, as the real gateway does, and returns the previous call,
	// as the exporter asks by default. Its session owner keeps the agents
	// signed in and pushes each renewed Guid to the exporter. Queue statistics
	// and agent states are on, for the wallboard and the queue alerts.
	agentsFile := filepath.Join(dir, "agents.yml")
	tokenFile := filepath.Join(dir, "push-token")
	token := newPushToken()
	writeFile(t, tokenFile, token+"\n")
	simAddr, exporterAddr := loopback.TestAddr(t), loopback.TestAddr(t)
	pushURL := "http://" + exporterAddr + "/api/v1/guids"
	sim := start(ctx, t, dir, s.simBin, append([]string{"--listen-address=" + simAddr, "--agents=" + simulatedAgents,
		"--tls", "--include-last-call", "--config-queues", "--config-agent-state", "--write-config=" + agentsFile}, dynamicAuthArgs(pushURL, tokenFile)...)...)
	// One agent the gateway does not know is added, as in a real agents.yml
	// that lists someone who has not signed in: the failure panels and the
	// session alert then have something to show whatever the simulator does.
	// Its made-up Guid is pushed by the test along with the session owner's
	// (see guidSupply), or guid_ttl would leave the agent no_guid.
	var configGateway string
	if err := eventually(ctx, 30*time.Second, 100*time.Millisecond, func() error {
		if err := sim.exited(); err != nil {
			return err
		}
		var err error
		configGateway, err = addSignedOutAgent(agentsFile, signedOutAgent)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	exporter := start(ctx, t, dir, s.exporterBin, "--config.file="+agentsFile, "--web.listen-address="+exporterAddr,
		"--guid-push.token-file="+tokenFile)
	waitReady(ctx, t, exporter, "http://"+exporterAddr+"/metrics")
	supply := &guidSupply{sim: sim}
	pushCtx, stopPushing := context.WithCancel(ctx)
	t.Cleanup(stopPushing)
	go supply.pushEverySecond(pushCtx, pushURL, token, configGateway, signedOutAgent, signedOutGUID)

	amAddr := loopback.TestAddr(t)
	amConfig := filepath.Join(dir, "alertmanager.yml")
	writeFile(t, amConfig, `route:
  receiver: blackhole
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
`)
	am := start(ctx, t, dir, alertmanager, "--config.file="+amConfig, "--storage.path="+filepath.Join(dir, "alertmanager"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	waitReady(ctx, t, am, "http://"+amAddr+"/-/ready")

	// The shipped alert rules wait minutes before firing; a copy with
	// "for: 0s" lets the test see them fire at once.
	alerts, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	fastAlerts := filepath.Join(dir, "alerts-for-0s.yml")
	writeFile(t, fastAlerts, string(shortFor(alerts, "0s")))

	promAddr := loopback.TestAddr(t)
	promConfig := filepath.Join(dir, "prometheus.yml")
	writeFile(t, promConfig, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
  - %q
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: agentgateway
    static_configs:
      - targets: [%q]
`, rulesFile, fastAlerts, amAddr, exporterAddr))
	if out, err := run(ctx, nil, promtool, "check", "config", promConfig); err != nil {
		t.Fatalf("promtool check config on the test's configuration: %v\n%s", err, out)
	}
	prom := start(ctx, t, dir, prometheus, "--config.file="+promConfig, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--rules.alert.resend-delay=1s")
	waitReady(ctx, t, prom, "http://"+promAddr+"/-/ready")
	api := promAPI{base: "http://" + promAddr, client: &http.Client{Timeout: 10 * time.Second}}

	t.Run("promtool", func(t *testing.T) {
		for _, args := range [][]string{
			{"check", "rules", rulesFile, alertsFile},
			{"check", "config", filepath.Join(root, "examples", "prometheus.yml")},
			{"check", "config", filepath.Join(root, "examples", "prometheus-sharded.yml")},
		} {
			if out, err := run(ctx, nil, promtool, args...); err != nil {
				t.Errorf("%v\n%s", err, out)
			}
		}
		tests, _ := filepath.Glob(filepath.Join(root, "prometheus", "tests", "*.yml"))
		if out, err := run(ctx, nil, promtool, append([]string{"test", "rules"}, tests...)...); err != nil {
			t.Errorf("%v\n%s", err, out)
		}
		metrics, err := httpGet(ctx, "http://"+exporterAddr+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		if out, err := run(ctx, metrics, promtool, "check", "metrics"); err != nil {
			t.Errorf("promtool check metrics on a live scrape: %v\n%s", err, out)
		}
	})

	// The gateway the simulator runs, as Prometheus sees it.
	var gateway string
	if err := eventually(ctx, 30*time.Second, time.Second, func() error {
		names, err := api.labelValues(ctx, "gateway", "agentgateway_gateway_up")
		if err != nil {
			return err
		}
		if len(names) != 1 {
			return fmt.Errorf("want one gateway, Prometheus has %q", names)
		}
		gateway = names[0]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("simulated gateway %q", gateway)

	// The dashboard and the recording rules share one time limit, so that
	// a failing run fails within it rather than twice as long.
	dataUntil := time.Now().Add(dataLimit)
	dataLeft := func() time.Duration { return max(time.Until(dataUntil), 10*time.Second) }

	t.Run("dashboard", func(t *testing.T) {
		board, err := loadDashboard(filepath.Join(root, "grafana", "agentgateway.json"))
		if err != nil {
			t.Fatal(err)
		}
		// Grafana's built-in variables, at values a dashboard over a few
		// hours of 1s scrapes would get; the template variables at "All".
		vars := map[string]string{"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
		for _, v := range board.Templating.List {
			if v.Type == "query" {
				vars[v.Name] = v.AllValue
			}
		}
		for _, v := range board.Templating.List {
			if v.Type != "query" {
				continue
			}
			m := labelValuesCall.FindStringSubmatch(v.Definition)
			if m == nil {
				t.Errorf("variable %s: %q is not a label_values query", v.Name, v.Definition)
				continue
			}
			values, err := api.labelValues(ctx, m[2], expand(m[1], vars))
			if err != nil || len(values) == 0 {
				t.Errorf("variable %s (%s): no values (%v)", v.Name, v.Definition, err)
			}
		}
		queries := board.queries(vars)
		if len(queries) == 0 {
			t.Fatal("the dashboard has no queries")
		}
		missing, took, err := api.untilData(ctx, dataLeft(), queries)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("slowest to have data: %s", slowest(took, 5))
		if len(missing) > 0 {
			t.Errorf("%d of %d dashboard queries returned no data within %v:\n  %s",
				len(missing), len(queries), dataLimit, strings.Join(missing, "\n  "))
		} else {
			t.Logf("all %d dashboard queries returned data", len(queries))
		}
	})

	t.Run("recording rules", func(t *testing.T) {
		names, err := recordedNames(rulesFile)
		if err != nil || len(names) == 0 {
			t.Fatalf("no recording rules read from %s: %v", rulesFile, err)
		}
		queries := map[string]string{}
		for _, name := range names {
			queries[name] = name
		}
		missing, _, err := api.untilData(ctx, dataLeft(), queries)
		if err != nil {
			t.Fatal(err)
		}
		if len(missing) > 0 {
			t.Errorf("%d of %d recording rules produced no series within %v:\n  %s",
				len(missing), len(names), dataLimit, strings.Join(missing, "\n  "))
		} else {
			t.Logf("all %d recording rules produced series", len(names))
		}
	})

	// Over the checks above, which take a minute or more, the Guids were
	// renewed many times; the last half minute shows whether every renewal
	// reached the exporter in time.
	t.Run("guid renewal", func(t *testing.T) {
		agents, _ := strconv.Atoi(simulatedAgents)
		if err := eventually(ctx, time.Minute, 2*time.Second, func() error {
			return checkRenewal(ctx, api, agents, 30*time.Second)
		}); err != nil {
			t.Fatal(err)
		}
		t.Logf("every Guid of the %d agents renewed within guid_ttl %v over the last 30s", agents, guidTTL)
	})

	t.Run("session lost alert", func(t *testing.T) {
		want := map[string]string{"gateway": gateway, "agent_id": signedOutAgent}
		if err := waitAlert(ctx, api, amAddr, "AgentGatewayAgentSessionLost", want); err != nil {
			t.Fatal(err)
		}
		t.Logf("AgentGatewayAgentSessionLost for agent %s arrived in Alertmanager", signedOutAgent)
	})

	t.Run("guid supply stale alert", func(t *testing.T) {
		firing, err := api.query(ctx, `ALERTS{alertname="AgentGatewayGuidSupplyStale",alertstate="firing"}`)
		if err != nil || len(firing) > 0 {
			t.Fatalf("AgentGatewayGuidSupplyStale before the pushes stopped: %v (%v)", firing, err)
		}
		if err := supply.pause(); err != nil {
			t.Fatal(err)
		}
		if err := waitAlert(ctx, api, amAddr, "AgentGatewayGuidSupplyStale", map[string]string{"gateway": gateway}); err != nil {
			t.Fatal(err)
		}
		t.Logf("AgentGatewayGuidSupplyStale for %q arrived in Alertmanager", gateway)
		if n, err := countNoGUID(ctx, api); err != nil {
			t.Error(err)
		} else if n == 0 {
			t.Error("the alert fired but Prometheus saw no agent without a usable Guid")
		}
		// With the pushes back, the agents are queried again.
		if err := supply.resume(); err != nil {
			t.Fatal(err)
		}
		if err := eventually(ctx, time.Minute, time.Second, func() error {
			n, err := countNoGUID(ctx, api)
			if err == nil && n > 0 {
				err = fmt.Errorf("%d agents still without a usable Guid", n)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		t.Log("after the pushes resumed no agent is without a usable Guid")
	})

	t.Run("gateway down alert", func(t *testing.T) {
		sim.kill()
		if err := waitAlert(ctx, api, amAddr, "AgentGatewayDown", map[string]string{"gateway": gateway}); err != nil {
			t.Fatal(err)
		}
		t.Logf("AgentGatewayDown for %q arrived in Alertmanager", gateway)
		// The discovered queues stay listed, now unanswered: queue_up 0.
		if err := waitAlert(ctx, api, amAddr, "AgentGatewayQueueStatisticsMissing", map[string]string{"gateway": gateway}); err != nil {
			t.Fatal(err)
		}
		t.Logf("AgentGatewayQueueStatisticsMissing for %q arrived in Alertmanager", gateway)
	})
}

// waitAlert waits until Alertmanager holds an active alert of that name
// with the wanted labels; on failure it says what Prometheus made of it.
func waitAlert(ctx context.Context, api promAPI, amAddr, name string, want map[string]string) error {
	amURL := "http://" + amAddr + "/api/v2/alerts?" + url.Values{"filter": {fmt.Sprintf("alertname=%q", name)}}.Encode()
	err := eventually(ctx, alertLimit, time.Second, func() error {
		var alerts []struct {
			Labels map[string]string `json:"labels"`
			Status struct {
				State string `json:"state"`
			} `json:"status"`
		}
		body, err := httpGet(ctx, amURL)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(body, &alerts); err != nil {
			return err
		}
	next:
		for _, a := range alerts {
			for k, v := range want {
				if a.Labels[k] != v {
					continue next
				}
			}
			if a.Status.State == "active" {
				return nil
			}
		}
		return fmt.Errorf("Alertmanager has %d %s alerts, none active with %v", len(alerts), name, want)
	})
	if err != nil {
		inProm, _ := api.query(ctx, fmt.Sprintf("ALERTS{alertname=%q}", name))
		return fmt.Errorf("%w (Prometheus' ALERTS: %v)", err, inProm)
	}
	return nil
}

// addSignedOutAgent appends an agent with a Guid nobody issued to the first
// gateway of an agents.yml, and returns the gateway's name; it fails while
// the file is missing or incomplete.
func addSignedOutAgent(path, id string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	gateways, _ := cfg["gateways"].([]any)
	if len(gateways) == 0 {
		return "", fmt.Errorf("%s: no gateways yet", path)
	}
	gw, ok := gateways[0].(map[string]any)
	if !ok {
		return "", fmt.Errorf("%s: unexpected gateway entry %v", path, gateways[0])
	}
	name, _ := gw["name"].(string)
	agents, _ := gw["agents"].([]any)
	gw["agents"] = append(agents, map[string]any{"id": id, "guid": signedOutGUID})
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	return name, os.WriteFile(path, out, 0o600)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

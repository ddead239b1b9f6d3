package collector

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden .prom files from the current output")

// goldenMetrics are compared exactly; durations measured by the wall clock
// are left out because they differ from run to run.
var goldenMetrics = []string{
	"agentgateway_agent_up", "agentgateway_agent_state", "agentgateway_agent_in_call",
	"agentgateway_agent_query_errors_total", "agentgateway_agent_query_failed", "agentgateway_agent_logon_seconds",
	"agentgateway_call_wait_seconds", "agentgateway_call_talk_seconds", "agentgateway_call_media_type",
	"agentgateway_call_start_timestamp_seconds", "agentgateway_call_info", "agentgateway_call_leave_reason_total",
	"agentgateway_gateway_up", "agentgateway_gateway_agents",
}

func compareGolden(t *testing.T, c prometheus.Collector, name string, metrics ...string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		registry := prometheus.NewPedanticRegistry()
		registry.MustRegister(c)
		families, err := registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		for _, mf := range families {
			for _, m := range metrics {
				if mf.GetName() == m {
					if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	golden, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer golden.Close()
	if err := testutil.CollectAndCompare(c, golden, metrics...); err != nil {
		t.Error(err)
	}
}

// TestScrapeGolden covers one agent in each situation the gateway can
// report, in one scrape.
func TestScrapeGolden(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008"), nil)
	ringing := testCall{id: "1700000095-7", waitAgo: 30, answerAgo: 5, media: 1, skill: "chat"}
	gw.set("1001", talkingA.body())
	gw.set("1002", noCallBody)
	gw.set("1003", `{"retcode":"100-006","message":"agent not login","result":""}`)
	gw.setStatus("1004", http.StatusBadGateway, "<html><body>502 Bad Gateway</body></html>")
	gw.set("1005", endedB.body())
	gw.set("1006", ringing.body())
	gw.set("1007", `{"retcode":"0","result":{"callid":"truncated`)
	gw.set("1008", `{"retcode":"000-003","message":"no right","result":""}`)
	compareGolden(t, scrapeCollector(t, e, 5*time.Second), "scrape.prom", goldenMetrics...)
}

// TestScrapeGoldenAfterCalls checks counters and histograms after calls
// ended between scrapes.
func TestScrapeGoldenAfterCalls(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001", "1002"), nil)
	gw.set("1001", talkingA.body())
	gw.set("1002", noCallBody)
	scrapeText(t, e)
	gw.set("1001", endedA.body())
	gw.set("1002", endedB.body())
	compareGolden(t, scrapeCollector(t, e, 5*time.Second), "after-calls.prom",
		"agentgateway_call_leave_reason_total", "agentgateway_call_wait_duration_seconds",
		"agentgateway_call_talk_duration_seconds", "agentgateway_call_ring_duration_seconds")
}

func TestScrapeLint(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001", "1002", "1003"), nil)
	gw.set("1001", talkingA.body())
	scrapeText(t, e)
	gw.set("1001", endedA.body())
	gw.set("1002", `{"retcode":"100-006"}`)
	gw.set("1003", "garbage")
	problems, err := testutil.CollectAndLint(scrapeCollector(t, e, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// TestSlowAgentDoesNotDelayOthers: a hanging agent is cut off at the
// scrape deadline, reported as a timeout, and the rest are intact.
func TestSlowAgentDoesNotDelayOthers(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(2, "1001", "1002", "1003", "1004"), nil)
	for _, id := range []string{"1001", "1002", "1004"} {
		gw.set(id, talkingA.body())
	}
	gw.setDelay("1003", time.Minute)
	started := time.Now()
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(scrapeCollector(t, e, 300*time.Millisecond))
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(started); elapsed > 5*time.Second {
		t.Fatalf("scrape took %v despite a 300ms deadline", elapsed)
	}
	up := map[string]float64{}
	failed := map[string]string{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			switch mf.GetName() {
			case "agentgateway_agent_up":
				up[labels["agent_id"]] = m.GetGauge().GetValue()
			case "agentgateway_agent_query_failed":
				failed[labels["agent_id"]] = labels["reason"]
			}
		}
	}
	want := map[string]float64{"1001": 1, "1002": 1, "1003": 0, "1004": 1}
	for id, v := range want {
		if up[id] != v {
			t.Errorf("agent %s up = %v, want %v", id, up[id], v)
		}
	}
	if failed["1003"] != "timeout" {
		t.Errorf("hanging agent failure reason = %q, want timeout", failed["1003"])
	}
}

func TestConcurrencyBoundAcrossScrapes(t *testing.T) {
	gw := newFakeGateway(t)
	ids := []string{"1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008", "1009", "1010"}
	e := newTestExporter(t, gw.configYAML(3, ids...), nil)
	for _, id := range ids {
		gw.set(id, noCallBody)
		gw.setDelay(id, 10*time.Millisecond)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { scrapeText(t, e) })
	}
	wg.Wait()
	if got := gw.maxSeen.Load(); got > 3 || got < 1 {
		t.Errorf("max requests in flight = %d, want 1..3", got)
	}
	if got := gw.requests.Load(); got != int64(4*len(ids)) {
		t.Errorf("requests = %d, want %d", got, 4*len(ids))
	}
}

func TestGuidNeverInLogsOrOutput(t *testing.T) {
	gw := newFakeGateway(t)
	var logs bytes.Buffer
	logger := log.NewLogfmtLogger(log.NewSyncWriter(&logs))
	ids := []string{"1001", "1002", "1003", "1004", "1005"}
	e := newTestExporter(t, gw.configYAML(4, ids...), logger)
	gw.set("1001", talkingA.body())
	gw.set("1002", `{"retcode":"000-003","message":"no right","result":""}`)
	gw.setStatus("1003", http.StatusInternalServerError, "<html>error</html>")
	gw.set("1004", "{not json")
	gw.setDelay("1005", time.Minute)
	handler := e.MetricsHandler(HandlerOptions{Gatherer: prometheus.NewRegistry(), DefaultTimeout: 500 * time.Millisecond})
	var output bytes.Buffer
	for range 2 {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		output.Write(rec.Body.Bytes())
	}
	if logs.Len() == 0 {
		t.Fatal("no log lines: the test would prove nothing")
	}
	for _, id := range ids {
		if gw.guidSeen(id) == "" && id != "1005" {
			t.Errorf("agent %s: no Guid reached the gateway", id)
		}
		guid := testGUID(id)
		if strings.Contains(logs.String(), guid) || strings.Contains(output.String(), guid) {
			t.Errorf("Guid of agent %s leaked:\nlogs: %s", id, logs.String())
		}
	}
}

func TestFailingAgentLoggedOncePerChange(t *testing.T) {
	gw := newFakeGateway(t)
	var logs bytes.Buffer
	e := newTestExporter(t, gw.configYAML(4, "1001"), log.NewLogfmtLogger(&logs))
	gw.set("1001", `{"retcode":"100-006","result":""}`)
	for range 3 {
		scrapeText(t, e)
	}
	if n := strings.Count(logs.String(), "agent query failing"); n != 1 {
		t.Fatalf("failure logged %d times over 3 scrapes, want 1:\n%s", n, logs.String())
	}
	gw.set("1001", `{"retcode":"000-003","result":""}`)
	scrapeText(t, e)
	gw.set("1001", noCallBody)
	scrapeText(t, e)
	scrapeText(t, e)
	if n := strings.Count(logs.String(), "agent query failing"); n != 2 {
		t.Errorf("retcode change logged %d failures in all, want 2", n)
	}
	if n := strings.Count(logs.String(), "agent query recovered"); n != 1 {
		t.Errorf("recovery logged %d times, want 1", n)
	}
}

func TestScrapeTimeoutHeader(t *testing.T) {
	opts := HandlerOptions{TimeoutOffset: 500 * time.Millisecond, DefaultTimeout: 10 * time.Second}
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 9500 * time.Millisecond},
		{"4", 3500 * time.Millisecond},
		{"0.2", 100 * time.Millisecond},
		{"junk", 9500 * time.Millisecond},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if tt.header != "" {
			r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", tt.header)
		}
		if got := scrapeTimeout(r, opts); got != tt.want {
			t.Errorf("header %q: timeout %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestScrapeHonoursTimeoutHeader(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001"), nil)
	gw.setDelay("1001", time.Minute)
	handler := e.MetricsHandler(HandlerOptions{TimeoutOffset: 100 * time.Millisecond, DefaultTimeout: time.Minute})
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil).WithContext(context.Background())
	r.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "0.4")
	rec := httptest.NewRecorder()
	started := time.Now()
	handler.ServeHTTP(rec, r)
	if elapsed := time.Since(started); elapsed > 5*time.Second {
		t.Fatalf("scrape took %v with a 0.4s timeout header", elapsed)
	}
	body := rec.Body.String()
	for _, want := range []string{`agentgateway_agent_query_failed{agent_id="1001",gateway="main",reason="timeout",retcode=""} 1`, "agentgateway_scrape_deadline_seconds 0.2"} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q in\n%s", want, body)
		}
	}
}

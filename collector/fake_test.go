package collector

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// fakeGateway answers each agent with a scripted body, so tests can say
// exactly what the gateway returns at every step.
type fakeGateway struct {
	mu       sync.Mutex
	bodies   map[string]string
	status   map[string]int
	delays   map[string]time.Duration
	guids    map[string]string
	setGUID  map[string]string // a Set-GUID header value to answer with, by agent
	perAgent map[string]int    // requests by agent
	inFlight atomic.Int64
	maxSeen  atomic.Int64
	requests atomic.Int64
	server   *httptest.Server
}

func newFakeGateway(t *testing.T) *fakeGateway {
	t.Helper()
	f := &fakeGateway{bodies: map[string]string{}, status: map[string]int{}, delays: map[string]time.Duration{}, guids: map[string]string{},
		setGUID: map[string]string{}, perAgent: map[string]int{}}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeGateway) serve(w http.ResponseWriter, r *http.Request) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		seen := f.maxSeen.Load()
		if n <= seen || f.maxSeen.CompareAndSwap(seen, n) {
			break
		}
	}
	f.requests.Add(1)
	agentID := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/agentgateway/resource/calldata/"), "/callinfo")
	f.mu.Lock()
	body, status, delay := f.bodies[agentID], f.status[agentID], f.delays[agentID]
	f.guids[agentID] = r.Header.Get("Guid")
	f.perAgent[agentID]++
	if value := f.setGUID[agentID]; value != "" {
		w.Header().Set("Set-GUID", value)
	}
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		w.WriteHeader(status)
	}
	_, _ = w.Write([]byte(body))
}

func (f *fakeGateway) set(agentID, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[agentID] = body
}

func (f *fakeGateway) setStatus(agentID string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[agentID], f.bodies[agentID] = status, body
}

func (f *fakeGateway) setDelay(agentID string, delay time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delays[agentID] = delay
}

func (f *fakeGateway) requestsFor(agentID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.perAgent[agentID]
}

func (f *fakeGateway) answerSetGUID(agentID, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setGUID[agentID] = value
}

func (f *fakeGateway) guidSeen(agentID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.guids[agentID]
}

// testGUID is the Guid every test agent uses unless a test says otherwise;
// tests search all output for it.
func testGUID(agentID string) string { return "5ec2e7-guid-of-" + agentID + ".AgentGateway0" }

func (f *fakeGateway) configYAML(concurrency int, agentIDs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "gateways:\n  - name: main\n    url: %s\n    timeout: 2s\n    concurrency: %d\n    agents:\n", f.server.URL, concurrency)
	for _, id := range agentIDs {
		fmt.Fprintf(&b, "      - id: %q\n        guid: %q\n", id, testGUID(id))
	}
	return b.String()
}

// testClock is a settable clock for the running phase of calls.
var testNow = time.UnixMilli(1_700_000_100_000)

func newTestExporter(t testing.TB, yaml string, logger log.Logger) *Exporter {
	t.Helper()
	cfg, err := config.Load([]byte(yaml), "agents.yml")
	if err != nil {
		t.Fatal(err)
	}
	if logger == nil {
		logger = log.NewNopLogger()
	}
	e := New(Options{Logger: logger, Now: func() time.Time { return testNow }})
	if err := e.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

func scrapeCollector(t *testing.T, e *Exporter, timeout time.Duration) prometheus.Collector {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	c, err := e.newScrape(ctx, selection{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// scrapeText performs one scrape and returns it in the text format.
func scrapeText(t *testing.T, e *Exporter) string {
	t.Helper()
	var buf bytes.Buffer
	for _, mf := range gatherScrape(t, e) {
		buf.WriteString(mf.String())
		buf.WriteByte('\n')
	}
	return buf.String()
}

// seriesValue scrapes once and returns the value of one series of a
// metric, or -1 when the series is absent.
func seriesValue(t *testing.T, e *Exporter, metric string, labels map[string]string) float64 {
	t.Helper()
	return seriesValueIn(gatherScrape(t, e), metric, labels)
}

// seriesValueIn returns the value of the first series of a metric with the
// given labels, or -1 when there is none.
func seriesValueIn(families []*dto.MetricFamily, metric string, labels map[string]string) float64 {
	for _, mf := range families {
		if mf.GetName() != metric {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}

// gatherScrape scrapes once through a pedantic registry.
func gatherScrape(t *testing.T, e *Exporter) []*dto.MetricFamily {
	t.Helper()
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(scrapeCollector(t, e, 5*time.Second))
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return families
}

var _ = testutil.CollectAndCount

func mustCall(t *testing.T, body string) *gateway.CallInfo {
	t.Helper()
	answer, err := gateway.DecodeAnswer([]byte(body))
	if err != nil || answer.Call == nil {
		t.Fatalf("bad test body %s: %v", body, err)
	}
	return answer.Call
}

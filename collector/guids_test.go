package collector

import (
	"bytes"
	"context"
	"fmt"
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

	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/internal/guids"
	"github.com/agentgateway/agentgateway_exporter/internal/syncbuf"
)

// manualClock is a clock that moves only when told to.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const pushToken = "Push-t0ken-for-tests-4e1b"

// guidFixture is an exporter whose Guids come only from outside: push on,
// a store on a manual clock, agents without guid or guid_file.
type guidFixture struct {
	gw    *fakeGateway
	clock *manualClock
	store *guids.Store
	e     *Exporter
	push  http.Handler

	mu     sync.Mutex
	pushed []string // every Guid pushed, for the secret search
}

func newGUIDFixture(t *testing.T, gatewaySettings string, logger log.Logger, agentIDs ...string) *guidFixture {
	t.Helper()
	f := &guidFixture{gw: newFakeGateway(t), clock: &manualClock{now: testNow}}
	var b strings.Builder
	fmt.Fprintf(&b, "gateways:\n  - name: main\n    url: %s\n    timeout: 2s\n%s    agents:\n", f.gw.server.URL, gatewaySettings)
	for _, id := range agentIDs {
		fmt.Fprintf(&b, "      - id: %q\n", id)
		f.gw.set(id, noCallBody)
	}
	cfg, err := config.Load([]byte(b.String()), "agents.yml", config.WithGUIDPush(true))
	if err != nil {
		t.Fatal(err)
	}
	if logger == nil {
		logger = log.NewNopLogger()
	}
	f.store = guids.NewStore(f.clock.Now)
	f.e = New(Options{Logger: logger, Now: f.clock.Now, GUIDs: f.store})
	if err := f.e.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
	f.push = guids.NewPushHandler(f.store, guids.StaticToken(pushToken), logger)
	return f
}

// pushGUIDs pushes id=guid pairs and returns the answer's status and body.
func (f *guidFixture) pushGUIDs(t *testing.T, pairs ...string) (int, string) {
	t.Helper()
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, fmt.Sprintf("%q:%q", pairs[i], pairs[i+1]))
	}
	f.mu.Lock()
	for i := 1; i < len(pairs); i += 2 {
		if len(pairs[i]) > 8 { // not an agent id pushed in a Guid's place
			f.pushed = append(f.pushed, pairs[i])
		}
	}
	f.mu.Unlock()
	req := httptest.NewRequest(http.MethodPut, guids.PushPath, strings.NewReader(`{"gateway":"main","guids":{`+strings.Join(parts, ",")+`}}`))
	req.Header.Set("Authorization", "Bearer "+pushToken)
	rec := httptest.NewRecorder()
	f.push.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// scrapeSeries scrapes once and returns every series as written in the
// text format (labels in alphabetical order) with its value.
func scrapeSeries(t *testing.T, e *Exporter) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, mf := range gatherScrape(t, e) {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
			}
			key := mf.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func expectSeries(t *testing.T, series map[string]float64, key string, want float64) {
	t.Helper()
	if got, ok := series[key]; !ok || got != want {
		t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
	}
}

func expectNoSeries(t *testing.T, series map[string]float64, key string) {
	t.Helper()
	if got, ok := series[key]; ok {
		t.Errorf("%s = %v, want absent", key, got)
	}
}

// expectNoGUID checks everything an agent without a usable Guid reports.
func expectNoGUID(t *testing.T, series map[string]float64, id string, errorsSoFar float64) {
	t.Helper()
	agent := `agent_id="` + id + `",gateway="main"`
	expectSeries(t, series, "agentgateway_agent_up{"+agent+"}", 0)
	expectSeries(t, series, "agentgateway_agent_query_failed{"+agent+`,reason="no_guid",retcode=""}`, 1)
	expectSeries(t, series, "agentgateway_agent_state{"+agent+`,state="no_guid"}`, 1)
	expectSeries(t, series, "agentgateway_agent_state{"+agent+`,state="signed_out"}`, 0)
	expectSeries(t, series, "agentgateway_agent_query_errors_total{"+agent+`,reason="no_guid",retcode=""}`, errorsSoFar)
}

// TestGUIDTTLExpiry: without a Guid nothing is sent and the agent reports
// no_guid; a pushed Guid is sent until it is older than guid_ttl, then no
// request reaches the gateway for the agent until the next push.
func TestGUIDTTLExpiry(t *testing.T) {
	f := newGUIDFixture(t, "    guid_ttl: 110s\n", nil, "1001", "1002")

	series := scrapeSeries(t, f.e)
	if n := f.gw.requests.Load(); n != 0 {
		t.Fatalf("%d requests sent for agents without a Guid", n)
	}
	expectNoGUID(t, series, "1001", 1)
	expectNoGUID(t, series, "1002", 1)
	expectNoSeries(t, series, `agentgateway_gateway_up{gateway="main"}`)
	expectNoSeries(t, series, `agentgateway_agent_guid_age_seconds{agent_id="1001",gateway="main"}`)
	expectSeries(t, series, `agentgateway_gateway_guid_ttl_seconds{gateway="main"}`, 110)

	if status, body := f.pushGUIDs(t, "1001", "ttl-guid-one.AgentGateway0"); status != http.StatusOK {
		t.Fatalf("push: %d %s", status, body)
	}
	f.clock.Advance(100 * time.Second)
	series = scrapeSeries(t, f.e)
	if got := f.gw.guidSeen("1001"); got != "ttl-guid-one.AgentGateway0" {
		t.Errorf("gateway saw Guid %q for 1001", got)
	}
	expectSeries(t, series, `agentgateway_agent_up{agent_id="1001",gateway="main"}`, 1)
	expectSeries(t, series, `agentgateway_agent_guid_age_seconds{agent_id="1001",gateway="main"}`, 100)
	expectSeries(t, series, `agentgateway_gateway_up{gateway="main"}`, 1)
	expectNoGUID(t, series, "1002", 2)
	expectSeries(t, series, `agentgateway_guid_updates_total{gateway="main",result="accepted",source="push"}`, 1)

	f.clock.Advance(11 * time.Second) // 111 s > guid_ttl
	before := f.gw.requestsFor("1001")
	for i := range 3 {
		series = scrapeSeries(t, f.e)
		expectNoGUID(t, series, "1001", float64(i+2)) // one from the first scrape
	}
	if after := f.gw.requestsFor("1001"); after != before {
		t.Errorf("%d requests for 1001 with an expired Guid", after-before)
	}
	expectSeries(t, series, `agentgateway_agent_guid_age_seconds{agent_id="1001",gateway="main"}`, 111)
	expectNoSeries(t, series, `agentgateway_gateway_up{gateway="main"}`)

	if status, body := f.pushGUIDs(t, "1001", "ttl-guid-two.AgentGateway1"); status != http.StatusOK {
		t.Fatalf("push: %d %s", status, body)
	}
	series = scrapeSeries(t, f.e)
	expectSeries(t, series, `agentgateway_agent_up{agent_id="1001",gateway="main"}`, 1)
	expectSeries(t, series, `agentgateway_agent_state{agent_id="1001",gateway="main",state="idle"}`, 1)
	expectSeries(t, series, `agentgateway_agent_guid_age_seconds{agent_id="1001",gateway="main"}`, 0)
	if got := f.gw.guidSeen("1001"); got != "ttl-guid-two.AgentGateway1" || f.gw.requestsFor("1001") != before+1 {
		t.Errorf("after the new push: Guid %q, %d requests", got, f.gw.requestsFor("1001")-before)
	}
}

// TestGUIDDir: a new file supplies a Guid, a rewritten one replaces it, a
// removed one withdraws it; other names are ignored, entries that are not
// regular files are rejected without blocking, and the newest source wins
// over a push.
func TestGUIDDir(t *testing.T) {
	dir := t.TempDir()
	f := newGUIDFixture(t, "    guid_dir: "+dir+"\n", nil, "1001", "1002")
	write := func(name, content string, mtime time.Time) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	agent1001 := `{agent_id="1001",gateway="main"}`

	// New file; a temporary file and a directory named by an agent id.
	write("1001", "dir-guid-one.AgentGateway0\n", testNow.Add(-5*time.Second))
	write(".1002.tmp", "dir-guid-tmp.AgentGateway0\n", testNow)
	if err := os.Mkdir(filepath.Join(dir, "1002"), 0o700); err != nil {
		t.Fatal(err)
	}
	series := scrapeSeries(t, f.e)
	if got := f.gw.guidSeen("1001"); got != "dir-guid-one.AgentGateway0" {
		t.Errorf("new file: gateway saw %q", got)
	}
	expectSeries(t, series, "agentgateway_agent_up"+agent1001, 1)
	expectSeries(t, series, "agentgateway_agent_guid_age_seconds"+agent1001, 5)
	expectNoGUID(t, series, "1002", 1)
	expectSeries(t, series, `agentgateway_guid_updates_total{gateway="main",result="accepted",source="dir"}`, 1)
	expectSeries(t, series, `agentgateway_guid_updates_total{gateway="main",result="rejected",source="dir"}`, 1)

	// Rewritten in place with the same size: a new modification time.
	write("1001", "dir-guid-two.AgentGateway0\n", testNow.Add(-2*time.Second))
	series = scrapeSeries(t, f.e)
	if got := f.gw.guidSeen("1001"); got != "dir-guid-two.AgentGateway0" {
		t.Errorf("rewritten file: gateway saw %q", got)
	}
	expectSeries(t, series, `agentgateway_guid_updates_total{gateway="main",result="accepted",source="dir"}`, 2)
	expectSeries(t, series, `agentgateway_guid_updates_total{gateway="main",result="rejected",source="dir"}`, 1)

	// A push is newer than the file; a file older than the push does not
	// replace it, one written after it does.
	f.clock.Advance(10 * time.Second)
	f.pushGUIDs(t, "1001", "pushed-guid.AgentGateway1")
	write("1001", "dir-guid-old.AgentGateway0\n", testNow.Add(5*time.Second))
	scrapeSeries(t, f.e)
	if got := f.gw.guidSeen("1001"); got != "pushed-guid.AgentGateway1" {
		t.Errorf("file older than the push: gateway saw %q", got)
	}
	write("1001", "dir-guid-new.AgentGateway0\n", testNow.Add(10*time.Second))
	scrapeSeries(t, f.e)
	if got := f.gw.guidSeen("1001"); got != "dir-guid-new.AgentGateway0" {
		t.Errorf("file as new as the push: gateway saw %q", got)
	}

	// Removed.
	if err := os.Remove(filepath.Join(dir, "1001")); err != nil {
		t.Fatal(err)
	}
	before := f.gw.requestsFor("1001")
	series = scrapeSeries(t, f.e)
	expectNoGUID(t, series, "1001", 1)
	expectNoSeries(t, series, "agentgateway_agent_guid_age_seconds"+agent1001)
	if f.gw.requestsFor("1001") != before {
		t.Error("a request was sent after the agent's file was removed")
	}
}

// TestSetGUIDHeaderAdopted: a Guid the gateway hands out in a Set-GUID
// header is sent from the next query on; an unusable one is counted as
// rejected and ignored.
func TestSetGUIDHeaderAdopted(t *testing.T) {
	f := newGUIDFixture(t, "", nil, "1001")
	f.pushGUIDs(t, "1001", "first-guid.AgentGateway0")
	f.gw.answerSetGUID("1001", "JSESSIONID=renewed-guid.AgentGateway1")
	f.clock.Advance(30 * time.Second)
	scrapeSeries(t, f.e)
	if got := f.gw.guidSeen("1001"); got != "first-guid.AgentGateway0" {
		t.Fatalf("first query sent %q", got)
	}
	f.gw.answerSetGUID("1001", "JSESSIONID=not a guid")
	f.clock.Advance(5 * time.Second)
	series := scrapeSeries(t, f.e)
	if got := f.gw.guidSeen("1001"); got != "renewed-guid.AgentGateway1" {
		t.Errorf("second query sent %q, want the Guid of the Set-GUID header", got)
	}
	expectSeries(t, series, `agentgateway_agent_guid_age_seconds{agent_id="1001",gateway="main"}`, 5)
	expectSeries(t, series, `agentgateway_guid_updates_total{gateway="main",result="accepted",source="header"}`, 1)
	expectSeries(t, series, `agentgateway_guid_updates_total{gateway="main",result="rejected",source="header"}`, 1)
	f.gw.answerSetGUID("1001", "")
	scrapeSeries(t, f.e)
	if got := f.gw.guidSeen("1001"); got != "renewed-guid.AgentGateway1" {
		t.Errorf("third query sent %q", got)
	}
}

// TestConcurrentPushesAndScrapes is for the race detector: pushes, scrapes
// in both output paths and reloads at the same time.
func TestConcurrentPushesAndScrapes(t *testing.T) {
	ids := []string{"1001", "1002", "1003", "1004"}
	f := newGUIDFixture(t, "    guid_ttl: 110s\n    concurrency: 2\n", nil, ids...)
	cfg, err := config.Load([]byte(strings.Replace(f.gw.configYAML(2, ids...), "    agents:", "    guid_ttl: 110s\n    agents:", 1)), "agents.yml")
	if err != nil {
		t.Fatal(err)
	}
	handler := f.e.MetricsHandler(HandlerOptions{DefaultTimeout: 5 * time.Second})
	var wg sync.WaitGroup
	for p := range 3 {
		wg.Go(func() {
			for i := range 30 {
				code, body := f.pushGUIDs(t, ids[i%len(ids)], fmt.Sprintf("race-guid-%d-%d", p, i), ids[(i+1)%len(ids)], fmt.Sprintf("race-guid-%d-%d-b", p, i))
				if code != http.StatusOK {
					t.Errorf("push: %d %s", code, body)
				}
				f.clock.Advance(time.Second)
			}
		})
	}
	for s := range 2 {
		wg.Go(func() {
			for range 15 {
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				if s == 1 {
					req.Header.Set("Accept", "application/openmetrics-text")
				}
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "agentgateway_agent_up") {
					t.Errorf("scrape: %d", rec.Code)
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if err := f.e.ApplyConfig(cfg); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	if f.gw.requests.Load() == 0 {
		t.Error("no query reached the gateway")
	}
}

// TestGUIDsNeverEmitted: pushed Guids and the push token appear nowhere in
// what the exporter emits: debug logs, both output paths, push answers of
// every kind, and the logs of Guid files that cannot be used.
func TestGUIDsNeverEmitted(t *testing.T) {
	emitted := &syncbuf.Buffer{}
	logger := log.NewLogfmtLogger(emitted)
	dir := t.TempDir()
	f := newGUIDFixture(t, "    guid_dir: "+dir+"\n    guid_ttl: 60s\n", logger, "1001", "1002", "1003")
	dirGUID := "dir-secret-guid-5d1e.AgentGateway0"
	if err := os.WriteFile(filepath.Join(dir, "1003"), []byte(dirGUID), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "1002"), []byte("two words"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.gw.setStatus("1002", http.StatusBadGateway, "<html>502</html>")
	f.gw.answerSetGUID("1001", "JSESSIONID=header-secret-guid-77ab.AgentGateway1")
	handler := f.e.MetricsHandler(HandlerOptions{DefaultTimeout: 5 * time.Second})
	scrape := func() {
		for _, accept := range []string{"text/plain", "application/openmetrics-text"} {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept", accept)
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			_, _ = emitted.Write(rec.Body.Bytes())
		}
	}
	answer := func(code int, body string) {
		_, _ = fmt.Fprintf(emitted, "%d %s\n", code, body)
	}
	scrape()
	answer(f.pushGUIDs(t, "1001", "pushed-secret-guid-1.AgentGateway0", "1002", "pushed-secret-guid-2.AgentGateway0",
		"9999", "pushed-secret-guid-3.AgentGateway0", "pushed-secret-guid-4.AgentGateway0", "1003"))
	scrape()
	scrape()
	f.clock.Advance(2 * time.Minute) // every Guid expires
	scrape()
	for _, body := range []string{`{"gateway":"main","guids":{"1001":"pushed-secret-guid-5`, `{"gateway":"pushed-secret-guid-6","guids":{}}`} {
		req := httptest.NewRequest(http.MethodPut, guids.PushPath, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+pushToken)
		rec := httptest.NewRecorder()
		f.push.ServeHTTP(rec, req)
		answer(rec.Code, rec.Body.String())
	}
	req := httptest.NewRequest(http.MethodPut, guids.PushPath, strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer pushed-secret-guid-7")
	rec := httptest.NewRecorder()
	f.push.ServeHTTP(rec, req)
	answer(rec.Code, rec.Body.String())

	all := emitted.String()
	for _, want := range []string{`reason="no_guid"`, `source="header"`, "Guids pushed", "cannot use Guid file", "agent query failing"} {
		if !strings.Contains(all, want) {
			t.Errorf("output lacks %q: the secret search would not cover that path", want)
		}
	}
	secrets := append([]string{pushToken, dirGUID, "header-secret-guid", "two words", "pushed-secret-guid"}, f.pushed...)
	for _, secret := range secrets {
		if i := strings.Index(all, secret); i >= 0 {
			t.Errorf("secret %q emitted: ...%s...", secret, all[max(0, i-150):min(len(all), i+len(secret)+50)])
		}
	}
	if bytes.Contains([]byte(all), []byte("5d1e")) {
		t.Error("part of a Guid emitted")
	}
}

// TestGUIDsAcrossReload: pushed Guids survive a reload; an inline Guid
// counts as supplied when it is set or changed, not on every reload, and
// one removed from agents.yml is no longer sent.
func TestGUIDsAcrossReload(t *testing.T) {
	f := newGUIDFixture(t, "", nil, "1001", "1002")
	apply := func(inline1001 string) {
		t.Helper()
		yaml := fmt.Sprintf("gateways:\n  - name: main\n    url: %s\n    agents:\n      - id: \"1001\"\n%s      - id: \"1002\"\n",
			f.gw.server.URL, inline1001)
		cfg, err := config.Load([]byte(yaml), "agents.yml", config.WithGUIDPush(true))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.e.ApplyConfig(cfg); err != nil {
			t.Fatal(err)
		}
	}
	sent := func(id, want string) {
		t.Helper()
		scrapeSeries(t, f.e)
		if got := f.gw.guidSeen(id); got != want {
			t.Errorf("agent %s: gateway saw %q, want %q", id, got, want)
		}
	}
	apply("        guid: inline-one\n")
	f.pushGUIDs(t, "1002", "pushed-for-1002")
	sent("1001", "inline-one")
	sent("1002", "pushed-for-1002")

	f.clock.Advance(time.Second)
	f.pushGUIDs(t, "1001", "pushed-for-1001")
	f.clock.Advance(time.Second)
	apply("        guid: inline-one\n") // unchanged: the newer push stays
	sent("1001", "pushed-for-1001")
	sent("1002", "pushed-for-1002")

	f.clock.Advance(time.Second)
	apply("        guid: inline-two\n") // changed: newer than the push
	sent("1001", "inline-two")

	apply("") // removed: nothing to send until the next push
	before := f.gw.requestsFor("1001")
	expectNoGUID(t, scrapeSeries(t, f.e), "1001", 1)
	if f.gw.requestsFor("1001") != before {
		t.Error("a request was sent with an inline Guid removed from agents.yml")
	}
}

// TestGUIDUpdatesOnFirstShardOnly: shards scraped as separate targets do
// not each repeat the gateway's update counters.
func TestGUIDUpdatesOnFirstShardOnly(t *testing.T) {
	f := newGUIDFixture(t, "", nil, "1001", "1002", "1003")
	for shard, want := range []int{8, 0, 0} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := f.e.newScrape(ctx, selection{Gateway: "main", Shard: shard, Shards: 3})
		if err != nil {
			t.Fatal(err)
		}
		registry := prometheus.NewPedanticRegistry()
		registry.MustRegister(c)
		if got := testutil.CollectAndCount(registry, "agentgateway_guid_updates_total"); got != want {
			t.Errorf("shard %d: %d update series, want %d", shard, got, want)
		}
		cancel()
	}
}

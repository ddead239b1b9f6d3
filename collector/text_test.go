package collector

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/agentgateway/agentgateway_exporter/internal/guids"
)

// resultCollector emits one scrape result the registry way.
type resultCollector struct{ r *scrapeResult }

func (resultCollector) Describe(chan<- *prometheus.Desc) {}

func (c resultCollector) Collect(ch chan<- prometheus.Metric) {
	c.r.collectGateways(ch)
	c.r.collectAgents(ch)
}

// ownGatherer stands in for the exporter's own registry, with names that
// sort before, between and after the scrape's families.
func ownGatherer() prometheus.Gatherer {
	registry := prometheus.NewRegistry()
	for _, name := range []string{"agentgateway_exporter_build_info", "agentgateway_config_last_reload_successful", "go_goroutines", "aardvark_total"} {
		registry.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "Help with a \\ backslash\nand a newline."}))
	}
	return registry
}

// viaRegistry is what promhttp writes for the result: a registry gathered
// together with own, every family encoded by expfmt.
func viaRegistry(t *testing.T, r *scrapeResult, own prometheus.Gatherer, format expfmt.Format) string {
	t.Helper()
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(resultCollector{r})
	families, err := prometheus.Gatherers{registry, own}.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, format)
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

func viaText(t *testing.T, r *scrapeResult, own prometheus.Gatherer, format expfmt.Format) string {
	t.Helper()
	var buf bytes.Buffer
	if gatherErr, err := writeText(&buf, r, own, format, nil); gatherErr != nil || err != nil {
		t.Fatal(gatherErr, err)
	}
	return buf.String()
}

func runScrape(t *testing.T, e *Exporter, sel selection) *scrapeResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sc, err := e.newScrape(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	return sc.run()
}

// TestTextMatchesRegistry holds the direct text writer to the bytes a
// registry and expfmt produce from the same scrape: every agent situation,
// counters, histograms, label values that need escaping, one agent id in
// two gateways, and shards.
func TestTextMatchesRegistry(t *testing.T) {
	main, other := newFakeGateway(t), newFakeGateway(t)
	ids := []string{"1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008", "10010", "999"}
	yaml := main.configYAML(4, ids...) + strings.TrimPrefix(other.configYAML(2, "1001", "1005", "1006"), "gateways:\n")
	yaml = strings.Replace(yaml, "name: main\n    url: "+other.server.URL, "name: a-other\n    url: "+other.server.URL, 1)
	e := newTestExporter(t, yaml, nil)
	if len(e.gateways) != 2 {
		t.Fatalf("want two gateways:\n%s", yaml)
	}

	ringing := testCall{id: "1700000095-7", waitAgo: 30, answerAgo: 5, media: 1, skill: "chat"}
	odd := testCall{id: "1700000090-8", waitAgo: 40, answerAgo: 35, talkAgo: 30, skill: "sk\"ill\\ with\nnewline", media: 19}
	set := func() {
		main.set("1001", talkingA.body())
		main.set("1002", noCallBody)
		main.set("1003", `{"retcode":"100-006","message":"agent not login","result":""}`)
		main.setStatus("1004", http.StatusBadGateway, "<html><body>502 Bad Gateway</body></html>")
		main.set("1005", endedB.body())
		main.set("1006", ringing.body())
		main.set("1007", `{"retcode":"0","result":{"callid":"truncated`)
		main.set("1008", `{"retcode":"000-003","message":"no right","result":""}`)
		main.set("10010", odd.body())
		main.set("999", `{"retcode":"0","result":{"callid":"1-1","callfeature":7,"begintime":1.7e12,"logontimes":-1}}`)
		other.set("1001", strings.Replace(ringing.body(), `"callfeature":0`, `"callfeature":3`, 1))
		other.set("1005", noCallBody)
		other.set("1006", `{"retcode":"100-008","result":""}`)
	}
	set()
	check := func(step string, sel selection) {
		t.Helper()
		r := runScrape(t, e, sel)
		for _, format := range []expfmt.Format{
			expfmt.FmtText + "; escaping=underscores",
			expfmt.FmtText + "; escaping=allow-utf-8",
		} {
			want, got := viaRegistry(t, r, ownGatherer(), format), viaText(t, r, ownGatherer(), format)
			if got != want {
				t.Fatalf("%s, %s: text writer differs from the registry\n--- registry\n%s\n--- text writer\n%s", step, format, want, got)
			}
		}
	}
	check("first scrape", selection{})
	// Calls end, leave reasons and errors are counted, histograms fill.
	main.set("1001", endedA.body())
	main.set("1006", endedB.body())
	other.set("1001", endedA.body())
	check("after calls", selection{})
	set()
	for shard := range 3 {
		check(fmt.Sprintf("shard %d of 3", shard), selection{Gateway: "main", Shard: shard, Shards: 3})
	}
	check("one gateway", selection{Gateway: "a-other"})
	// Guids of different ages, one agent without a Guid in each gateway,
	// and a gateway none of whose agents had a Guid (no gateway_up).
	for _, gw := range e.gateways {
		for i, a := range gw.agents {
			a.cell.Withdraw(guids.SourceInline)
			if i > 0 && gw.name == "main" {
				a.cell.Offer(testGUID(a.id), guids.SourcePush, testNow.Add(-time.Duration(i)*1500*time.Millisecond))
			}
		}
	}
	check("Guid ages and no Guid", selection{})
}

// TestMetricsHandlerFormats checks the handler end to end: the text path
// with and without gzip and with name[] filters, and the registry path
// (protobuf), which must carry the same series.
func TestMetricsHandlerFormats(t *testing.T) {
	gw := newFakeGateway(t)
	ids := []string{"1001", "1002", "1003"}
	e := newTestExporter(t, gw.configYAML(2, ids...), nil)
	gw.set("1001", talkingA.body())
	gw.set("1002", noCallBody)
	gw.set("1003", `{"retcode":"100-006","result":""}`)
	handler := e.MetricsHandler(HandlerOptions{Gatherer: ownGatherer(), DefaultTimeout: 5 * time.Second})
	get := func(target string, header map[string]string) *http.Response {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, target, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Result()
	}
	parse := func(resp *http.Response) map[string]int {
		t.Helper()
		decoder := expfmt.NewDecoder(decompressed(t, resp), expfmt.ResponseFormat(resp.Header))
		series := map[string]int{}
		for {
			var family dto.MetricFamily
			err := decoder.Decode(&family)
			if errors.Is(err, io.EOF) {
				return series
			}
			if err != nil {
				t.Fatal(err)
			}
			series[family.GetName()] = len(family.GetMetric())
		}
	}

	text := get("/metrics", map[string]string{"Accept": "text/plain"})
	if ct := text.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	if enc := text.Header.Get("Content-Encoding"); enc != "" {
		t.Errorf("Content-Encoding %q without Accept-Encoding", enc)
	}
	want := parse(text)
	if want["agentgateway_agent_state"] != 3*len(agentStates) || want["go_goroutines"] != 1 {
		t.Fatalf("unexpected series: %v", want)
	}

	gzipped := get("/metrics", map[string]string{"Accept-Encoding": "gzip"})
	if enc := gzipped.Header.Get("Content-Encoding"); enc != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", enc)
	}
	if got := parse(gzipped); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("gzip answer has series %v, want %v", got, want)
	}

	proto := get("/metrics", map[string]string{"Accept": "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"})
	if ct := proto.Header.Get("Content-Type"); !strings.Contains(ct, "protobuf") {
		t.Fatalf("Content-Type %q, want protobuf", ct)
	}
	if got := parse(proto); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("protobuf answer has series %v, want %v", got, want)
	}

	filtered := parse(get("/metrics?name[]=agentgateway_agent_up&name[]=go_goroutines", nil))
	if fmt.Sprint(filtered) != "map[agentgateway_agent_up:3 go_goroutines:1]" {
		t.Errorf("name[] filter gave %v", filtered)
	}
}

// TestTextCompression checks that the text answer is compressed as the
// client's Accept-Encoding asks, with gzip or zstd, and otherwise not.
func TestTextCompression(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(2, "1001", "1002"), nil)
	gw.set("1001", talkingA.body())
	gw.set("1002", noCallBody)
	handler := e.MetricsHandler(HandlerOptions{Gatherer: ownGatherer(), DefaultTimeout: 5 * time.Second})
	for _, tt := range []struct {
		header, want string
	}{
		{"", ""},
		{"gzip", "gzip"},
		{"gzip, deflate, br", "gzip"},
		{"zstd", "zstd"},
		{"gzip, deflate, br, zstd", "zstd"},
		{"zstd;q=0.5, gzip", "gzip"},
		{"br", ""},
		{"gzip;q=0", ""},
		{"identity", ""},
	} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if tt.header != "" {
			req.Header.Set("Accept-Encoding", tt.header)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		resp := rec.Result()
		if got := resp.Header.Get("Content-Encoding"); got != tt.want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tt.header, got, tt.want)
			continue
		}
		text, err := io.ReadAll(decompressed(t, resp))
		if err != nil {
			t.Fatalf("Accept-Encoding %q: %v", tt.header, err)
		}
		if !bytes.Contains(text, []byte("\nagentgateway_agent_up{agent_id=\"1002\",gateway=\"main\"} 1\n")) {
			t.Errorf("Accept-Encoding %q: answer lacks agent 1002 up:\n%s", tt.header, text)
		}
	}
}

// decompressed is the body of resp as its Content-Encoding says.
func decompressed(t *testing.T, resp *http.Response) io.Reader {
	t.Helper()
	switch enc := resp.Header.Get("Content-Encoding"); enc {
	case "":
		return resp.Body
	case "gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return zr
	case "zstd":
		zr, err := zstd.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(zr.Close)
		return zr
	default:
		t.Fatalf("unexpected Content-Encoding %q", enc)
		return nil
	}
}

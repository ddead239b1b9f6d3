package landing

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/collector"
)

func serve(t *testing.T, p *Page, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestPage(t *testing.T) {
	now := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	gateways := []collector.GatewayStatus{
		{Name: `main"><script>x</script>`, URL: "https://exporter:xxxxx@10.1.2.3:8043", Agents: 300,
			LastScrape: now.Add(-75 * time.Second), Queried: 100, Answered: 0,
			LastFailure: &collector.QueryFailure{Reason: "timeout", Agents: 100, At: now.Add(-26 * time.Hour)}},
	}
	p := &Page{Version: "version 1.4.0", MetricsPath: "/metrics", GUIDPush: true, Now: func() time.Time { return now },
		Gateways: func() []collector.GatewayStatus { return gateways },
		LoadedAt: func() (time.Time, bool) { return now.Add(-2 * time.Hour), true }}
	status, page := serve(t, p, "/")
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	for _, want := range []string{
		"version 1.4.0",
		`/probe?gateway=main%22%3e%3cscript%3ex%3c%2fscript%3e`, // the name is query-escaped in links
		"main&#34;&gt;&lt;script&gt;",                           // and HTML-escaped in text
		"0 of 100", "(one shard)",
		"timeout</span> on 100 agents", "2026-12-02 12:00 UTC, 26h 0m ago",
		"13:58:45 UTC", "1m 15s ago",
		"loaded 2026-12-03 12:00:00 UTC (2h 0m ago)", "the latest reload failed",
		`<span class="ok">on</span>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("a gateway name reached the page unescaped")
	}

	if status, _ := serve(t, p, "/metrics/typo"); status != http.StatusNotFound {
		t.Errorf("another path: %d, want 404", status)
	}

	empty := &Page{MetricsPath: "/metrics"}
	if status, page := serve(t, empty, "/"); status != http.StatusOK || !strings.Contains(page, "No gateway is configured") || !strings.Contains(page, "not loaded") {
		t.Errorf("page without configuration: %d\n%s", status, page)
	}
}

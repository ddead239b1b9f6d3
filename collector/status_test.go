package collector

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStatus: the landing page's summary follows the scrapes: agents,
// answers on the latest scrape, the most common failure with its retcode,
// kept (with its time) after the agents recover; no Guid anywhere.
func TestStatus(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001", "1002", "1003", "1004"), nil)

	status := e.Status()
	if len(status) != 1 || status[0].Name != "main" || status[0].Agents != 4 || !status[0].LastScrape.IsZero() || status[0].LastFailure != nil {
		t.Fatalf("before any scrape: %+v", status)
	}
	if !strings.HasPrefix(status[0].URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q", status[0].URL)
	}

	gw.set("1001", noCallBody)
	gw.set("1002", `{"retcode":"100-006","message":"agent not login","result":""}`)
	gw.set("1003", `{"retcode":"100-006","message":"agent not login","result":""}`)
	gw.setStatus("1004", http.StatusBadGateway, "<html>bad gateway</html>")
	before := time.Now()
	scrapeText(t, e)
	s := e.Status()[0]
	if s.Queried != 4 || s.Answered != 1 || s.LastScrape.Before(before) {
		t.Errorf("after a scrape with failures: %+v", s)
	}
	if f := s.LastFailure; f == nil || f.Reason != "retcode" || f.Retcode != "100-006" || f.Agents != 2 || !f.At.Equal(s.LastScrape) {
		t.Errorf("last failure = %+v, want retcode 100-006 on 2 agents at the scrape", f)
	}

	for _, id := range []string{"1002", "1003", "1004"} {
		gw.set(id, noCallBody)
		gw.setStatus(id, http.StatusOK, noCallBody)
	}
	scrapeText(t, e)
	recovered := e.Status()[0]
	if recovered.Answered != 4 || !recovered.LastScrape.After(s.LastScrape) {
		t.Errorf("after recovery: %+v", recovered)
	}
	if f := recovered.LastFailure; f == nil || f.Retcode != "100-006" || !f.At.Equal(s.LastScrape) {
		t.Errorf("the last failure was forgotten or changed after recovery: %+v", f)
	}

	// An older scrape finishing late does not overwrite a newer one.
	e.status.record("main", s.LastScrape.Add(-time.Minute), nil)
	if got := e.Status()[0]; !got.LastScrape.Equal(recovered.LastScrape) || got.Answered != 4 {
		t.Errorf("a late, older scrape replaced the latest: %+v", got)
	}
}

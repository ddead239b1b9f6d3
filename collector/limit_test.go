package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestMaxRequests: with a limit of one scrape at a time, shared by /metrics
// and /probe, a second scrape while one runs gets 503 at once and sends
// nothing to the gateway; once the first is done scrapes are served again.
func TestMaxRequests(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001"), nil)
	gw.set("1001", noCallBody)
	gw.setDelay("1001", time.Minute)
	opts := HandlerOptions{DefaultTimeout: time.Minute, MaxRequests: NewRequestLimit(1)}
	handlers := map[string]http.Handler{"/metrics": e.MetricsHandler(opts), "/probe?gateway=main": e.ProbeHandler(opts)}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		handlers["/metrics"].ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil).WithContext(ctx))
		done <- rec.Code
	}()
	for deadline := time.Now().Add(5 * time.Second); gw.requests.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	for target, handler := range handlers {
		rec := httptest.NewRecorder()
		started := time.Now()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s over the limit answered %d, want 503", target, rec.Code)
		}
		if elapsed := time.Since(started); elapsed > 5*time.Second {
			t.Errorf("%s over the limit took %v to answer", target, elapsed)
		}
	}
	if n := gw.requests.Load(); n != 1 {
		t.Errorf("gateway got %d queries, want 1: scrapes over the limit must not query", n)
	}
	cancel()
	<-done

	gw.setDelay("1001", 0)
	for target, handler := range handlers {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s after the first scrape ended answered %d, want 200", target, rec.Code)
		}
	}
}

package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/agentgateway/agentgateway_exporter/gateway"
	"github.com/agentgateway/agentgateway_exporter/internal/syncbuf"
)

// sharingYAML is a gateway with min_interval and the given concurrency.
func sharingYAML(gw *fakeGateway, concurrency int, ids ...string) string {
	return strings.Replace(gw.configYAML(concurrency, ids...), "    agents:\n", "    min_interval: 1m\n    agents:\n", 1)
}

// scrapeWithin runs one scrape with the given budget and returns each
// agent's observation by id.
func scrapeWithin(t *testing.T, e *Exporter, budget time.Duration) map[string]*observation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	sc, err := e.newScrape(ctx, selection{})
	if err != nil {
		t.Fatal(err)
	}
	r := sc.run()
	out := map[string]*observation{}
	for i := range r.results {
		for j, a := range r.results[i].agents {
			out[a.id] = r.results[i].observations[j]
		}
	}
	return out
}

func reasonOf(obs *observation) string {
	if obs.err == nil {
		return "ok"
	}
	return string(obs.err.Reason)
}

// TestMinIntervalSharesOnlyGatewayAnswers: within min_interval (the
// exporter's clock is frozen, so every scrape is within it) a scrape
// reuses what the gateway answered, success or retcode, but never a
// timeout that happened on the exporter's side: neither a query cut off by
// another scrape's short deadline nor one that never got a connection
// slot. A scrape with a longer budget queries those agents itself.
func TestMinIntervalSharesOnlyGatewayAnswers(t *testing.T) {
	gw := newFakeGateway(t)
	// One slot: 1001 hangs in it, so 1002 and 1003 time out waiting for it.
	e := newTestExporter(t, sharingYAML(gw, 1, "1001", "1002", "1003"), nil)
	gw.set("1001", talkingA.body())
	gw.set("1002", noCallBody)
	gw.set("1003", `{"message":"not signed in","retcode":"100-006"}`)
	gw.setDelay("1001", time.Minute)

	for _, step := range []struct {
		name    string
		budget  time.Duration
		want    map[string]string
		queries int64
	}{
		{"short scrape", 300 * time.Millisecond, map[string]string{"1001": "timeout", "1002": "timeout", "1003": "timeout"}, 1},
		// Every agent again: no local timeout is shared.
		{"long scrape after a short one", 5 * time.Second, map[string]string{"1001": "ok", "1002": "ok", "1003": "retcode"}, 3},
		// Nothing: the gateway's answers are shared.
		{"third scrape", 5 * time.Second, map[string]string{"1001": "ok", "1002": "ok", "1003": "retcode"}, 0},
	} {
		requests := gw.requests.Load()
		got := scrapeWithin(t, e, step.budget)
		for id, want := range step.want {
			if reason := reasonOf(got[id]); reason != want {
				t.Errorf("%s: agent %s %s, want %s", step.name, id, reason, want)
			}
		}
		if sent := gw.requests.Load() - requests; sent != step.queries {
			t.Errorf("%s sent %d queries, want %d", step.name, sent, step.queries)
		}
		gw.setDelay("1001", 0)
	}
}

// TestMinIntervalWaiterQueriesItself: a scrape that waited for another
// scrape's query, which then timed out under that scrape's short budget,
// asks the gateway itself instead of taking the timeout.
func TestMinIntervalWaiterQueriesItself(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, sharingYAML(gw, 4, "1001"), nil)
	gw.set("1001", noCallBody)
	gw.setDelay("1001", time.Minute)

	var wg sync.WaitGroup
	wg.Go(func() { scrapeWithin(t, e, time.Second) })
	for deadline := time.Now().Add(5 * time.Second); gw.requests.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	gw.setDelay("1001", 0)
	long := scrapeWithin(t, e, 10*time.Second)
	wg.Wait()
	if got := reasonOf(long["1001"]); got != "ok" {
		t.Errorf("scrape that waited on a short scrape's query: %s, want ok", got)
	}
}

// TestMinIntervalClock: shared answers age on the exporter's clock.
func TestMinIntervalClock(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, sharingYAML(gw, 4, "1001"), nil)
	gw.set("1001", noCallBody)
	now := testNow
	e.opts.Now = func() time.Time { return now }
	for i, step := range []struct {
		advance time.Duration
		queries int64
	}{{0, 1}, {59 * time.Second, 1}, {time.Second, 2}, {30 * time.Second, 2}, {31 * time.Second, 3}} {
		now = now.Add(step.advance)
		scrapeWithin(t, e, 5*time.Second)
		if got := gw.requests.Load(); got != step.queries {
			t.Errorf("step %d (+%v): %d queries so far, want %d", i, step.advance, got, step.queries)
		}
	}
}

// TestAbandonedScrapeCountsNothing: a client that goes away (curl's
// Ctrl-C, Prometheus giving up) cancels its scrape; the queries it cut off
// are no gateway timeouts and are not counted, while a scrape whose own
// deadline runs out counts them as timeouts.
func TestAbandonedScrapeCountsNothing(t *testing.T) {
	for _, tc := range []struct {
		name     string
		header   string // the scrape's budget
		cancel   bool   // the client goes away
		timeouts float64
	}{
		{name: "client cancelled", header: "30", cancel: true, timeouts: 0},
		{name: "deadline ran out", header: "0.3", timeouts: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := newFakeGateway(t)
			var logs syncbuf.Buffer
			e := newTestExporter(t, gw.configYAML(4, "1001"), log.NewLogfmtLogger(&logs))
			gw.set("1001", noCallBody)
			gw.setDelay("1001", time.Minute)
			handler := e.MetricsHandler(HandlerOptions{DefaultTimeout: 30 * time.Second})

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil).WithContext(ctx)
			req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", tc.header)
			done := make(chan struct{})
			go func() {
				defer close(done)
				handler.ServeHTTP(httptest.NewRecorder(), req)
			}()
			if tc.cancel {
				for deadline := time.Now().Add(5 * time.Second); gw.requests.Load() == 0 && time.Now().Before(deadline); {
					time.Sleep(5 * time.Millisecond)
				}
				cancel()
			}
			<-done

			gw.setDelay("1001", 0)
			got := seriesValue(t, e, "agentgateway_agent_query_errors_total", map[string]string{"reason": string(gateway.ReasonTimeout)})
			if got == -1 {
				got = 0
			}
			if got != tc.timeouts {
				t.Errorf("timeouts counted = %v, want %v", got, tc.timeouts)
			}
			if tc.cancel && !strings.Contains(logs.String(), "level=debug") {
				t.Errorf("abandoned scrape not logged at debug:\n%s", logs.String())
			}
			if tc.cancel && strings.Contains(logs.String(), "agent query failing") {
				t.Errorf("abandoned scrape logged as a failing agent:\n%s", logs.String())
			}
		})
	}
}

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/agentgateway/agentgateway_exporter/collector"
	guidstore "github.com/agentgateway/agentgateway_exporter/internal/guids"
)

// TestSimulateDynamicAuth runs --simulate's set-up with short Guid
// intervals (renewed every 2 s, valid 4 s after renewal): while the session
// owner pushes, a minute of scrapes shows every agent up; when its pushes
// stop, the agents turn no_guid after guid_ttl and the gateway gets no more
// queries for them; when they resume, the next scrape finds them up again.
// It runs on the real clock, as the session owner polls in real time, with
// margins wide enough for a loaded machine.
func TestSimulateDynamicAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for over a minute")
	}
	const agents = 10
	ttl := 5 * time.Second
	sim, err := startSimulator(simulationOptions{agents: agents, guidInterval: 2 * time.Second, guidTimeout: 4 * time.Second,
		guidTTL: ttl, pollWait: 500 * time.Millisecond}, log.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	store := guidstore.NewStore(time.Now)
	exporter := collector.New(collector.Options{GUIDs: store})
	cfg, err := sim.load()
	if err != nil {
		t.Fatal(err)
	}
	if err := exporter.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if err := sim.startSessionOwner(guidstore.NewPushHandler(store, sim.token, nil), log.NewNopLogger()); err != nil {
		t.Fatal(err)
	}
	handler := exporter.MetricsHandler(collector.HandlerOptions{DefaultTimeout: 5 * time.Second})
	// up returns, for one scrape, how many agents were up and how many
	// reported no_guid.
	scrape := func() (up, noGUID int) {
		t.Helper()
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil).WithContext(context.Background()))
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range families["agentgateway_agent_up"].GetMetric() {
			up += int(m.GetGauge().GetValue())
		}
		for _, m := range families["agentgateway_agent_state"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "state" && l.GetValue() == "no_guid" {
					noGUID += int(m.GetGauge().GetValue())
				}
			}
		}
		return up, noGUID
	}
	waitUntil := func(what string, limit time.Duration, done func() bool) {
		t.Helper()
		for deadline := time.Now().Add(limit); !done(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, limit)
			}
		}
	}

	waitUntil("every agent signed in and its Guid pushed", 30*time.Second, func() bool { up, _ := scrape(); return up == agents })
	failed := 0
	for i := range 60 {
		if up, _ := scrape(); up != agents {
			failed += agents - up
			t.Errorf("scrape %d: %d of %d agents up", i, up, agents)
		}
		time.Sleep(time.Second)
	}
	if renewals := sim.desktop.Stats().Renewals; renewals < agents*10 {
		t.Errorf("only %d Guid renewals in a minute: the test did not exercise renewal", renewals)
	}
	t.Logf("a minute of scrapes: %d failed queries; session owner: %+v", failed, sim.desktop.Stats())

	sim.desktop.PausePushes()
	waitUntil("agents no_guid after the pushes stopped", ttl+10*time.Second, func() bool { _, n := scrape(); return n == agents })
	before := sim.Stats().RequestsByAgent
	for range 3 {
		time.Sleep(500 * time.Millisecond)
		if up, n := scrape(); up != 0 || n != agents {
			t.Errorf("without pushes: %d up, %d no_guid", up, n)
		}
	}
	after := sim.Stats().RequestsByAgent
	for id, n := range after {
		if n != before[id] {
			t.Errorf("agent %s: %d queries reached the gateway without a usable Guid", id, n-before[id])
		}
	}

	pushes := sim.desktop.Stats().Pushes
	sim.desktop.ResumePushes()
	waitUntil("the held-back Guids pushed", 10*time.Second, func() bool { return sim.desktop.Stats().Pushes > pushes })
	if up, n := scrape(); up != agents {
		t.Errorf("first scrape after the pushes resumed: %d up, %d no_guid", up, n)
	}
}

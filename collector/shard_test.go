package collector

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// TestShardedProbesCoverEveryAgentOnce scrapes one gateway only through
// /probe shards, as replicas splitting it would, while calls start and end:
// every agent must be served by exactly one shard, the one shardOf names,
// and the call histograms and leave-reason counters summed over the shards
// must count every ended call exactly once. Shards are fetched in the text
// format and in protobuf, which take different paths through the handler.
func TestShardedProbesCoverEveryAgentOnce(t *testing.T) {
	const agents, shards = 40, 4
	gw := newFakeGateway(t)
	ids := make([]string, agents)
	for i := range ids {
		ids[i] = strconv.Itoa(1001 + i)
	}
	e := newTestExporter(t, gw.configYAML(8, ids...), nil)
	handler := e.ProbeHandler(HandlerOptions{DefaultTimeout: 5 * time.Second})

	probe := func(shard int, accept string) map[string]*dto.MetricFamily {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/probe?gateway=main&shard=%d&shards=%d", shard, shards), nil)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("shard %d: HTTP %d: %s", shard, rec.Code, rec.Body)
		}
		families := map[string]*dto.MetricFamily{}
		decoder := expfmt.NewDecoder(rec.Body, expfmt.ResponseFormat(rec.Result().Header))
		for {
			mf := &dto.MetricFamily{}
			if err := decoder.Decode(mf); errors.Is(err, io.EOF) {
				return families
			} else if err != nil {
				t.Fatal(err)
			}
			families[mf.GetName()] = mf
		}
	}
	label := func(m *dto.Metric, name string) string {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == name {
				return lp.GetValue()
			}
		}
		return ""
	}

	// call is agent i's n-th call; it ends at step end.
	call := func(i, n int, ended bool) testCall {
		c := testCall{id: fmt.Sprintf("17000%03d%02d-%d", i, n, n), waitAgo: 100, answerAgo: 90, talkAgo: 80}
		if ended {
			c.endAgo, c.leaveReason = 20, 15+i%3
		}
		return c
	}
	// Each step says, per agent, which call it shows and whether it ended.
	steps := []func(i int) (n int, ended bool){
		func(int) (int, bool) { return 1, false },                // everyone talking
		func(i int) (int, bool) { return 1, i%2 == 0 },           // even agents' calls end
		func(i int) (int, bool) { return 1 + (i+1)%2, i%2 == 1 }, // odd calls end, even agents on a second call
		func(i int) (int, bool) { return 1 + (i+1)%2, true },     // every call has ended
		func(i int) (int, bool) { return 1 + (i+1)%2, true },     // and is not counted again
	}
	accepts := []string{
		"text/plain;version=0.0.4",
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
	}

	var last [shards]map[string]*dto.MetricFamily
	for step, state := range steps {
		for i, id := range ids {
			n, ended := state(i)
			gw.set(id, call(i, n, ended).body())
		}
		served := map[string]int{}
		for shard := range shards {
			last[shard] = probe(shard, accepts[(step+shard)%len(accepts)])
			for _, m := range last[shard]["agentgateway_agent_up"].GetMetric() {
				id := label(m, "agent_id")
				served[id]++
				if want := shardOf(id, shards); want != shard {
					t.Errorf("step %d: agent %s served by shard %d, belongs to %d", step, id, shard, want)
				}
				if m.GetGauge().GetValue() != 1 {
					t.Errorf("step %d: agent %s is down", step, id)
				}
			}
			if got := last[shard]["agentgateway_gateway_agents"].GetMetric()[0].GetGauge().GetValue(); int(got) != len(last[shard]["agentgateway_agent_up"].GetMetric()) {
				t.Errorf("step %d, shard %d: gateway_agents %v, but %d agents reported", step, shard, got, len(last[shard]["agentgateway_agent_up"].GetMetric()))
			}
		}
		for _, id := range ids {
			if served[id] != 1 {
				t.Errorf("step %d: agent %s served by %d shards, want exactly 1", step, id, served[id])
			}
		}
	}

	// Every agent's first call ended, and the even agents' second call too.
	wantEnded := agents + agents/2
	for _, name := range []string{"agentgateway_call_wait_duration_seconds", "agentgateway_call_talk_duration_seconds", "agentgateway_call_ring_duration_seconds"} {
		total := uint64(0)
		for shard := range shards {
			for _, m := range last[shard][name].GetMetric() {
				total += m.GetHistogram().GetSampleCount()
			}
		}
		if total != uint64(wantEnded) {
			t.Errorf("%s: %d observations summed over the shards, want one per ended call: %d", name, total, wantEnded)
		}
	}
	leaves := 0.0
	for shard := range shards {
		for _, m := range last[shard]["agentgateway_call_leave_reason_total"].GetMetric() {
			leaves += m.GetCounter().GetValue()
		}
	}
	if leaves != float64(wantEnded) {
		t.Errorf("leave reasons summed over the shards: %v, want %d", leaves, wantEnded)
	}
}

package collector

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// hostileGateway answers every query with values never seen before: agents
// below 2000 with a new retcode (every fourth not of the NNN-NNN form),
// the others with a new ended call, each with a new leave reason (small
// integers first, then larger ones), skill name and id, media type and
// call type.
type hostileGateway struct {
	n               atomic.Int64
	retcodes, calls atomic.Int64
}

func (h *hostileGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := h.n.Add(1)
	agentID := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/agentgateway/resource/calldata/"), "/callinfo")
	if agentID < "2000" {
		h.retcodes.Add(1)
		retcode := fmt.Sprintf("9%02d-%03d", n/1000%100, n%1000)
		if n%4 == 0 {
			retcode = fmt.Sprintf("E%d", n)
		}
		fmt.Fprintf(w, `{"message":"no","retcode":%q}`, retcode)
		return
	}
	h.calls.Add(1)
	fmt.Fprintf(w, `{"message":"","retcode":"0","result":{"callid":"c-%d","callskill":"skill %d","callskillid":%d,`+
		`"mediaType":%d,"callfeature":%d,"begintime":1700000000000,"endtime":1700000060000,`+
		`"trace":{"waitBeginTime":1700000000000,"waitEndTime":1700000010000,"leaveReason":%d}}}`, n, n, n, n, n, 100+n)
}

// labelValues returns the distinct values of label over a family's series.
func labelValues(families []*dto.MetricFamily, metric, label string) map[string]bool {
	values := map[string]bool{}
	for _, mf := range families {
		if mf.GetName() != metric {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label {
					values[lp.GetValue()] = true
				}
			}
		}
	}
	return values
}

// TestLabelValuesFromGatewayAreBounded: a gateway sending a new retcode,
// leave reason, skill, media type and call type in every answer makes at most the documented
// number of label values per label (plus "other"), and what was folded is
// counted, exactly, and stays folded across a reload.
func TestLabelValuesFromGatewayAreBounded(t *testing.T) {
	hostile := &hostileGateway{}
	server := httptest.NewServer(hostile)
	t.Cleanup(server.Close)
	var ids []string
	for i := range 50 {
		ids = append(ids, fmt.Sprint(1001+i), fmt.Sprint(2001+i))
	}
	yaml := strings.Replace((&fakeGateway{server: server}).configYAML(16, ids...), "timeout: 2s", "timeout: 5s", 1)
	e := newTestExporter(t, yaml, nil)
	const scrapes = 40 // 2,000 retcodes and 2,000 calls
	for range scrapes {
		runScrape(t, e, selection{})
	}

	gather := func() []*dto.MetricFamily {
		t.Helper()
		registry := prometheus.NewPedanticRegistry()
		registry.MustRegister(scrapeCollector(t, e, 10*time.Second))
		families, err := registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		return families
	}
	families := gather()
	for _, c := range []struct {
		metric, label string
		max           int
	}{
		{"agentgateway_agent_query_errors_total", "retcode", maxRetcodes + 2}, // + "" and "other"
		{"agentgateway_agent_query_failed", "retcode", maxRetcodes + 1},
		{"agentgateway_call_leave_reason_total", "reason", maxLeaveReasons + len(keptLeaveReasons) + 1},
		{"agentgateway_call_leave_reason_total", "reason_desc", maxLeaveReasons + len(keptLeaveReasons) + 1},
		{"agentgateway_call_info", "skill", maxSkills + 1},
		{"agentgateway_call_info", "skill_id", maxSkills + 1},
		{"agentgateway_call_info", "media_type", maxCallCodes + 1},
		{"agentgateway_call_info", "call_feature", maxCallCodes + 1},
		{"agentgateway_call_wait_duration_seconds", "skill", maxSkills + 1},
		{"agentgateway_call_wait_duration_seconds", "media_type", maxCallCodes + 1},
	} {
		values := labelValues(families, c.metric, c.label)
		if len(values) > c.max || !values[otherLabelValue] {
			t.Errorf("%s: %d values of %s, want at most %d including %q", c.metric, len(values), c.label, c.max, otherLabelValue)
		}
	}

	// Every value is new, so all but the first of each limit are folded;
	// the first answer of each agent sets the baseline and ends no call.
	retcodes, calls := float64(hostile.retcodes.Load()), float64(hostile.calls.Load())
	ended := calls - 50
	for label, want := range map[string]float64{
		"retcode":      retcodes - maxRetcodes,
		"reason":       ended - maxLeaveReasons,
		"skill":        calls - maxSkills,
		"skill_id":     calls - maxSkills,
		"media_type":   calls - maxCallCodes,
		"call_feature": calls - maxCallCodes,
	} {
		got := seriesValueIn(families, "agentgateway_label_values_folded_total", map[string]string{"gateway": "main", "label": label})
		if got != want {
			t.Errorf("label_values_folded_total{label=%q} = %v, want %v", label, got, want)
		}
	}

	// The values seen are kept across a reload: new ones stay folded.
	applyYAML(t, e, yaml)
	before := seriesValueIn(gather(), "agentgateway_label_values_folded_total", map[string]string{"label": "retcode"})
	after := seriesValueIn(gather(), "agentgateway_label_values_folded_total", map[string]string{"label": "retcode"})
	if after-before != 50 {
		t.Errorf("after a reload a scrape folded %v retcodes, want 50", after-before)
	}
}

// TestLabelFoldForms: values outside their documented form are folded at
// once; documented values the rules rely on are never folded.
func TestLabelFoldForms(t *testing.T) {
	folds := newLabelFolds()
	for _, c := range []struct {
		fold *labelFold
		in   string
		want string
	}{
		{&folds.retcode, "100-006", "100-006"},
		{&folds.retcode, "100-06", otherLabelValue},
		{&folds.retcode, "1000006", otherLabelValue},
		{&folds.retcode, "abc-def", otherLabelValue},
		{&folds.retcode, "", ""},
		{&folds.reason, "999", "999"},
		{&folds.reason, "1000", otherLabelValue},
		{&folds.reason, "-1", otherLabelValue},
		{&folds.reason, "unobserved", "unobserved"},
		{&folds.skill, "voice", "voice"},
		{&folds.skill, "语音 队列", "语音 队列"},
		{&folds.skill, "a\nb", otherLabelValue},
		{&folds.skill, strings.Repeat("x", 129), otherLabelValue},
		{&folds.skillID, "20011", "20011"},
		{&folds.skillID, "-3", otherLabelValue},
		{&folds.mediaType, "53", "53"},
		{&folds.mediaType, "5000", otherLabelValue},
	} {
		if got := c.fold.value(c.in); got != c.want {
			t.Errorf("%s %q folded to %q, want %q", c.fold.label, c.in, got, c.want)
		}
	}
	for i := range 2 * maxRetcodes {
		folds.retcode.value(fmt.Sprintf("900-%03d", i))
	}
	for _, kept := range []string{"100-006", "000-003", "105-007"} {
		if got := folds.retcode.value(kept); got != kept {
			t.Errorf("session retcode %s folded to %q once the limit was reached", kept, got)
		}
	}
}

// TestCallLabelSetsAreSharedAndBounded: calls with the same label values
// share one label set, which keeps no part of the answer, and a gateway
// sending ever new combinations gets correct labels beyond the bound
// without the shared sets growing past it.
func TestCallLabelSetsAreSharedAndBounded(t *testing.T) {
	f := newLabelFolds()
	call := func(feature, skillID int64) *gateway.CallInfo {
		return &gateway.CallInfo{CallFeature: gateway.NumberOf(feature), MediaType: gateway.NumberOf(5),
			CallSkill: gateway.Text(fmt.Sprintf("skill-%d", skillID)), CallSkillID: gateway.NumberOf(skillID)}
	}
	first, second := f.callLabels(call(7, 20011)), f.callLabels(call(7, 20011))
	if first != second {
		t.Errorf("two calls with the same labels got two label sets")
	}
	if want := (callLabels{"7", "5", "skill-20011", "20011"}); *first != want {
		t.Errorf("labels %+v, want %+v", *first, want)
	}
	combinations := 0
	for feature := int64(0); feature < 30; feature++ {
		for skill := int64(1); skill <= 200; skill++ {
			got := f.callLabels(call(feature, skill))
			combinations++
			want := callLabels{fmt.Sprint(feature), "5", fmt.Sprintf("skill-%d", skill), fmt.Sprint(skill)}
			if *got != want {
				t.Fatalf("labels %+v, want %+v", *got, want)
			}
		}
	}
	if combinations <= maxCallLabelSets {
		t.Fatalf("the test offers %d combinations, not more than the bound %d", combinations, maxCallLabelSets)
	}
	if len(f.calls.keys) != maxCallLabelSets {
		t.Errorf("%d shared label sets, want the bound %d", len(f.calls.keys), maxCallLabelSets)
	}
}

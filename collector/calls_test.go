package collector

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"
)

// testCall builds gateway answers; times are seconds before testNow, 0 =
// not set.
type testCall struct {
	id                          string
	waitAgo, answerAgo, talkAgo int64
	endAgo                      int64 // 0 = still in progress
	leaveReason                 any   // nil = not sent
	skill                       string
	media                       int
	dropEndTimes                bool // as for a previous call
}

func ago(seconds int64) int64 {
	if seconds == 0 {
		return 0
	}
	return testNow.UnixMilli() - seconds*1000
}

func (c testCall) body() string {
	trace := map[string]any{
		"waitBeginTime": ago(c.waitAgo), "answerBeginTime": ago(c.answerAgo), "talkBeginTime": ago(c.talkAgo),
		"deviceType": 2, "callDirectMode": "NORMAL_DIRECT", "enterReason": 0, "enterReasonDesc": "Normal reason",
	}
	if !c.dropEndTimes {
		trace["waitEndTime"] = ago(c.answerAgo)
		if c.talkAgo != 0 {
			trace["answerEndTime"] = ago(c.talkAgo)
		}
		if c.endAgo != 0 && c.talkAgo != 0 {
			trace["talkEndTime"] = ago(c.endAgo)
		}
		if c.leaveReason != nil {
			trace["leaveReason"] = c.leaveReason
		}
	}
	skill, media := c.skill, c.media
	if skill == "" {
		skill = "voice"
	}
	if media == 0 {
		media = 5
	}
	var end any
	if c.endAgo != 0 {
		end = ago(c.endAgo)
	}
	result := map[string]any{
		"callfeature": 0, "callid": c.id, "caller": "70004", "called": "60015", "callskill": skill,
		"callskillid": 20011, "begintime": ago(c.answerAgo), "endtime": end, "logontimes": 3600,
		"mediaType": media, "mediaAbility": 1, "trace": trace,
	}
	out, _ := json.Marshal(map[string]any{"message": "", "retcode": "0", "result": result})
	return string(out)
}

const noCallBody = `{"message":"","retcode":"0","result":""}`

var (
	talkingA = testCall{id: "1700000000-1", waitAgo: 100, answerAgo: 90, talkAgo: 80}
	endedA   = testCall{id: "1700000000-1", waitAgo: 100, answerAgo: 90, talkAgo: 80, endAgo: 20, leaveReason: 16}
	endedB   = testCall{id: "1700000050-2", waitAgo: 50, answerAgo: 45, talkAgo: 40, endAgo: 10, leaveReason: 15}
)

func leaveCount(t *testing.T, e *Exporter, reason string) float64 {
	t.Helper()
	return seriesValue(t, e, "agentgateway_call_leave_reason_total", map[string]string{"agent_id": "1001", "reason": reason})
}

func TestLeaveReasonCountedOnceOverRepeatedScrapes(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001"), nil)
	gw.set("1001", talkingA.body())
	if got := leaveCount(t, e, "16"); got != 0 {
		t.Fatalf("call in progress already counted: %v", got)
	}
	gw.set("1001", endedA.body())
	for scrape := 1; scrape <= 3; scrape++ {
		if got := leaveCount(t, e, "16"); got != 1 {
			t.Fatalf("scrape %d: leave reason 16 = %v, want 1", scrape, got)
		}
	}
	// The previous-call view that drops the leave reason is the same call.
	ended := endedA
	ended.dropEndTimes = true
	gw.set("1001", ended.body())
	if got := leaveCount(t, e, "unknown"); got != 0 {
		t.Fatalf("same call counted again as unknown: %v", got)
	}
}

func TestLeaveReasonCountedOnceUnderConcurrentScrapes(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001"), nil)
	gw.set("1001", talkingA.body())
	scrapeText(t, e)
	gw.set("1001", endedA.body())
	gw.setDelay("1001", 20*time.Millisecond)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { scrapeText(t, e) })
	}
	wg.Wait()
	if got := leaveCount(t, e, "16"); got != 1 {
		t.Fatalf("leave reason 16 = %v after concurrent scrapes, want 1", got)
	}
	if got := seriesValue(t, e, "agentgateway_call_talk_duration_seconds", nil); got != 1 {
		t.Fatalf("talk histogram has %v observations, want 1", got)
	}
}

func TestLeaveReasonRestartBaseline(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001"), nil)
	gw.set("1001", endedA.body())
	for range 2 {
		if got := leaveCount(t, e, "16"); got != 0 {
			t.Fatalf("a call that ended before the first look was counted: %v", got)
		}
	}
	gw.set("1001", endedB.body())
	if got := leaveCount(t, e, "15"); got != 1 {
		t.Fatalf("a call ending after the first look: leave reason 15 = %v, want 1", got)
	}
}

func TestLeaveReasonBaselineWaitsForFirstSuccess(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001"), nil)
	gw.set("1001", `{"retcode":"100-006","message":"agent not login","result":""}`)
	scrapeText(t, e)
	gw.set("1001", endedA.body())
	if got := leaveCount(t, e, "16"); got != 0 {
		t.Fatalf("first successful look counted an old call: %v", got)
	}
}

func TestLeaveReasonUnobserved(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001"), nil)
	gw.set("1001", talkingA.body())
	scrapeText(t, e)
	gw.set("1001", noCallBody)
	for scrape := 1; scrape <= 2; scrape++ {
		if got := leaveCount(t, e, "unobserved"); got != 1 {
			t.Fatalf("scrape %d: unobserved = %v, want 1", scrape, got)
		}
	}
	// A failed query in between says nothing about the call.
	gw.set("1001", talkingA.body())
	scrapeText(t, e)
	gw.set("1001", "<html>502</html>")
	scrapeText(t, e)
	gw.set("1001", talkingA.body())
	if got := leaveCount(t, e, "unobserved"); got != 1 {
		t.Fatalf("a failed query made the call unobserved: %v", got)
	}
	// Replaced by another call whose end is seen: one unobserved, one counted.
	gw.set("1001", endedB.body())
	if got := leaveCount(t, e, "unobserved"); got != 2 {
		t.Fatalf("unobserved = %v, want 2", got)
	}
	if got := leaveCount(t, e, "15"); got != 1 {
		t.Fatalf("leave reason 15 = %v, want 1", got)
	}
}

func TestLeaveReasonCodes(t *testing.T) {
	tests := []struct {
		leaveReason        any
		reason, reasonDesc string
	}{
		{16, "16", "agent released"},
		{"50", "50", "agent rejected"},
		{99, "99", "unknown"},
		{nil, "unknown", "unknown"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.leaveReason), func(t *testing.T) {
			gw := newFakeGateway(t)
			e := newTestExporter(t, gw.configYAML(4, "1001"), nil)
			gw.set("1001", talkingA.body())
			scrapeText(t, e)
			ended := endedA
			ended.leaveReason = tt.leaveReason
			gw.set("1001", ended.body())
			labels := map[string]string{"agent_id": "1001", "reason": tt.reason, "reason_desc": tt.reasonDesc}
			if got := seriesValue(t, e, "agentgateway_call_leave_reason_total", labels); got != 1 {
				t.Errorf("series %v = %v, want 1", labels, got)
			}
		})
	}
}

// TestCommonLeaveReasonsStartAtZero: rate() only sees increments of a
// series it already knows, so the common reasons exist before their first
// call; rarer ones appear when they happen.
func TestCommonLeaveReasonsStartAtZero(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001"), nil)
	gw.set("1001", noCallBody)
	for _, reason := range []string{"15", "16", "17", "26", "50", "88", "89", "unknown", "unobserved"} {
		if got := leaveCount(t, e, reason); got != 0 {
			t.Errorf("leave reason %s before any call = %v, want 0", reason, got)
		}
	}
	if got := leaveCount(t, e, "99"); got != -1 {
		t.Errorf("rare leave reason 99 exported before it happened: %v", got)
	}
}

func TestCallTrackerIgnoresOlderAnswers(t *testing.T) {
	var tracker callTracker
	in := mustCall(t, talkingA.body())
	out := mustCall(t, endedA.body())
	t0 := time.Unix(1000, 0)
	tracker.observe(t0, in)
	if ended := tracker.observe(t0.Add(2*time.Second), out); len(ended) != 1 {
		t.Fatalf("ended calls = %d, want 1", len(ended))
	}
	// A slow scrape's older answer arrives after the newer one.
	if ended := tracker.observe(t0.Add(time.Second), in); len(ended) != 0 {
		t.Fatalf("stale answer produced %d ended calls", len(ended))
	}
	if ended := tracker.observe(t0.Add(3*time.Second), out); len(ended) != 0 {
		t.Fatalf("stale answer revived the call: %d ended calls", len(ended))
	}
}

package simulator

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

func phaseOf(ct callTimes) Phase {
	switch {
	case !ct.endNull:
		return PhaseEnded
	case ct.talkBegin != 0:
		return PhaseTalking
	case ct.answerBegin != 0:
		return PhaseRinging
	default:
		return PhaseQueued
	}
}

// checkTimesOrdered checks the relations every answer must keep, whatever the phase.
func checkTimesOrdered(t *testing.T, ct callTimes, nowMillis int64, raw []byte) {
	t.Helper()
	fail := func(what string) { t.Fatalf("%s in %s", what, raw) }
	if ct.waitBegin == 0 {
		fail("waitBeginTime unset")
	}
	for _, v := range []int64{ct.waitBegin, ct.waitEnd, ct.answerBegin, ct.answerEnd, ct.talkBegin, ct.talkEnd, ct.end} {
		if v > nowMillis {
			fail("a time after the clock")
		}
	}
	if ct.begin != ct.answerBegin {
		fail("begintime differs from answerBeginTime")
	}
	if ct.answerBegin != 0 && (ct.waitEnd != ct.answerBegin || ct.answerBegin < ct.waitBegin) {
		fail("ringing does not start where queueing ends")
	}
	if ct.answerBegin == 0 && (ct.waitEnd != 0 || ct.answerEnd != 0 || ct.talkBegin != 0) {
		fail("later times set while queued")
	}
	if ct.answerEnd != 0 && ct.answerEnd < ct.answerBegin {
		fail("answer phase ends before it begins")
	}
	if ct.talkBegin != 0 && ct.talkBegin != ct.answerEnd {
		fail("talk does not start where the answer phase ends")
	}
	if ct.talkEnd != 0 && ct.talkEnd < ct.talkBegin {
		fail("talk ends before it begins")
	}
	if ct.endNull != (ct.talkEnd == 0 && (ct.talkBegin != 0 || ct.answerEnd == 0)) {
		fail("endtime null does not match the phase")
	}
	if !ct.endNull && ct.end != max(ct.talkEnd, ct.answerEnd) {
		fail("endtime is not the end of the last phase")
	}
}

func TestLifecyclePhasesFollowEachOtherInOrder(t *testing.T) {
	s, clock := newTestSimulator(t, Options{Agents: 5, Seed: 7})
	type seen struct {
		phase  Phase
		times  callTimes
		phases map[Phase]bool
	}
	var complete, withoutTalk int
	for _, id := range s.AgentIDs() {
		clock.Set(testStart)
		calls := map[string]*seen{}
		var order []string
		for step := 0; step < 10*60*4; step++ {
			now := clock.Advance(250 * time.Millisecond)
			r := queryAgent(t, s, id, false).mustSucceed(t)
			if _, ok := r.result(); !ok {
				continue
			}
			ct := r.times(t)
			checkTimesOrdered(t, ct, now.UnixMilli(), r.raw)
			callID := r.str(t, "result", "callid")
			c, ok := calls[callID]
			if !ok {
				if len(order) > 0 && calls[order[len(order)-1]].phase != PhaseEnded {
					t.Fatalf("agent %s: call %s replaced call %s before it ended", id, callID, order[len(order)-1])
				}
				c = &seen{phases: map[Phase]bool{}}
				calls[callID] = c
				order = append(order, callID)
			} else if order[len(order)-1] != callID {
				t.Fatalf("agent %s: call %s came back after %s", id, callID, order[len(order)-1])
			}
			phase := phaseOf(ct)
			if phase < c.phase {
				t.Fatalf("agent %s call %s went back from %s to %s", id, callID, c.phase, phase)
			}
			// A time once reported never changes.
			prev, cur := c.times, ct
			for i, pair := range [][2]int64{{prev.waitBegin, cur.waitBegin}, {prev.waitEnd, cur.waitEnd},
				{prev.answerBegin, cur.answerBegin}, {prev.answerEnd, cur.answerEnd},
				{prev.talkBegin, cur.talkBegin}, {prev.talkEnd, cur.talkEnd}} {
				if pair[0] != 0 && pair[0] != pair[1] {
					t.Fatalf("agent %s call %s: time %d changed from %d to %d", id, callID, i, pair[0], pair[1])
				}
			}
			c.phase, c.times = phase, ct
			c.phases[phase] = true
		}
		for _, c := range calls {
			if c.phases[PhaseQueued] && c.phases[PhaseRinging] && c.phases[PhaseTalking] && c.phases[PhaseEnded] {
				complete++
			}
			if c.phases[PhaseRinging] && c.phases[PhaseEnded] && !c.phases[PhaseTalking] {
				withoutTalk++
			}
		}
	}
	if complete < 10 {
		t.Errorf("only %d calls were seen queued, ringing, talking and ended", complete)
	}
	if withoutTalk == 0 {
		t.Error("no call ended without talk (rejected, abandoned, not answered)")
	}
}

func TestLifecycleOverAnHourGivesManySaneCalls(t *testing.T) {
	const agents = 10
	opts := Options{Agents: agents, Seed: 42, LastCallKeys: LastCallKeysPresent}
	s, clock := newTestSimulator(t, opts)
	opts = opts.withDefaults()

	type endedCall struct {
		id    string
		times callTimes
		leave int64
		media int64
	}
	leaveReasons := map[int64]int{}
	mediaTypes := map[int64]int{}
	total := 0
	for _, id := range s.AgentIDs() {
		clock.Set(testStart)
		var calls []endedCall
		// Every call is seen: a previous call stays visible for at least the idle time, far longer than a step.
		for step := 0; step < 3600/2; step++ {
			clock.Advance(2 * time.Second)
			r := queryAgent(t, s, id, true).mustSucceed(t)
			if _, ok := r.result(); !ok {
				continue
			}
			ct := r.times(t)
			if ct.endNull {
				continue
			}
			callID := r.str(t, "result", "callid")
			if n := len(calls); n > 0 && calls[n-1].id == callID {
				continue
			}
			calls = append(calls, endedCall{callID, ct, r.int(t, "result", "trace", "leaveReason"), r.int(t, "result", "mediaType")})
		}
		if len(calls) < 20 || len(calls) > 60 {
			t.Errorf("agent %s finished %d calls in an hour, want 20-60", id, len(calls))
		}
		for i, c := range calls {
			total++
			leaveReasons[c.leave]++
			mediaTypes[c.media]++
			ct := c.times
			if prefix := strconv.FormatInt(ct.waitBegin/1000, 10) + "-"; !strings.HasPrefix(c.id, prefix) {
				t.Errorf("callid %s does not start with the queueing second %s", c.id, prefix)
			}
			wait := time.Duration(ct.waitEnd-ct.waitBegin) * time.Millisecond
			ring := time.Duration(ct.answerEnd-ct.answerBegin) * time.Millisecond
			talk := time.Duration(ct.talkEnd-ct.talkBegin) * time.Millisecond
			if wait < 0 || wait > time.Duration(float64(opts.QueueMean)*(1+queueSpread)) {
				t.Errorf("call %s waited %s", c.id, wait)
			}
			if ring < 0 || ring > time.Duration(float64(opts.RingMean)*(1+ringSpread)) {
				t.Errorf("call %s rang %s", c.id, ring)
			}
			switch c.leave {
			case 15, 16, 17, 88:
				if talk < 9*time.Second || talk > 121*time.Second {
					t.Errorf("call %s talked %s, want 10-120s", c.id, talk)
				}
			case 26, 50, 89:
				if ct.talkBegin != 0 || ct.talkEnd != 0 {
					t.Errorf("call %s ended with reason %d but has talk times", c.id, c.leave)
				}
			default:
				t.Errorf("call %s has leave reason %d, not one the default mix produces", c.id, c.leave)
			}
			if i > 0 {
				if gap := time.Duration(ct.waitBegin-calls[i-1].times.end) * time.Millisecond; gap < opts.IdleMean/2 {
					t.Errorf("agent %s: call %s began %s after the previous one ended", id, c.id, gap)
				}
			}
		}
	}
	if len(leaveReasons) < 6 {
		t.Errorf("leave reasons %v: want at least 6 different ones over %d calls", leaveReasons, total)
	}
	if mediaTypes[5] <= total/2 || len(mediaTypes) < 4 {
		t.Errorf("media types %v: want mostly voice (5) and all four kinds", mediaTypes)
	}
}

func TestSameSeedAndClockGiveSameAnswers(t *testing.T) {
	opts := Options{Seed: 99, Quirks: MixQuirks()}
	a, clockA := newTestSimulator(t, opts)
	b, clockB := newTestSimulator(t, opts)
	otherOpts := opts
	otherOpts.Seed = 100
	other, clockOther := newTestSimulator(t, otherOpts)

	ids := a.AgentIDs()
	differs := false
	for step := range 30 {
		at := testStart.Add(time.Duration(step) * 37 * time.Second)
		clockA.Set(at)
		clockB.Set(at)
		clockOther.Set(at)
		include := step%2 == 0
		// Opposite orders: an answer must not depend on which agents were asked before.
		fromA := make([][]byte, len(ids))
		fromB := make([][]byte, len(ids))
		for i := range ids {
			fromA[i] = queryAgent(t, a, ids[i], include).raw
		}
		for i := len(ids) - 1; i >= 0; i-- {
			fromB[i] = queryAgent(t, b, ids[i], include).raw
		}
		for i := range ids {
			if !bytes.Equal(fromA[i], fromB[i]) {
				t.Fatalf("agent %s at %s: same seed, different answers:\n%s\n%s", ids[i], at, fromA[i], fromB[i])
			}
			if !bytes.Equal(fromA[i], queryAgent(t, other, ids[i], include).raw) {
				differs = true
			}
		}
	}
	if !differs {
		t.Error("a different seed gave the same answers")
	}

	// A simulator asked for the first time late in the day knows as much as one asked all along.
	fresh, clockFresh := newTestSimulator(t, opts)
	clockFresh.Set(clockA.Now())
	for _, id := range ids {
		if got, want := queryAgent(t, fresh, id, true).raw, queryAgent(t, a, id, true).raw; !bytes.Equal(got, want) {
			t.Fatalf("agent %s: answer depends on history:\n%s\n%s", id, got, want)
		}
	}
}

func TestWindowEdgesKeepThePreviousCall(t *testing.T) {
	s, clock := newTestSimulator(t, Options{Agents: 3, LastCallKeys: LastCallKeysPresent})
	// Just after a window starts, the previous call lies in the window before.
	w := s.life.windowOf(testStart) + 1
	clock.Set(time.UnixMilli(w*s.life.windowMillis + 1))
	for _, id := range s.AgentIDs() {
		current, previous := s.Calls(id)
		if current != nil {
			t.Fatalf("agent %s in a call at the very start of a window", id)
		}
		if previous == nil || !previous.End.Before(clock.Now()) {
			t.Fatalf("agent %s: previous call %+v, want one that ended in the window before", id, previous)
		}
		r := queryAgent(t, s, id, true).mustSucceed(t)
		if got := r.str(t, "result", "callid"); got != previous.ID {
			t.Errorf("agent %s: previous call %s, want %s", id, got, previous.ID)
		}
	}
}

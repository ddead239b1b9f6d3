package simulator

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

var unavailableForPrevious = [][]string{
	{"result", "trace", "waitEndTime"},
	{"result", "trace", "answerEndTime"},
	{"result", "trace", "talkEndTime"},
	{"result", "trace", "leaveReason"},
	{"result", "trace", "leaveReasonDesc"},
}

func TestPreviousCallWithTrueAndFalse(t *testing.T) {
	idleAfterCall := func(s *Simulator) { s.SetCall("1001", Call{Phase: PhaseIdle, ID: "1741000000-77", LeaveReason: 16}) }
	neverHadCall := func(s *Simulator) { s.ClearCalls("1001") }
	tests := []struct {
		name            string
		opts            Options
		setup           func(*Simulator)
		includePrevious bool
		check           func(t *testing.T, r reply)
	}{
		{
			name: "true returns the previous call", opts: Options{LastCallKeys: LastCallKeysPresent},
			setup: idleAfterCall, includePrevious: true,
			check: func(t *testing.T, r reply) {
				if got := r.str(t, "result", "callid"); got != "1741000000-77" {
					t.Errorf("callid %s", got)
				}
				ct := r.times(t)
				if ct.endNull || ct.end != testStart.UnixMilli() || ct.talkEnd != ct.end {
					t.Errorf("previous call times %+v, want an end now", ct)
				}
				if got := r.int(t, "result", "trace", "leaveReason"); got != 16 {
					t.Errorf("leaveReason %d, want 16", got)
				}
				if got := r.str(t, "result", "trace", "leaveReasonDesc"); got != "Agent release" {
					t.Errorf("leaveReasonDesc %q", got)
				}
			},
		},
		{
			name: "unavailable keys absent", opts: Options{LastCallKeys: LastCallKeysAbsent},
			setup: idleAfterCall, includePrevious: true,
			check: func(t *testing.T, r reply) {
				for _, keys := range unavailableForPrevious {
					if v, ok := lookup(r.body, keys...); ok {
						t.Errorf("%v present (%v)", keys, v)
					}
				}
				r.int(t, "result", "trace", "talkBeginTime")
			},
		},
		{
			name: "unavailable keys null", opts: Options{LastCallKeys: LastCallKeysNull},
			setup: idleAfterCall, includePrevious: true,
			check: func(t *testing.T, r reply) {
				for _, keys := range unavailableForPrevious {
					if v, ok := lookup(r.body, keys...); !ok || v != nil {
						t.Errorf("%v = %v (present %v), want null", keys, v, ok)
					}
				}
			},
		},
		{
			name: "unavailable keys zero", opts: Options{LastCallKeys: LastCallKeysZero},
			setup: idleAfterCall, includePrevious: true,
			check: func(t *testing.T, r reply) {
				for _, keys := range unavailableForPrevious[:4] {
					if n := r.int(t, keys...); n != 0 {
						t.Errorf("%v = %d, want 0", keys, n)
					}
				}
				if got := r.str(t, "result", "trace", "leaveReasonDesc"); got != "" {
					t.Errorf("leaveReasonDesc %q, want empty", got)
				}
			},
		},
		{name: "false: result absent", opts: Options{NoCallResult: NoCallResultAbsent}, setup: idleAfterCall,
			check: wantResult(false, nil)},
		{name: "false: result null", opts: Options{NoCallResult: NoCallResultNull}, setup: idleAfterCall,
			check: wantResult(true, nil)},
		{name: "false: result {}", opts: Options{NoCallResult: NoCallResultEmptyObject}, setup: idleAfterCall,
			check: wantResult(true, map[string]any{})},
		{name: "false: result empty string", opts: Options{NoCallResult: NoCallResultEmptyString}, setup: idleAfterCall,
			check: wantResult(true, "")},
		{name: "true without a previous call", opts: Options{NoCallResult: NoCallResultNull}, setup: neverHadCall,
			includePrevious: true, check: wantResult(true, nil)},
		{
			name: "true during a call returns the current call", opts: Options{LastCallKeys: LastCallKeysAbsent},
			setup: func(s *Simulator) {
				idleAfterCall(s)
				s.SetCall("1001", Call{Phase: PhaseTalking, ID: "1741000100-78"})
			},
			includePrevious: true,
			check: func(t *testing.T, r reply) {
				if got := r.str(t, "result", "callid"); got != "1741000100-78" {
					t.Errorf("callid %s, want the current call", got)
				}
				// The current call keeps every key.
				for _, keys := range unavailableForPrevious {
					if _, ok := lookup(r.body, keys...); !ok {
						t.Errorf("%v missing from the current call", keys)
					}
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestSimulator(t, tc.opts)
			tc.setup(s)
			r := queryAgent(t, s, "1001", tc.includePrevious).mustSucceed(t)
			tc.check(t, r)
		})
	}
}

func wantResult(present bool, value any) func(*testing.T, reply) {
	return func(t *testing.T, r reply) {
		t.Helper()
		got, ok := lookup(r.body, "result")
		if ok != present {
			t.Fatalf("result present %v, want %v: %s", ok, present, r.raw)
		}
		if !present {
			return
		}
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(value)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Fatalf("result %s, want %s", gotJSON, wantJSON)
		}
	}
}

// The default mixes must really mix, or the exporter's lenient decoding goes untested in the demo.
func TestDefaultMixesShowEveryShape(t *testing.T) {
	s, clock := newTestSimulator(t, Options{})
	noCallShapes := map[string]bool{}
	keyShapes := map[string]bool{}
	for step := range 40 {
		clock.Set(testStart.Add(time.Duration(step) * 53 * time.Second))
		for _, id := range s.AgentIDs() {
			if current, _ := s.Calls(id); current != nil {
				continue
			}
			r := queryAgent(t, s, id, false).mustSucceed(t)
			v, ok := lookup(r.body, "result")
			shape, _ := json.Marshal(v)
			if !ok {
				shape = []byte("absent")
			}
			noCallShapes[string(shape)] = true
			if again := queryAgent(t, s, id, false); !bytes.Equal(again.raw, r.raw) {
				t.Fatalf("agent %s: the same idle period answered %s, then %s", id, r.raw, again.raw)
			}

			r = queryAgent(t, s, id, true).mustSucceed(t)
			for _, keys := range unavailableForPrevious {
				v, ok := lookup(r.body, keys...)
				switch {
				case !ok:
					keyShapes["absent"] = true
				case v == nil:
					keyShapes["null"] = true
				case v == json.Number("0") || v == "":
					keyShapes["zero"] = true
				default:
					keyShapes["present"] = true
				}
			}
		}
	}
	for _, want := range []string{"absent", "null", "{}", `""`} {
		if !noCallShapes[want] {
			t.Errorf("no-call result never %s; seen %v", want, noCallShapes)
		}
	}
	for _, want := range []string{"absent", "null", "zero", "present"} {
		if !keyShapes[want] {
			t.Errorf("unavailable keys never %s; seen %v", want, keyShapes)
		}
	}
}

func TestSetCallPutsTheAgentInThePhase(t *testing.T) {
	now := testStart.UnixMilli()
	sec := int64(1000)
	tests := []struct {
		name  string
		call  Call
		phase Phase
		want  callTimes // expected times; end is ignored while endNull
		leave int64
	}{
		{name: "queued", call: Call{Phase: PhaseQueued}, phase: PhaseQueued,
			want: callTimes{waitBegin: now - 10*sec, endNull: true}},
		{name: "ringing", call: Call{Phase: PhaseRinging}, phase: PhaseRinging,
			want: callTimes{waitBegin: now - 15*sec, waitEnd: now - 5*sec, answerBegin: now - 5*sec, begin: now - 5*sec, endNull: true}},
		{name: "talking", call: Call{Phase: PhaseTalking}, phase: PhaseTalking,
			want: callTimes{waitBegin: now - 45*sec, waitEnd: now - 35*sec, answerBegin: now - 35*sec, begin: now - 35*sec,
				answerEnd: now - 30*sec, talkBegin: now - 30*sec, endNull: true}},
		{name: "zero call is talking", call: Call{}, phase: PhaseTalking,
			want: callTimes{waitBegin: now - 45*sec, waitEnd: now - 35*sec, answerBegin: now - 35*sec, begin: now - 35*sec,
				answerEnd: now - 30*sec, talkBegin: now - 30*sec, endNull: true}},
		{name: "ended after talk", call: Call{Phase: PhaseEnded, LeaveReason: 15}, phase: PhaseEnded, leave: 15,
			want: callTimes{waitBegin: now - 45*sec, waitEnd: now - 35*sec, answerBegin: now - 35*sec, begin: now - 35*sec,
				answerEnd: now - 30*sec, talkBegin: now - 30*sec, talkEnd: now, end: now}},
		{name: "rejected without talk", call: Call{Phase: PhaseEnded, LeaveReason: 50}, phase: PhaseEnded, leave: 50,
			want: callTimes{waitBegin: now - 15*sec, waitEnd: now - 5*sec, answerBegin: now - 5*sec, begin: now - 5*sec,
				answerEnd: now, end: now}},
		{name: "phase from the times given", call: Call{WaitBegin: testStart.Add(-3 * time.Second), AnswerBegin: testStart.Add(-time.Second)},
			phase: PhaseRinging,
			want:  callTimes{waitBegin: now - 3*sec, waitEnd: now - sec, answerBegin: now - sec, begin: now - sec, endNull: true}},
		{name: "later times dropped for an earlier phase", call: Call{Phase: PhaseQueued, TalkBegin: testStart.Add(-time.Second)},
			phase: PhaseQueued, want: callTimes{waitBegin: now - 10*sec, endNull: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestSimulator(t, Options{})
			s.SetCall("1001", tc.call)
			current, _ := s.Calls("1001")
			if current == nil || current.Phase != tc.phase {
				t.Fatalf("current call %+v, want phase %s", current, tc.phase)
			}
			r := queryAgent(t, s, "1001", false).mustSucceed(t)
			got := r.times(t)
			if got != tc.want {
				t.Errorf("times\n got %+v\nwant %+v", got, tc.want)
			}
			if tc.phase == PhaseEnded {
				if leave := r.int(t, "result", "trace", "leaveReason"); leave != tc.leave {
					t.Errorf("leaveReason %d, want %d", leave, tc.leave)
				}
			}
		})
	}
}

func TestSetCallFieldsAndDefaults(t *testing.T) {
	s, clock := newTestSimulator(t, Options{VDNID: 214})
	s.SetCall("1001", Call{ID: "1476838963-224", Feature: 7, Caller: "60015", Called: "70004", Skill: "vip", SkillID: 20013,
		CallData: "order=\"42\"\n", MediaType: 19, UserPriority: 3, EnterReason: 1})
	r := queryAgent(t, s, "1001", false).mustSucceed(t)
	wantStrings := map[string]string{"callid": "1476838963-224", "caller": "60015", "called": "70004", "callskill": "vip",
		"calldata": "order=\"42\"\n", "orgicallednum": ""}
	for key, want := range wantStrings {
		if got := r.str(t, "result", key); got != want {
			t.Errorf("%s %q, want %q", key, got, want)
		}
	}
	wantNumbers := map[string]int64{"callfeature": 7, "callskillid": 20013, "mediaType": 19, "mediaAbility": 3,
		"userPriority": 3, "trunkNo": 65535, "logontimes": 45, "waitTime": 10}
	for key, want := range wantNumbers {
		if got := r.int(t, "result", key); got != want {
			t.Errorf("%s %d, want %d", key, got, want)
		}
	}
	wantTrace := map[string]int64{"deviceNo": 1001, "deviceType": 2, "enterReason": 1, "leaveReason": 0, "vdnId": 214}
	for key, want := range wantTrace {
		if got := r.int(t, "result", "trace", key); got != want {
			t.Errorf("trace.%s %d, want %d", key, got, want)
		}
	}
	if got := r.str(t, "result", "trace", "callDirectMode"); got != "NORMAL_DIRECT" {
		t.Errorf("callDirectMode %q", got)
	}

	// A call put in place stays in its phase however long the test waits.
	clock.Advance(time.Hour)
	r = queryAgent(t, s, "1001", false).mustSucceed(t)
	if got := r.int(t, "result", "logontimes"); got != 3645 {
		t.Errorf("logontimes an hour later %d, want 3645", got)
	}
	if ct := r.times(t); !ct.endNull || ct.talkBegin == 0 {
		t.Errorf("an hour later the call is no longer talking: %+v", ct)
	}
}

func TestEndCall(t *testing.T) {
	opts := Options{LastCallKeys: LastCallKeysPresent, NoCallResult: NoCallResultNull}
	t.Run("manual call", func(t *testing.T) {
		s, clock := newTestSimulator(t, opts)
		s.SetCall("1001", Call{ID: "1741000000-1"})
		end := clock.Advance(12 * time.Second)
		s.EndCall("1001", 17)
		if r := queryAgent(t, s, "1001", false).mustSucceed(t); !bytes.Contains(r.raw, []byte(`"result":null`)) {
			t.Errorf("after the end, false still reports a call: %s", r.raw)
		}
		r := queryAgent(t, s, "1001", true).mustSucceed(t)
		ct := r.times(t)
		if r.str(t, "result", "callid") != "1741000000-1" || ct.endNull || ct.end != end.UnixMilli() || ct.talkEnd != end.UnixMilli() {
			t.Errorf("previous call %s", r.raw)
		}
		if got := r.int(t, "result", "trace", "leaveReason"); got != 17 {
			t.Errorf("leaveReason %d, want 17", got)
		}
	})
	t.Run("ringing call ends without talk", func(t *testing.T) {
		s, _ := newTestSimulator(t, opts)
		s.SetCall("1001", Call{Phase: PhaseRinging})
		s.EndCall("1001", 50)
		ct := queryAgent(t, s, "1001", true).mustSucceed(t).times(t)
		if ct.talkBegin != 0 || ct.answerEnd != testStart.UnixMilli() || ct.end != ct.answerEnd {
			t.Errorf("times %+v, want the answer phase ended now and no talk", ct)
		}
	})
	t.Run("automatic call", func(t *testing.T) {
		s, clock := newTestSimulator(t, opts)
		var current *Call
		for current == nil || current.Phase != PhaseTalking {
			clock.Advance(time.Second)
			current, _ = s.Calls("1001")
		}
		s.EndCall("1001", 16)
		clock.Advance(10 * time.Minute)
		r := queryAgent(t, s, "1001", true).mustSucceed(t)
		if got := r.str(t, "result", "callid"); got != current.ID {
			t.Errorf("previous call %s, want the call that was ended, %s", got, current.ID)
		}
		ct := r.times(t)
		if ct.talkBegin != current.TalkBegin.UnixMilli() {
			t.Errorf("talk began %d, want %d", ct.talkBegin, current.TalkBegin.UnixMilli())
		}
		if ct.end != clock.Now().Add(-10*time.Minute).UnixMilli() {
			t.Errorf("ended at %d, want when EndCall was called", ct.end)
		}

		s.ResumeLifecycle("1001")
		fresh, freshClock := newTestSimulator(t, opts)
		freshClock.Set(clock.Now())
		if got, want := queryAgent(t, s, "1001", true).raw, queryAgent(t, fresh, "1001", true).raw; !bytes.Equal(got, want) {
			t.Errorf("after ResumeLifecycle\n got %s\nwant %s", got, want)
		}
	})
	t.Run("no call to end", func(t *testing.T) {
		s, _ := newTestSimulator(t, opts)
		s.ClearCalls("1001")
		s.EndCall("1001", 16)
		if current, previous := s.Calls("1001"); current != nil || previous != nil {
			t.Errorf("EndCall without a call made %+v, %+v", current, previous)
		}
	})
}

func TestQuirks(t *testing.T) {
	talking := func(s *Simulator) { s.SetCall("1001", Call{Phase: PhaseTalking}) }
	tests := []struct {
		name   string
		quirks Quirks
		setup  func(*Simulator)
		check  func(t *testing.T, r reply)
	}{
		{
			name: "numbers as strings", quirks: Quirks{NumbersAsStrings: QuirkOn}, setup: talking,
			check: func(t *testing.T, r reply) {
				for _, keys := range [][]string{{"result", "callfeature"}, {"result", "mediaType"}, {"result", "begintime"},
					{"result", "trace", "talkBeginTime"}, {"result", "trace", "talkEndTime"}, {"result", "trace", "vdnId"}} {
					if v, _ := lookup(r.body, keys...); !isNumericString(v) {
						t.Errorf("%v = %#v, want a numeric string", keys, v)
					}
				}
				if v, _ := lookup(r.body, "result", "endtime"); v != nil {
					t.Errorf("endtime %#v, want null while talking", v)
				}
			},
		},
		{
			name: "empty strings for unset times", quirks: Quirks{EmptyStringTimes: QuirkOn},
			setup: func(s *Simulator) { s.SetCall("1001", Call{Phase: PhaseQueued}) },
			check: func(t *testing.T, r reply) {
				for _, key := range []string{"answerBeginTime", "talkBeginTime", "talkEndTime", "waitEndTime"} {
					if v, _ := lookup(r.body, "result", "trace", key); v != "" {
						t.Errorf("trace.%s = %#v, want \"\"", key, v)
					}
				}
				r.int(t, "result", "trace", "waitBeginTime")
				if v, ok := lookup(r.body, "result", "endtime"); !ok || v != nil {
					t.Errorf("endtime %#v, want null", v)
				}
			},
		},
		{
			name: "no trace", quirks: Quirks{NoTrace: QuirkOn}, setup: talking,
			check: func(t *testing.T, r reply) {
				if _, ok := lookup(r.body, "result", "trace"); ok {
					t.Error("trace present")
				}
				r.str(t, "result", "callid")
			},
		},
		{
			name: "extra keys", quirks: Quirks{ExtraKeys: QuirkOn}, setup: talking,
			check: func(t *testing.T, r reply) {
				for _, key := range []string{"subMediaType", "callIdNum", "extInfo"} {
					if _, ok := lookup(r.body, "result", key); !ok {
						t.Errorf("%s missing", key)
					}
				}
			},
		},
		{
			name: "unknown enumeration values", quirks: Quirks{UnknownEnums: QuirkOn},
			check: func(t *testing.T, r reply) {
				if got := r.int(t, "result", "callfeature"); got != 42 {
					t.Errorf("callfeature %d, want 42", got)
				}
				if got := r.int(t, "result", "mediaType"); got != 55 {
					t.Errorf("mediaType %d, want 55", got)
				}
				if got := r.int(t, "result", "trace", "leaveReason"); got != 49 && got != 89 && got != 99 {
					t.Errorf("leaveReason %d, want 49, 89 or 99", got)
				}
			},
		},
		{
			name: "numeric retcode", quirks: Quirks{NumericRetcode: QuirkOn}, setup: talking,
			check: func(t *testing.T, r reply) {
				if v, _ := lookup(r.body, "retcode"); v != json.Number("0") {
					t.Errorf("retcode %#v, want the number 0", v)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newTestSimulator(t, Options{Quirks: tc.quirks, LastCallKeys: LastCallKeysPresent})
			if tc.setup != nil {
				tc.setup(s)
			} else {
				// Wait until the agent is idle after a generated call, so the answer has every field filled in.
				for current, previous := s.Calls("1001"); current != nil || previous == nil; current, previous = s.Calls("1001") {
					clock.Advance(time.Second)
				}
			}
			r := queryAgent(t, s, "1001", true)
			if r.body == nil {
				t.Fatalf("not JSON: %s", r.raw)
			}
			tc.check(t, r)

			// Without the quirk, the documented shape.
			plain, plainClock := newTestSimulator(t, Options{LastCallKeys: LastCallKeysPresent})
			plainClock.Set(clock.Now())
			if tc.setup != nil {
				tc.setup(plain)
			}
			if bytes.Equal(queryAgent(t, plain, "1001", true).raw, r.raw) {
				t.Error("the quirk changed nothing")
			}
		})
	}
}

func isNumericString(v any) bool {
	s, ok := v.(string)
	if !ok || s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func TestMixQuirksVaryBetweenCalls(t *testing.T) {
	s, clock := newTestSimulator(t, Options{Quirks: MixQuirks()})
	stringRetcode, numericRetcode, withTrace, withoutTrace := 0, 0, 0, 0
	for step := range 20 {
		clock.Set(testStart.Add(time.Duration(step) * 97 * time.Second))
		for _, id := range s.AgentIDs() {
			r := queryAgent(t, s, id, true)
			if !json.Valid(r.raw) {
				t.Fatalf("agent %s: invalid JSON %s", id, r.raw)
			}
			if v, _ := lookup(r.body, "retcode"); v == "0" {
				stringRetcode++
			} else if v == json.Number("0") {
				numericRetcode++
			}
			if _, ok := r.result(); !ok {
				continue
			}
			if _, ok := lookup(r.body, "result", "trace"); ok {
				withTrace++
			} else {
				withoutTrace++
			}
		}
	}
	// QuirkMix applies to one call in four.
	if numericRetcode*8 < stringRetcode || numericRetcode > stringRetcode {
		t.Errorf("retcode as number %d times, as string %d times", numericRetcode, stringRetcode)
	}
	if withoutTrace*8 < withTrace || withoutTrace > withTrace {
		t.Errorf("trace missing %d times, present %d times", withoutTrace, withTrace)
	}
}

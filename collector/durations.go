package collector

import (
	"time"

	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// Phase durations are taken from pairs of gateway times. Only the running
// phase of a call in progress is measured against the exporter's clock,
// because nothing else can say how long it has run so far.

// firstPositive returns the first known, non-zero time among candidates.
func firstPositive(candidates ...gateway.Number) (int64, bool) {
	for _, n := range candidates {
		if v, ok := n.Positive(); ok {
			return v, true
		}
	}
	return 0, false
}

func secondsBetween(beginMillis, endMillis int64) (float64, bool) {
	if endMillis < beginMillis {
		return 0, false
	}
	return float64(endMillis-beginMillis) / 1000, true
}

// phaseSeconds measures from begin to the first known end; a call still in
// progress with no end yet is measured to now.
func phaseSeconds(call *gateway.CallInfo, now time.Time, begin gateway.Number, ends ...gateway.Number) (float64, bool) {
	beginMillis, ok := begin.Positive()
	if !ok {
		return 0, false
	}
	if endMillis, ok := firstPositive(ends...); ok {
		return secondsBetween(beginMillis, endMillis)
	}
	if call.Ended() {
		return 0, false
	}
	return secondsBetween(beginMillis, now.UnixMilli())
}

// waitSeconds is the customer's time in the queue before the call reached
// the agent. Queueing ends where the answer phase begins, which stands in
// for waitEndTime on a previous call.
func waitSeconds(call *gateway.CallInfo, now time.Time) (float64, bool) {
	t := &call.Trace
	return phaseSeconds(call, now, t.WaitBeginTime, t.WaitEndTime, t.AnswerBeginTime, t.TalkBeginTime)
}

// ringSeconds is the answer (alerting) phase. A call that ended without
// talk rang until its end.
func ringSeconds(call *gateway.CallInfo, now time.Time) (float64, bool) {
	t := &call.Trace
	if !call.Talking() && call.Ended() {
		return phaseSeconds(call, now, t.AnswerBeginTime, t.AnswerEndTime, call.EndTime)
	}
	return phaseSeconds(call, now, t.AnswerBeginTime, t.AnswerEndTime, t.TalkBeginTime)
}

// talkSeconds is the conversation; endtime stands in for talkEndTime, which
// the gateway withholds for a previous call.
func talkSeconds(call *gateway.CallInfo, now time.Time) (float64, bool) {
	t := &call.Trace
	return phaseSeconds(call, now, t.TalkBeginTime, t.TalkEndTime, call.EndTime)
}

// startSeconds is when the call reached the agent (begintime, which the
// documentation words like answerBeginTime).
func startSeconds(call *gateway.CallInfo) (float64, bool) {
	millis, ok := firstPositive(call.BeginTime, call.Trace.AnswerBeginTime)
	return float64(millis) / 1000, ok
}

// fillMissing completes a previous call's answer with what was seen while
// the same call was in progress: the gateway drops the *End* times and the
// leave reason once a call becomes the "last call".
func fillMissing(ended *gateway.CallInfo, seen *gateway.CallInfo) {
	if seen == nil || seen.CallID != ended.CallID {
		return
	}
	fill := func(dst *gateway.Number, src gateway.Number) {
		if _, ok := dst.Positive(); !ok && src.Valid() {
			*dst = src
		}
	}
	d, s := &ended.Trace, &seen.Trace
	fill(&d.WaitBeginTime, s.WaitBeginTime)
	fill(&d.WaitEndTime, s.WaitEndTime)
	fill(&d.AnswerBeginTime, s.AnswerBeginTime)
	fill(&d.AnswerEndTime, s.AnswerEndTime)
	fill(&d.TalkBeginTime, s.TalkBeginTime)
	fill(&ended.BeginTime, seen.BeginTime)
	if ended.CallSkill == "" {
		ended.CallSkill = seen.CallSkill
	}
	if !ended.MediaType.Valid() {
		ended.MediaType = seen.MediaType
	}
}

package collector

import (
	"time"

	"github.com/agentgateway/agentgateway_exporter/gateway"
)

// unobservedDescription is reason_desc of calls whose end was never seen.
const unobservedDescription = "end not observed"

// endedCall is a call whose end the exporter counts, exactly once.
type endedCall struct {
	reason, description string
	// call is nil for a call whose end was never seen: nothing about how it
	// ended or how long it lasted is known.
	call *gateway.CallInfo
}

// callTracker turns successive answers for one agent into ended calls,
// keyed by call id. It keeps one call of memory whatever the call volume.
type callTracker struct {
	// baselined is set by the first successful answer: a call that had
	// already ended by then belongs to the past and is not counted, so an
	// exporter restart makes no spike.
	baselined bool
	// lastAnswerAt orders answers: a slower, older answer from a concurrent
	// scrape must not undo what a newer one established.
	lastAnswerAt time.Time
	// active is the call last seen in progress.
	active *gateway.CallInfo
	// countedID is the last ended call already counted (or baselined).
	countedID gateway.Text
}

// observe feeds the answer to a query sent at sentAt (call nil = no call)
// and returns the calls that ended since the previous answer.
func (t *callTracker) observe(sentAt time.Time, call *gateway.CallInfo) []endedCall {
	if t.baselined && !sentAt.After(t.lastAnswerAt) {
		return nil
	}
	t.lastAnswerAt = sentAt
	if !t.baselined {
		t.baselined = true
		if call != nil && call.Ended() {
			t.countedID = call.CallID
		} else {
			t.active = inProgress(call)
		}
		return nil
	}

	var ended []endedCall
	// A different call (or none) replacing the one in progress means that
	// call ended between two looks.
	if t.active != nil && (call == nil || call.CallID != t.active.CallID) {
		ended = append(ended, endedCall{reason: gateway.LeaveReasonUnobserved, description: unobservedDescription})
		t.active = nil
	}
	switch {
	case call == nil:
	case call.Ended():
		if call.CallID != "" && call.CallID != t.countedID {
			final := *call
			fillMissing(&final, t.active)
			reason, description := gateway.LeaveReason(final.Trace.LeaveReason)
			ended = append(ended, endedCall{reason: reason, description: description, call: &final})
			t.countedID = call.CallID
		}
		t.active = nil
	case call.CallID != "":
		t.active = inProgress(call)
	}
	return ended
}

// inProgress is the call to remember as in progress, or nil. It is the
// decoded answer's own call, not a copy: answers are never changed after
// decoding (fillMissing completes a copy), and the agent's latest
// observation holds the same call, so a copy would keep a second one per
// talking agent (0.9 MiB of live heap at ten thousand simulated agents).
func inProgress(call *gateway.CallInfo) *gateway.CallInfo {
	if call == nil || call.Ended() || call.CallID == "" {
		return nil
	}
	return call
}

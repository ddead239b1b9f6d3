package gateway

// RetcodeSuccess is the only retcode that means success.
const RetcodeSuccess = "0"

// signedOutRetcodes are the answers meaning the agent has no usable session:
// not signed in, signed out, the Guid expired or was rejected, or the session
// was lost in a disaster-recovery switchover.
var signedOutRetcodes = map[string]bool{
	"100-006": true, // agent not signed in (also an unknown Guid)
	"100-008": true, // agent already signed out
	"000-003": true, // no permission: Guid expired or invalid
	"105-001": true, // agent no longer cached after recovery
	"105-005": true, // recovery took too long: sign in again
	"105-006": true, // Guid mismatch after recovery
	"105-007": true, // recovery switched off: sign in again
}

// SignedOut reports whether retcode means the agent's session is gone, as
// opposed to a fault that may pass.
func SignedOut(retcode string) bool {
	return signedOutRetcodes[retcode]
}

// reasonDescriptions is the enter/leave reason table of the interface
// document, in short words; 49 comes from the Chinese tables and 89 follows
// their reading (hung up before the agent answered).
var reasonDescriptions = map[int64]string{
	0:  "normal",
	1:  "transferred on overflow",
	2:  "transferred on timeout",
	3:  "transferred, nobody on duty",
	4:  "transferred, queueing cancelled",
	5:  "transferred, agent did not answer",
	6:  "suspended call resumed",
	7:  "held call connected",
	8:  "three-party help started",
	9:  "call unheld",
	10: "three-party call started",
	11: "internal help requester released",
	12: "call intercepted",
	13: "call picked up",
	14: "no called-number analysis",
	15: "customer released",
	16: "agent released",
	17: "transferred out",
	18: "call held",
	19: "internal processing error",
	20: "called party busy",
	21: "line busy",
	22: "phone switched off",
	23: "phone out of service area",
	24: "number does not exist",
	25: "no ACD resource",
	26: "customer did not answer",
	27: "called party rejected",
	28: "connected call moved to a queue",
	29: "three-party call moved to a queue",
	30: "connected call timed out in queue transfer",
	31: "three-party call timed out in queue transfer",
	34: "failed network call queued",
	35: "network call queued at the original centre",
	36: "queued call re-routed",
	37: "entered CDN from inbound route",
	38: "entered CDN from consultation",
	39: "CDN gave a route",
	40: "CDN routing timed out",
	41: "agent cancelled during consultation",
	42: "entered PGR after CDN timeout",
	43: "entered PGR after CDN result",
	44: "entered PGR from inbound route",
	45: "entered PGR from consultation",
	46: "CDN re-route, agent unreachable",
	47: "queued in several queues",
	48: "answered from a secondary queue",
	49: "agent refused the incoming call",
	50: "agent rejected",
	51: "customer joined a conference",
	52: "conference released",
	53: "participant removed from conference",
	54: "transferred, completion rate below threshold",
	88: "customer hung up after answer",
	89: "customer hung up before answer",
}

// Leave reason label values that are not gateway codes.
const (
	// LeaveReasonUnknown: the call ended but the gateway gave no reason.
	LeaveReasonUnknown = "unknown"
	// LeaveReasonUnobserved: the call was seen in progress and then vanished
	// without its end ever being seen.
	LeaveReasonUnobserved = "unobserved"
)

// LeaveReason returns the label value and description for a leave reason
// field. Codes missing from the table keep their number, so nothing the
// gateway says is lost, with "unknown" as the description.
func LeaveReason(code Number) (reason, description string) {
	if !code.Valid() {
		return LeaveReasonUnknown, "unknown"
	}
	desc, ok := reasonDescriptions[code.Value()]
	if !ok {
		desc = "unknown"
	}
	return code.String(), desc
}

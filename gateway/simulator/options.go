package simulator

import (
	"cmp"
	"errors"
	"fmt"
	"time"
)

// Quirk selects whether one deviation from the documented response shape is applied.
type Quirk uint8

const (
	// QuirkOff never applies the deviation.
	QuirkOff Quirk = iota
	// QuirkOn applies the deviation to every answer it can affect.
	QuirkOn
	// QuirkMix applies the deviation to about one call in four, chosen from the seed,
	// so one scrape sees both shapes side by side.
	QuirkMix
)

// Quirks are the deviations from the documented response shape that a lenient client must survive.
// The zero value is the documented shape.
type Quirks struct {
	// NumbersAsStrings sends numeric fields and times as JSON strings ("callfeature":"0", "begintime":"1476838963000").
	NumbersAsStrings Quirk
	// EmptyStringTimes sends "" instead of 0 for times that are not set yet (endtime stays null, as documented).
	EmptyStringTimes Quirk
	// NoTrace leaves out the trace object.
	NoTrace Quirk
	// ExtraKeys adds keys the documentation does not list (as newer or CMS variants do).
	ExtraKeys Quirk
	// UnknownEnums gives generated calls undocumented values: call type 42, media type 55, leave reason 49, 89 or 99.
	// Calls put in place with SetCall keep the values they were given.
	UnknownEnums Quirk
	// NumericRetcode sends "retcode":0 instead of "retcode":"0" on success.
	NumericRetcode Quirk
}

// MixQuirks returns every quirk in QuirkMix, the setting of the demo.
func MixQuirks() Quirks {
	return Quirks{QuirkMix, QuirkMix, QuirkMix, QuirkMix, QuirkMix, QuirkMix}
}

// AllQuirks returns every quirk in QuirkOn.
func AllQuirks() Quirks {
	return Quirks{QuirkOn, QuirkOn, QuirkOn, QuirkOn, QuirkOn, QuirkOn}
}

// LastCallKeys selects how the keys that the documentation calls "not available for the previous call"
// (trace.waitEndTime, answerEndTime, talkEndTime, leaveReason, leaveReasonDesc) appear when the previous
// call is returned.
type LastCallKeys uint8

const (
	// LastCallKeysMix picks present, absent, null or zero for each key of each call, from the seed.
	LastCallKeysMix LastCallKeys = iota
	// LastCallKeysPresent always sends the real values, so tests can be exact.
	LastCallKeysPresent
	// LastCallKeysAbsent leaves the keys out.
	LastCallKeysAbsent
	// LastCallKeysNull sends null.
	LastCallKeysNull
	// LastCallKeysZero sends 0 (and "" for the description).
	LastCallKeysZero
)

// NoCallResult selects what "result" is when there is no call to report (the documentation does not say).
type NoCallResult uint8

const (
	// NoCallResultMix picks one of the others for each idle period of each agent, from the seed.
	NoCallResultMix NoCallResult = iota
	// NoCallResultAbsent leaves "result" out.
	NoCallResultAbsent
	// NoCallResultNull sends "result":null.
	NoCallResultNull
	// NoCallResultEmptyObject sends "result":{}.
	NoCallResultEmptyObject
	// NoCallResultEmptyString sends "result":"".
	NoCallResultEmptyString
)

// Options configure a Simulator. The zero value is usable: 40 agents from 1001, seed 0, the real clock,
// no latency, no quirks, no flow control.
type Options struct {
	// Agents is the number of signed-in agents, with ids FirstAgentID, FirstAgentID+1, ... (default 40).
	Agents int
	// FirstAgentID is the id of the first agent (default 1001).
	FirstAgentID int
	// MaxAgentID is the largest agent id the gateway accepts, 59999 on old and 999999 on new versions
	// (default 999999). Ids outside 101..MaxAgentID are answered with 000-002.
	MaxAgentID int
	// Seed drives everything random: the same seed and the same clock give the same answers.
	Seed int64
	// Now is the clock (default time.Now). Tests pass a fake clock such as ManualClock.Now.
	Now func() time.Time
	// Latency is added to every answer, measured on the real clock; it ends early when the request is cancelled.
	Latency time.Duration

	// IdleMean is the mean time between the end of one call and the next (default 40s, drawn from 20-60s).
	IdleMean time.Duration
	// QueueMean is the mean time a call queues before it rings at the agent (default 8s).
	QueueMean time.Duration
	// RingMean is the mean ringing time (default 6s).
	RingMean time.Duration
	// TalkMean is the mean talk time (default 65s, drawn from about 10-120s).
	TalkMean time.Duration
	// WrapUpMean is how long an ended call is still reported as the current call (default 4s).
	// A negative value for any of these means "instant"; zero selects the default.
	WrapUpMean time.Duration

	// VDNID is the virtual call centre id in every trace (default 1).
	VDNID int
	// Quirks switch on deviations from the documented shape.
	Quirks Quirks
	// LastCallKeys selects how the previous call's unavailable keys appear (default a seeded mix).
	LastCallKeys LastCallKeys
	// NoCallResult selects the shape of an answer without a call (default a seeded mix).
	NoCallResult NoCallResult

	// AuthMode is how agents get their Guids (default AuthPreset: signed in from the start with the
	// Guids Guid(Seed, id) returns, which never change).
	AuthMode AuthMode
	// GuidInterval is how often AuthDynamic renews an agent's Guid (the gateway's GUIDINTERVAL, default 60s).
	GuidInterval time.Duration //nolint:revive // spelt like the gateway's Guid header, as the package API was agreed
	// GuidTimeout is how long AuthDynamic still accepts a Guid after renewing it (the gateway's GUIDTIMEOUT,
	// default 120s); it must be longer than GuidInterval.
	GuidTimeout time.Duration //nolint:revive // spelt like the gateway's Guid header, as the package API was agreed
	// IdleSignOut signs an agent out when nobody has polled its events for this long (default 2m; negative:
	// never). It applies in AuthStatic and AuthDynamic; preset agents are never polled.
	IdleSignOut time.Duration
	// PollWait is how long the event poll waits before answering without an event, measured on the real
	// clock (default 10s, as the gateway's AGENT_POLL_WAIT settings give; negative: answer at once).
	PollWait time.Duration

	// BadGuidRetcode answers a wrong or missing Guid, and an agent that is not configured
	// (default "100-006"; the documentation allows "000-003" too).
	BadGuidRetcode string //nolint:revive // spelt like the gateway's Guid header, as the package API was agreed
	// StaleGuidRetcode answers a Guid that RotateGuid, a renewal or a new sign-in replaced and that is
	// no longer accepted (default "000-003").
	StaleGuidRetcode string //nolint:revive // spelt like the gateway's Guid header, as the package API was agreed
	// RequireContentType answers 000-006 when the request does not say application/json,
	// which the documentation calls mandatory and some clients omit.
	RequireContentType bool

	// FlowLimit is how many queries one agent may make per FlowWindow (the real default is 5 per 2s;
	// 0 switches flow control off).
	FlowLimit int
	// FlowWindow is the flow control window (default 2s).
	FlowWindow time.Duration
	// FlowRetcode answers a query over the limit (default "000-007"; the real code is undocumented).
	FlowRetcode string
	// FlowHTTPStatus, when non-zero, answers a query over the limit with this HTTP status and an HTML page instead.
	FlowHTTPStatus int
}

const (
	minAgentID = 101

	retcodeOK              = "0"
	retcodeBadParameter    = "000-002"
	retcodeNoPermission    = "000-003"
	retcodeBadMessage      = "000-006"
	retcodeRepeated        = "000-007"
	retcodeNotSignedIn     = "100-006"
	retcodeBadSignIn       = "100-001"
	retcodeSignedInAlready = "100-002"
	defaultGUIDInterval    = 60 * time.Second
	defaultGUIDTimeout     = 120 * time.Second
	defaultIdleSignOut     = 2 * time.Minute
	defaultPollWait        = 10 * time.Second
	defaultMaxAgentID      = 999999
	defaultAgents          = 40
	defaultFirstAgentID    = 1001
	defaultVDNID           = 1
	defaultFlowWindow      = 2 * time.Second
	defaultIdleMean        = 40 * time.Second
	defaultQueueMean       = 8 * time.Second
	defaultRingMean        = 6 * time.Second
	defaultTalkMean        = 65 * time.Second
	defaultWrapUpMean      = 4 * time.Second
	defaultFaultHTTPStatus = 502
)

func (o Options) withDefaults() Options {
	o.Agents = cmp.Or(o.Agents, defaultAgents)
	o.FirstAgentID = cmp.Or(o.FirstAgentID, defaultFirstAgentID)
	o.MaxAgentID = cmp.Or(o.MaxAgentID, defaultMaxAgentID)
	if o.Now == nil {
		o.Now = time.Now
	}
	o.IdleMean = meanOrDefault(o.IdleMean, defaultIdleMean)
	o.QueueMean = meanOrDefault(o.QueueMean, defaultQueueMean)
	o.RingMean = meanOrDefault(o.RingMean, defaultRingMean)
	o.TalkMean = meanOrDefault(o.TalkMean, defaultTalkMean)
	o.WrapUpMean = meanOrDefault(o.WrapUpMean, defaultWrapUpMean)
	o.VDNID = cmp.Or(o.VDNID, defaultVDNID)
	o.BadGuidRetcode = cmp.Or(o.BadGuidRetcode, retcodeNotSignedIn)
	o.StaleGuidRetcode = cmp.Or(o.StaleGuidRetcode, retcodeNoPermission)
	o.GuidInterval = cmp.Or(o.GuidInterval, defaultGUIDInterval)
	o.GuidTimeout = cmp.Or(o.GuidTimeout, defaultGUIDTimeout)
	o.IdleSignOut = meanOrDefault(o.IdleSignOut, defaultIdleSignOut)
	o.PollWait = meanOrDefault(o.PollWait, defaultPollWait)
	o.FlowWindow = cmp.Or(o.FlowWindow, defaultFlowWindow)
	o.FlowRetcode = cmp.Or(o.FlowRetcode, retcodeRepeated)
	return o
}

func meanOrDefault(mean, fallback time.Duration) time.Duration {
	switch {
	case mean == 0:
		return fallback
	case mean < 0:
		return 0
	default:
		return mean
	}
}

// validate checks options that already went through withDefaults.
func (o Options) validate() error {
	var errs []error
	if o.Agents < 0 {
		errs = append(errs, fmt.Errorf("agents must not be negative, got %d", o.Agents))
	}
	if o.MaxAgentID < minAgentID {
		errs = append(errs, fmt.Errorf("max agent id must be at least %d, got %d", minAgentID, o.MaxAgentID))
	}
	if last := o.FirstAgentID + o.Agents - 1; o.FirstAgentID < minAgentID || last > o.MaxAgentID {
		errs = append(errs, fmt.Errorf("agent ids %d..%d are outside the accepted range %d..%d",
			o.FirstAgentID, last, minAgentID, o.MaxAgentID))
	}
	if o.Latency < 0 {
		errs = append(errs, fmt.Errorf("latency must not be negative, got %s", o.Latency))
	}
	if o.AuthMode > AuthDynamic {
		errs = append(errs, fmt.Errorf("unknown auth mode %d", o.AuthMode))
	}
	if o.GuidInterval < 0 || o.GuidTimeout < 0 {
		errs = append(errs, fmt.Errorf("guid interval %s and timeout %s must not be negative", o.GuidInterval, o.GuidTimeout))
	} else if o.AuthMode == AuthDynamic && o.GuidTimeout <= o.GuidInterval {
		errs = append(errs, fmt.Errorf("guid timeout %s must be longer than the guid interval %s", o.GuidTimeout, o.GuidInterval))
	}
	if o.FlowLimit < 0 {
		errs = append(errs, fmt.Errorf("flow limit must not be negative, got %d", o.FlowLimit))
	}
	if o.FlowWindow < 0 {
		errs = append(errs, fmt.Errorf("flow window must not be negative, got %s", o.FlowWindow))
	}
	if o.FlowHTTPStatus != 0 && (o.FlowHTTPStatus < 100 || o.FlowHTTPStatus > 599) {
		errs = append(errs, fmt.Errorf("flow HTTP status %d is not an HTTP status", o.FlowHTTPStatus))
	}
	return errors.Join(errs...)
}

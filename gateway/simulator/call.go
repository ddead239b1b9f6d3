package simulator

import (
	"fmt"
	"time"
)

// Phase is where a call stands from the agent's point of view.
type Phase uint8

const (
	// PhaseUnset lets SetCall derive the phase from the times that are set (talking when none is).
	PhaseUnset Phase = iota
	// PhaseIdle is only for SetCall: the agent is idle and the call is its previous call.
	PhaseIdle
	// PhaseQueued is a call waiting in the skill queue (trace.waitBeginTime).
	PhaseQueued
	// PhaseRinging is a call offered to the agent (answerBeginTime, waitEndTime, begintime).
	PhaseRinging
	// PhaseTalking is a call in conversation (talkBeginTime, answerEndTime).
	PhaseTalking
	// PhaseEnded is a call that is over (endtime, leaveReason); as the current call it stands for wrap-up.
	PhaseEnded
)

var phaseNames = [...]string{"unset", "idle", "queued", "ringing", "talking", "ended"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", p)
}

// Call is one call as the simulator reports it. Zero times are "not set".
// When a Call is handed to SetCall, zero fields get realistic defaults.
type Call struct {
	// Phase is the phase at the simulator's clock; see PhaseUnset for its meaning in SetCall.
	Phase Phase
	// ID is the callid, "<epoch-seconds>-<sequence>".
	ID string
	// Feature is callfeature, the call type: 0 inbound, 7 outbound, 43 predictive, 6 internal, ...
	Feature int
	// Caller and Called are the phone numbers, sent as strings as the real gateway does.
	Caller, Called string
	// Skill and SkillID name the skill queue (callskill, callskillid).
	Skill   string
	SkillID int
	// OriginalCalled is orgicallednum, usually empty.
	OriginalCalled string
	// CallData is the call-associated data, usually empty.
	CallData string
	// UserPriority is the customer level.
	UserPriority int
	// TrunkNo is the trunk, 65535 for none.
	TrunkNo int
	// MediaType: 5 voice, 1 chat, 19 video, 53 social media, ...
	MediaType int
	// MediaAbility: 1 voice, 2 video, 3 voice and video, 5 text, 6 H5 video.
	MediaAbility int

	// The trace times, and the end of the call (endtime).
	WaitBegin, WaitEnd     time.Time
	AnswerBegin, AnswerEnd time.Time
	TalkBegin, TalkEnd     time.Time
	End                    time.Time

	// EnterReason and LeaveReason use the reason table of the documentation (15 customer released, ...).
	EnterReason int
	LeaveReason int
	// CallDirectMode is trace.callDirectMode ("NORMAL_DIRECT").
	CallDirectMode string
	// VDNID is trace.vdnId; zero takes Options.VDNID.
	VDNID int

	// wrapUntil is when a generated call stops being the agent's current call.
	wrapUntil time.Time
	// key feeds the seeded choices made while rendering (quirk mix, missing keys).
	key uint64
}

// at returns the call as seen at now: times after now are not known yet, and the phase follows.
func (c Call) at(now time.Time) Call {
	for _, t := range []*time.Time{&c.WaitBegin, &c.WaitEnd, &c.AnswerBegin, &c.AnswerEnd, &c.TalkBegin, &c.TalkEnd, &c.End} {
		if t.After(now) {
			*t = time.Time{}
		}
	}
	c.Phase = c.phaseFromTimes()
	return c
}

func (c *Call) phaseFromTimes() Phase {
	switch {
	case !c.End.IsZero():
		return PhaseEnded
	case !c.TalkBegin.IsZero():
		return PhaseTalking
	case !c.AnswerBegin.IsZero():
		return PhaseRinging
	case !c.WaitBegin.IsZero():
		return PhaseQueued
	default:
		return PhaseIdle
	}
}

// Leave reasons that mean the call never reached talk.
const (
	reasonNoAnswer       = 26
	reasonAgentRejected  = 50
	reasonCustomerHungUp = 89
	reasonCancelled      = 49
)

func endsWithoutTalk(leaveReason int) bool {
	switch leaveReason {
	case reasonNoAnswer, reasonAgentRejected, reasonCustomerHungUp, reasonCancelled:
		return true
	}
	return false
}

// Default phase lengths for calls put in place by SetCall without times, long enough to be obvious in a test.
const (
	manualQueue = 10 * time.Second
	manualRing  = 5 * time.Second
	manualTalk  = 30 * time.Second
)

// completeManual fills what SetCall was not given so that the call is in the requested phase at now,
// with times that end no later than now.
func completeManual(c Call, now time.Time, vdnID int, key uint64) Call {
	phase := c.Phase
	if phase == PhaseUnset {
		phase = c.phaseFromTimes()
		if phase == PhaseIdle {
			phase = PhaseTalking
		}
	}
	ended := phase == PhaseEnded || phase == PhaseIdle
	// Times of phases the call has not reached would contradict the phase asked for.
	var unset time.Time
	if phase == PhaseQueued {
		c.WaitEnd, c.AnswerBegin = unset, unset
	}
	if phase == PhaseQueued || phase == PhaseRinging {
		c.AnswerEnd, c.TalkBegin = unset, unset
	}
	if !ended {
		c.TalkEnd, c.End = unset, unset
	}
	if ended && c.End.IsZero() {
		c.End = now
	}
	reachedTalk := phase == PhaseTalking || (ended && (!c.TalkBegin.IsZero() || !endsWithoutTalk(c.LeaveReason)))
	reachedRing := phase != PhaseQueued

	// Walk backwards from the latest known point so that every default lies before it.
	latest := now
	if ended {
		latest = c.End
	}
	if reachedTalk {
		if c.TalkBegin.IsZero() {
			c.TalkBegin = latest.Add(-manualTalk)
		}
		if ended && c.TalkEnd.IsZero() {
			c.TalkEnd = c.End
		}
		if c.AnswerEnd.IsZero() {
			c.AnswerEnd = c.TalkBegin
		}
		latest = c.TalkBegin
	} else if ended && reachedRing && c.AnswerEnd.IsZero() {
		c.AnswerEnd = c.End
	}
	if reachedRing {
		if c.AnswerBegin.IsZero() {
			c.AnswerBegin = latest.Add(-manualRing)
		}
		if c.WaitEnd.IsZero() {
			c.WaitEnd = c.AnswerBegin
		}
		latest = c.AnswerBegin
	}
	if c.WaitBegin.IsZero() {
		c.WaitBegin = latest.Add(-manualQueue)
	}

	if c.MediaType == 0 {
		c.MediaType = 5
	}
	if c.MediaAbility == 0 {
		c.MediaAbility = mediaAbilityFor(c.MediaType)
	}
	if c.Skill == "" && c.SkillID == 0 {
		c.Skill, c.SkillID = "voice", 20011
	}
	if c.Caller == "" {
		c.Caller = "13800138000"
	}
	if c.Called == "" {
		c.Called = "60015"
	}
	if c.TrunkNo == 0 {
		c.TrunkNo = noTrunk
	}
	if c.CallDirectMode == "" {
		c.CallDirectMode = normalDirect
	}
	if c.VDNID == 0 {
		c.VDNID = vdnID
	}
	c.key = key
	if c.ID == "" {
		c.ID = callID(c.WaitBegin, key)
	}
	c.Phase = phase
	return c
}

const (
	noTrunk      = 65535
	normalDirect = "NORMAL_DIRECT"
)

func callID(begin time.Time, key uint64) string {
	return fmt.Sprintf("%d-%d", begin.Unix(), key%999999+1)
}

func mediaAbilityFor(mediaType int) int {
	switch mediaType {
	case 5:
		return 1
	case 19:
		return 3
	case 55:
		return 6
	default:
		return 5
	}
}

// reasonTexts are short descriptions in the style of the one documented text, "Normal reason";
// the real vocabulary is undocumented.
var reasonTexts = map[int]string{
	0:  "Normal reason",
	1:  "Overflow transfer",
	2:  "Timeout transfer",
	5:  "Agent no answer transfer",
	15: "User release",
	16: "Agent release",
	17: "Transfer out",
	26: "User no answer",
	49: "Agent cancel",
	50: "Agent reject",
	88: "User hang up after answer",
	89: "User hang up before answer",
}

func reasonText(code int) string {
	if text, ok := reasonTexts[code]; ok {
		return text
	}
	return "Unknown reason"
}

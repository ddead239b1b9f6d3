package simulator

import (
	"fmt"
	"strconv"
	"time"
)

// The automatic lifecycle cuts time (from the Unix epoch) into windows. Each window's calls follow
// from the seed, the agent and the window number alone, and every call ends inside its window. So the
// state at any instant needs at most the current and the previous window: no history to replay, no
// background goroutine, and the same answer for the same clock however the agent was polled before.

// How far each phase length strays from its mean, as a fraction of the mean.
const (
	idleSpread  = 0.5  // 40s mean: a new call every 20-60s
	queueSpread = 0.9  // queueing is erratic
	ringSpread  = 0.8  // some agents pick up at once
	talkSpread  = 0.85 // 65s mean: 10-120s
	wrapSpread  = 0.5
)

const (
	// callsPerWindow sizes a window: large enough that window edges are rare, small enough that
	// computing one window per agent stays cheap.
	callsPerWindow = 64
	// minCallSpacingMillis keeps two calls of one agent in different seconds, so their callids differ.
	minCallSpacingMillis = 1000
)

type lifecycle struct {
	seed                          uint64
	idle, queue, ring, talk, wrap int64 // means, in milliseconds
	windowMillis                  int64
	vdnID                         int
	unknownEnums                  Quirk
}

func newLifecycle(o Options) lifecycle {
	l := lifecycle{
		seed:         bits(o.Seed),
		idle:         o.IdleMean.Milliseconds(),
		queue:        o.QueueMean.Milliseconds(),
		ring:         o.RingMean.Milliseconds(),
		talk:         o.TalkMean.Milliseconds(),
		wrap:         o.WrapUpMean.Milliseconds(),
		vdnID:        o.VDNID,
		unknownEnums: o.Quirks.UnknownEnums,
	}
	longestCycle := float64(l.idle)*(1+idleSpread) + float64(l.queue)*(1+queueSpread) +
		float64(l.ring)*(1+ringSpread) + float64(l.talk)*(1+talkSpread) + float64(l.wrap)*(1+wrapSpread)
	l.windowMillis = callsPerWindow * max(int64(longestCycle)+minCallSpacingMillis, minCallSpacingMillis)
	return l
}

func (l *lifecycle) windowOf(now time.Time) int64 {
	ms := now.UnixMilli()
	w := ms / l.windowMillis
	if ms < 0 && ms%l.windowMillis != 0 {
		w--
	}
	return w
}

// windowCalls generates the calls of one agent in window w, in order.
func (l *lifecycle) windowCalls(agentNum int, w int64) []Call {
	start := w * l.windowMillis
	end := start + l.windowMillis
	gaps := newDrawer(l.seed, purposeWindow, bits(int64(agentNum)), bits(w))
	// A first gap drawn from 0..2×mean keeps agents from starting calls in step at every window edge.
	begin := start + minCallSpacingMillis + gaps.spread(l.idle, 1)
	calls := make([]Call, 0, callsPerWindow*2)
	for i := 0; ; i++ {
		c := l.generate(agentNum, w, i, begin)
		if c.wrapUntil.UnixMilli() >= end {
			return calls
		}
		calls = append(calls, c)
		begin = max(c.wrapUntil.UnixMilli()+gaps.spread(l.idle, idleSpread), begin+minCallSpacingMillis)
	}
}

var (
	mediaTypeWeights = []weightedInt{{5, 70}, {19, 10}, {1, 10}, {53, 10}}
	voiceFeatures    = []weightedInt{{0, 70}, {7, 15}, {43, 8}, {6, 7}}
	// Customers release most calls; transfers, rejections and abandons are the minority.
	leaveReasonWeights = []weightedInt{{15, 38}, {16, 25}, {88, 8}, {17, 10}, {50, 6}, {89, 8}, {26, 5}}
	enterReasonWeights = []weightedInt{{0, 85}, {1, 5}, {2, 5}, {5, 5}}
	unknownLeaveReason = []int{49, 89, 99}
	accessCodes        = []string{"60015", "60016", "60017"}
)

type skillQueue struct {
	name string
	id   int
}

var (
	voiceSkill = skillQueue{"voice", 20011}
	chatSkill  = skillQueue{"chat", 20012}
	vipSkill   = skillQueue{"vip", 20013}
	videoSkill = skillQueue{"video", 20014}
)

// generate draws call i of window w starting (queueing) at beginMillis.
func (l *lifecycle) generate(agentNum int, w int64, i int, beginMillis int64) Call {
	key := hashOf(l.seed, purposeCall, bits(int64(agentNum)), bits(w), bits(int64(i)))
	d := drawer{state: key}

	media := d.pick(mediaTypeWeights)
	feature := d.pick(voiceFeatures)
	if media == 1 || media == 53 {
		feature = 0 // chats are always customer-initiated
	}
	outbound := feature == 7 || feature == 43
	leave := d.pick(leaveReasonWeights)
	// "Customer did not answer" only fits calls the agent made, "customer hung up before answer" only calls it received.
	if leave == reasonNoAnswer && !outbound {
		leave = reasonCustomerHungUp
	} else if leave == reasonCustomerHungUp && outbound {
		leave = reasonNoAnswer
	}

	talked := !endsWithoutTalk(leave)
	queue := d.spread(l.queue, queueSpread)
	ring := d.spread(l.ring, ringSpread)
	talk := d.spread(l.talk, talkSpread)
	wrap := d.spread(l.wrap, wrapSpread)

	skill := voiceSkill
	switch {
	case media == 19:
		skill = videoSkill
	case media == 1 || media == 53:
		skill = chatSkill
	case d.chance(20):
		skill = vipSkill
	}
	customer := fmt.Sprintf("139%08d", d.intn(100000000))
	access := accessCodes[d.intn(len(accessCodes))]
	caller, called := customer, access
	switch {
	case outbound:
		caller, called = access, customer
	case feature == 6:
		caller, called = strconv.Itoa(agentNum+1+d.intn(50)), strconv.Itoa(agentNum)
	}
	trunk := noTrunk
	if media == 5 && feature != 6 {
		trunk = 1 + d.intn(30)
	}
	priority := 0
	if d.chance(15) {
		priority = 1 + d.intn(5)
	}
	enter := d.pick(enterReasonWeights)
	originalCalled := ""
	if enter != 0 {
		originalCalled = access
	}
	callData := ""
	if d.chance(30) {
		callData = "ticket=" + strconv.Itoa(100000+d.intn(900000))
	}

	// The timing keeps following the real outcome: an unknown code says nothing about what happened.
	if l.unknownEnums.appliesTo(key, quirkUnknownEnums) {
		feature, media = 42, 55
		leave = unknownLeaveReason[d.intn(len(unknownLeaveReason))]
	}

	c := Call{
		Feature:        feature,
		Caller:         caller,
		Called:         called,
		Skill:          skill.name,
		SkillID:        skill.id,
		OriginalCalled: originalCalled,
		CallData:       callData,
		UserPriority:   priority,
		TrunkNo:        trunk,
		MediaType:      media,
		MediaAbility:   mediaAbilityFor(media),
		EnterReason:    enter,
		LeaveReason:    leave,
		CallDirectMode: normalDirect,
		VDNID:          l.vdnID,
		key:            key,
	}
	t := beginMillis
	c.WaitBegin = time.UnixMilli(t)
	t += queue
	c.WaitEnd, c.AnswerBegin = time.UnixMilli(t), time.UnixMilli(t)
	t += ring
	c.AnswerEnd = time.UnixMilli(t)
	if talked {
		c.TalkBegin = time.UnixMilli(t)
		t += talk
		c.TalkEnd = time.UnixMilli(t)
	}
	c.End = time.UnixMilli(t)
	c.wrapUntil = time.UnixMilli(t + wrap)
	c.ID = callID(c.WaitBegin, key)
	return c
}

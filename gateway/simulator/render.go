package simulator

import (
	"strconv"
	"time"
	"unicode/utf8"
)

type quirkID uint64

const (
	quirkNumbersAsStrings quirkID = iota + 1
	quirkEmptyStringTimes
	quirkNoTrace
	quirkExtraKeys
	quirkUnknownEnums
	quirkNumericRetcode
)

// mixShare is the "one in N" of QuirkMix.
const mixShare = 4

// appliesTo decides per call (key), so one call keeps its shape for as long as it is reported.
func (q Quirk) appliesTo(key uint64, id quirkID) bool {
	switch q {
	case QuirkOn:
		return true
	case QuirkMix:
		return hashOf(key, purposeQuirk, uint64(id))%mixShare == 0
	default:
		return false
	}
}

// jsonWriter appends JSON with keys in a fixed order, as the gateway's own serialiser does,
// and without reflection, because the simulator sits on the hot path of the exporter's benchmarks.
type jsonWriter struct {
	b     []byte
	comma bool
}

func (w *jsonWriter) open() {
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *jsonWriter) close() {
	w.b = append(w.b, '}')
	w.comma = true
}

func (w *jsonWriter) key(k string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = appendJSONString(w.b, k)
	w.b = append(w.b, ':')
	w.comma = false
}

func (w *jsonWriter) raw(v string) {
	w.b = append(w.b, v...)
	w.comma = true
}

func (w *jsonWriter) str(v string) {
	w.b = appendJSONString(w.b, v)
	w.comma = true
}

func (w *jsonWriter) integer(v int64, quoted bool) {
	if quoted {
		w.b = append(w.b, '"')
	}
	w.b = strconv.AppendInt(w.b, v, 10)
	if quoted {
		w.b = append(w.b, '"')
	}
	w.comma = true
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// errorBody is the shape of real error answers: retcode first and "result" an empty string, not null.
func errorBody(retcode string) []byte {
	var w jsonWriter
	w.open()
	w.key("retcode")
	w.str(retcode)
	w.key("message")
	w.str(errorMessage(retcode))
	w.key("result")
	w.str("")
	w.close()
	return w.b
}

func errorMessage(retcode string) string {
	switch retcode {
	case retcodeBadParameter:
		return "the url or parameter is invalid"
	case retcodeNoPermission:
		return "no right to access the interface"
	case retcodeBadMessage:
		return "the message parameter is invalid"
	case retcodeRepeated:
		return "the interface is invoked repeatedly"
	case retcodeNotSignedIn:
		return "agent not login"
	default:
		return "request failed"
	}
}

// keyShape is how one of the "not available for the previous call" keys is sent.
type keyShape uint8

const (
	keyPresent keyShape = iota
	keyAbsent
	keyNull
	keyZero
)

// unavailableKey names a key the documentation marks as unavailable for the previous call.
type unavailableKey uint64

const (
	lastKeyWaitEnd unavailableKey = iota
	lastKeyAnswerEnd
	lastKeyTalkEnd
	lastKeyLeaveReason
	lastKeyLeaveReasonDesc
)

type callRenderer struct {
	opts       *Options
	now        time.Time
	agentNum   int
	quoted     bool // numbers as strings
	emptyTimes bool
	previous   bool // this is the previous call, not the current one
}

// successBody answers with the given call (nil: no call). previous marks the call as the previous one.
// idleKey identifies the idle period when there is no call, to keep a mixed choice stable within it.
func successBody(opts *Options, now time.Time, agentNum int, call *Call, previous bool, idleKey uint64) []byte {
	key := idleKey
	if call != nil {
		key = call.key
	}
	w := jsonWriter{b: make([]byte, 0, 1024)}
	w.open()
	w.key("message")
	w.str("")
	w.key("retcode")
	if opts.Quirks.NumericRetcode.appliesTo(key, quirkNumericRetcode) {
		w.raw("0")
	} else {
		w.str(retcodeOK)
	}
	if call == nil {
		writeNoCallResult(&w, opts.NoCallResult, idleKey)
	} else {
		r := callRenderer{
			opts:       opts,
			now:        now,
			agentNum:   agentNum,
			quoted:     opts.Quirks.NumbersAsStrings.appliesTo(key, quirkNumbersAsStrings),
			emptyTimes: opts.Quirks.EmptyStringTimes.appliesTo(key, quirkEmptyStringTimes),
			previous:   previous,
		}
		w.key("result")
		r.write(&w, call)
	}
	w.close()
	return w.b
}

func writeNoCallResult(w *jsonWriter, choice NoCallResult, idleKey uint64) {
	if choice == NoCallResultMix {
		choice = NoCallResult(1 + hashOf(idleKey, purposeNoCall)%4)
	}
	switch choice {
	case NoCallResultNull:
		w.key("result")
		w.raw("null")
	case NoCallResultEmptyObject:
		w.key("result")
		w.raw("{}")
	case NoCallResultEmptyString:
		w.key("result")
		w.str("")
	}
}

func (r *callRenderer) shapeOf(c *Call, lastKey unavailableKey) keyShape {
	if !r.previous {
		return keyPresent
	}
	switch r.opts.LastCallKeys {
	case LastCallKeysPresent:
		return keyPresent
	case LastCallKeysAbsent:
		return keyAbsent
	case LastCallKeysNull:
		return keyNull
	case LastCallKeysZero:
		return keyZero
	default:
		return keyShape(hashOf(c.key, purposeLastCallKey, uint64(lastKey)) % 4)
	}
}

func (r *callRenderer) number(w *jsonWriter, k string, v int64) {
	w.key(k)
	w.integer(v, r.quoted)
}

func (r *callRenderer) time(w *jsonWriter, k string, t time.Time) {
	w.key(k)
	switch {
	case !t.IsZero():
		w.integer(t.UnixMilli(), r.quoted)
	case r.emptyTimes:
		w.str("")
	default:
		w.integer(0, r.quoted)
	}
}

// unavailable writes a key that may be unavailable for the previous call in its absent, null or
// zero shape, and reports whether the caller still has to write the real value.
func (r *callRenderer) unavailable(w *jsonWriter, c *Call, lastKey unavailableKey, k string) (writeReal bool) {
	switch r.shapeOf(c, lastKey) {
	case keyAbsent:
	case keyNull:
		w.key(k)
		w.raw("null")
	case keyZero:
		w.key(k)
		if lastKey == lastKeyLeaveReasonDesc {
			w.str("")
		} else {
			w.integer(0, r.quoted)
		}
	default:
		return true
	}
	return false
}

func (r *callRenderer) write(w *jsonWriter, c *Call) {
	key := c.key
	w.open()
	r.number(w, "callfeature", int64(c.Feature))
	w.key("callid")
	w.str(c.ID)
	w.key("caller")
	w.str(c.Caller)
	w.key("called")
	w.str(c.Called)
	w.key("callskill")
	w.str(c.Skill)
	r.number(w, "callskillid", int64(c.SkillID))
	w.key("orgicallednum")
	w.str(c.OriginalCalled)
	w.key("calldata")
	w.str(c.CallData)
	r.time(w, "begintime", c.AnswerBegin)
	if c.End.IsZero() {
		w.key("endtime")
		w.raw("null")
	} else {
		r.time(w, "endtime", c.End)
	}
	r.number(w, "userPriority", int64(c.UserPriority))
	r.number(w, "trunkNo", int64(c.TrunkNo))
	r.number(w, "logontimes", secondsBetween(c.WaitBegin, c.End, r.now))
	r.number(w, "mediaType", int64(c.MediaType))
	r.number(w, "mediaAbility", int64(c.MediaAbility))
	r.number(w, "waitTime", secondsBetween(c.WaitBegin, c.WaitEnd, r.now))
	if r.opts.Quirks.ExtraKeys.appliesTo(key, quirkExtraKeys) {
		w.key("subMediaType")
		w.integer(0, false)
		w.key("callIdNum")
		w.integer(-1, false)
		w.key("extInfo")
		w.open()
		w.key("queueName")
		w.str(c.Skill)
		w.key("tags")
		w.raw(`["sim",1,null]`)
		w.close()
	}
	if !r.opts.Quirks.NoTrace.appliesTo(key, quirkNoTrace) {
		w.key("trace")
		r.writeTrace(w, c)
	}
	w.close()
}

func (r *callRenderer) writeTrace(w *jsonWriter, c *Call) {
	w.open()
	r.time(w, "waitBeginTime", c.WaitBegin)
	if r.unavailable(w, c, lastKeyWaitEnd, "waitEndTime") {
		r.time(w, "waitEndTime", c.WaitEnd)
	}
	r.time(w, "answerBeginTime", c.AnswerBegin)
	if r.unavailable(w, c, lastKeyAnswerEnd, "answerEndTime") {
		r.time(w, "answerEndTime", c.AnswerEnd)
	}
	r.time(w, "talkBeginTime", c.TalkBegin)
	if r.unavailable(w, c, lastKeyTalkEnd, "talkEndTime") {
		r.time(w, "talkEndTime", c.TalkEnd)
	}
	r.number(w, "deviceNo", int64(r.agentNum))
	r.number(w, "deviceType", deviceTypeAgent)
	w.key("callDirectMode")
	w.str(c.CallDirectMode)
	r.number(w, "enterReason", int64(c.EnterReason))
	w.key("enterReasonDesc")
	w.str(reasonText(c.EnterReason))
	// A call in progress has no leave reason yet; 0 with its text is what the documented example shows.
	leave := 0
	if !c.End.IsZero() {
		leave = c.LeaveReason
	}
	if r.unavailable(w, c, lastKeyLeaveReason, "leaveReason") {
		r.number(w, "leaveReason", int64(leave))
	}
	if r.unavailable(w, c, lastKeyLeaveReasonDesc, "leaveReasonDesc") {
		w.key("leaveReasonDesc")
		w.str(reasonText(leave))
	}
	r.number(w, "vdnId", int64(c.VDNID))
	w.close()
}

const deviceTypeAgent = 2

// secondsBetween is from begin to end, or to now while end is not set; 0 when begin is not set.
func secondsBetween(begin, end, now time.Time) int64 {
	if begin.IsZero() {
		return 0
	}
	if end.IsZero() {
		end = now
	}
	if end.Before(begin) {
		return 0
	}
	return int64(end.Sub(begin) / time.Second)
}

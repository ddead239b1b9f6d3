package gateway

import (
	"bytes"
	"unicode/utf8"
)

// decodeFast decodes the answers a gateway really sends in one pass over the
// body, without reflection, into exactly what the encoding/json based
// decoder below DecodeAnswer produces. It gives up (ok false) on anything
// it cannot be sure to decode the same way: invalid JSON, escapes in a key
// or in a string it has to keep, unusual result shapes, deep nesting. The
// caller then takes the general path, which also words every error, so
// the fast path never decides that a body is bad.
func decodeFast(body []byte) (answer *Answer, ok bool) {
	s := scanner{b: body}
	s.space()
	if s.peek() != '{' {
		return nil, false
	}
	var (
		retcode    string
		hasRetcode bool
		message    string
		result     []byte
	)
	ok = s.object(func(key []byte) bool {
		start := s.i
		switch field(key, envelopeKeys) {
		case envRetcode:
			// A pointer field: null leaves it unset, anything else is a Text.
			if s.literal("null") {
				hasRetcode = false
				return true
			}
			text, ok := s.text()
			retcode, hasRetcode = text, ok
			return ok
		case envMessage:
			text, ok := s.text()
			message = text
			return ok
		case envResult:
			// The last result wins; it is decoded once the retcode is known.
			if !s.skip() {
				return false
			}
			result = s.b[start:s.i]
			return true
		default:
			return s.skip()
		}
	})
	if !ok || !s.atEnd() || !hasRetcode || retcode == "" {
		return nil, false
	}
	answer = &Answer{Retcode: retcode, Message: message}
	if retcode != RetcodeSuccess {
		return answer, true
	}
	call, ok := decodeResultFast(result)
	if !ok {
		return nil, false
	}
	answer.Call = call
	return answer, true
}

// decodeResultFast handles an absent, null or "" result, a call object and
// a list of none or one call object.
func decodeResultFast(raw []byte) (*CallInfo, bool) {
	s := scanner{b: raw}
	switch {
	case len(raw) == 0, string(raw) == "null", string(raw) == `""`:
		return nil, true
	case raw[0] == '[':
		s.i++
		s.space()
		if s.peek() == ']' {
			return nil, true
		}
		if s.peek() != '{' {
			return nil, false
		}
		call, ok := s.call()
		s.space()
		if !ok || s.peek() != ']' {
			return nil, false
		}
		return call, true
	case raw[0] == '{':
		return s.call()
	default:
		return nil, false
	}
}

// fastMaxDepth is as deep as the fast path goes; a real answer nests four
// levels at most.
const fastMaxDepth = 8

// scanner walks one JSON text. Every method returns false on anything
// unexpected, leaving the decision to the general decoder.
type scanner struct {
	b     []byte
	i     int
	depth int
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// space skips JSON white space (not Unicode white space).
func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) atEnd() bool {
	s.space()
	return s.i == len(s.b)
}

// literal consumes word if it comes next.
func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// object walks an object, calling member for each key with the scanner at
// the start of the value; member must consume the value.
func (s *scanner) object(member func(key []byte) bool) bool {
	if s.peek() != '{' {
		return false
	}
	if s.depth++; s.depth > fastMaxDepth {
		return false
	}
	s.i++
	s.space()
	if s.peek() == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		s.space()
		key, escaped, ok := s.str()
		if !ok || escaped {
			return false
		}
		s.space()
		if s.peek() != ':' {
			return false
		}
		s.i++
		s.space()
		if !member(key) {
			return false
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// array walks an array, skipping its elements.
func (s *scanner) array() bool {
	if s.depth++; s.depth > fastMaxDepth {
		return false
	}
	s.i++
	s.space()
	if s.peek() == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		s.space()
		if !s.skip() {
			return false
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// skip consumes one value of any kind, checking its syntax.
func (s *scanner) skip() bool {
	switch c := s.peek(); {
	case c == '{':
		return s.object(func([]byte) bool { return s.skip() })
	case c == '[':
		return s.array()
	case c == '"':
		_, _, ok := s.str()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || isDigit(c):
		_, ok := s.number()
		return ok
	default:
		return false
	}
}

// str consumes a string and returns its raw content and whether it has
// escapes, checking the escapes and the absence of control characters.
func (s *scanner) str() (content []byte, escaped, ok bool) {
	if s.peek() != '"' {
		return nil, false, false
	}
	start := s.i + 1
	for i := start; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], escaped, true
		case c == '\\':
			escaped = true
			i++
			if i >= len(s.b) {
				return nil, false, false
			}
			switch s.b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s.b) || !isHex(s.b[i+1]) || !isHex(s.b[i+2]) || !isHex(s.b[i+3]) || !isHex(s.b[i+4]) {
					return nil, false, false
				}
				i += 4
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		}
	}
	return nil, false, false
}

// plainString is a string value whose decoded form is its raw content: no
// escapes and valid UTF-8 (encoding/json would replace invalid bytes).
func (s *scanner) plainString() ([]byte, bool) {
	content, escaped, ok := s.str()
	if !ok || escaped || !utf8.Valid(content) {
		return nil, false
	}
	return content, true
}

// number consumes a number in JSON's grammar and returns it.
func (s *scanner) number() ([]byte, bool) {
	start, i := s.i, s.i
	if i < len(s.b) && s.b[i] == '-' {
		i++
	}
	switch {
	case i < len(s.b) && s.b[i] == '0':
		i++
	case i < len(s.b) && s.b[i] >= '1' && s.b[i] <= '9':
		for i < len(s.b) && isDigit(s.b[i]) {
			i++
		}
	default:
		return nil, false
	}
	if i < len(s.b) && s.b[i] == '.' {
		i++
		if i >= len(s.b) || !isDigit(s.b[i]) {
			return nil, false
		}
		for i < len(s.b) && isDigit(s.b[i]) {
			i++
		}
	}
	if i < len(s.b) && (s.b[i] == 'e' || s.b[i] == 'E') {
		i++
		if i < len(s.b) && (s.b[i] == '+' || s.b[i] == '-') {
			i++
		}
		if i >= len(s.b) || !isDigit(s.b[i]) {
			return nil, false
		}
		for i < len(s.b) && isDigit(s.b[i]) {
			i++
		}
	}
	s.i = i
	return s.b[start:i], true
}

// text decodes a value the way Text.UnmarshalJSON does.
func (s *scanner) text() (string, bool) {
	switch c := s.peek(); {
	case c == '"':
		content, ok := s.plainString()
		if !ok {
			return "", false
		}
		switch string(content) {
		case "":
			return "", true
		case RetcodeSuccess:
			return RetcodeSuccess, true
		}
		return string(content), true
	case c == '-' || isDigit(c):
		raw, ok := s.number()
		return string(raw), ok
	default:
		return "", s.skip()
	}
}

// num decodes a value the way Number.UnmarshalJSON does.
func (s *scanner) num() (Number, bool) {
	switch c := s.peek(); {
	case c == '"':
		content, ok := s.plainString()
		return numberFromText(bytes.TrimSpace(content)), ok
	case c == '-' || isDigit(c):
		raw, ok := s.number()
		return numberFromText(raw), ok
	default:
		return Number{}, s.skip()
	}
}

// call decodes a call object as decodeResult does, including the check
// that it is a real call.
func (s *scanner) call() (*CallInfo, bool) {
	var c CallInfo
	ok := s.object(func(key []byte) bool {
		var ok bool
		switch field(key, callKeys) {
		case callID:
			var t string
			t, ok = s.text()
			c.CallID = Text(t)
		case callSkill:
			var t string
			t, ok = s.text()
			c.CallSkill = Text(t)
		case callFeature:
			c.CallFeature, ok = s.num()
		case callSkillID:
			c.CallSkillID, ok = s.num()
		case callBeginTime:
			c.BeginTime, ok = s.num()
		case callEndTime:
			c.EndTime, ok = s.num()
		case callLogonTimes:
			c.LogonTimes, ok = s.num()
		case callMediaType:
			c.MediaType, ok = s.num()
		case callMediaAbility:
			c.MediaAbility, ok = s.num()
		case callTrace:
			c.Trace, ok = s.trace()
		default:
			ok = s.skip()
		}
		return ok
	})
	if !ok {
		return nil, false
	}
	if !c.identifiable() {
		return nil, true
	}
	return &c, true
}

// trace decodes a value the way Trace.UnmarshalJSON does: anything but an
// object is an absent trace.
func (s *scanner) trace() (Trace, bool) {
	if s.peek() != '{' {
		return Trace{}, s.skip()
	}
	t := Trace{Present: true}
	ok := s.object(func(key []byte) bool {
		var ok bool
		switch field(key, traceKeys) {
		case traceWaitBegin:
			t.WaitBeginTime, ok = s.num()
		case traceWaitEnd:
			t.WaitEndTime, ok = s.num()
		case traceAnswerBegin:
			t.AnswerBeginTime, ok = s.num()
		case traceAnswerEnd:
			t.AnswerEndTime, ok = s.num()
		case traceTalkBegin:
			t.TalkBeginTime, ok = s.num()
		case traceTalkEnd:
			t.TalkEndTime, ok = s.num()
		case traceEnterReason:
			t.EnterReason, ok = s.num()
		case traceLeaveReason:
			t.LeaveReason, ok = s.num()
		case traceLeaveReasonDesc:
			var text string
			text, ok = s.text()
			t.LeaveReasonDesc = Text(text)
		default:
			ok = s.skip()
		}
		return ok
	})
	return t, ok
}

// The keys the fast path knows, by position in their list.
const (
	envRetcode = iota
	envMessage
	envResult
)

const (
	callFeature = iota
	callID
	callSkill
	callSkillID
	callBeginTime
	callEndTime
	callLogonTimes
	callMediaType
	callMediaAbility
	callTrace
)

const (
	traceWaitBegin = iota
	traceWaitEnd
	traceAnswerBegin
	traceAnswerEnd
	traceTalkBegin
	traceTalkEnd
	traceEnterReason
	traceLeaveReason
	traceLeaveReasonDesc
)

var (
	envelopeKeys = []string{"retcode", "message", "result"}
	callKeys     = []string{
		"callfeature", "callid", "callskill", "callskillid", "begintime", "endtime",
		"logontimes", "mediaType", "mediaAbility", "trace",
	}
	traceKeys = []string{
		"waitBeginTime", "waitEndTime", "answerBeginTime", "answerEndTime", "talkBeginTime",
		"talkEndTime", "enterReason", "leaveReason", "leaveReasonDesc",
	}
)

// field returns the position of key among names, or -1. Like
// encoding/json it prefers an exact match and otherwise matches without
// regard to case; the names differ from each other in more than case, so
// at most one can match.
func field(key []byte, names []string) int {
	for i, name := range names {
		if string(key) == name {
			return i
		}
	}
	ascii := true
	for _, c := range key {
		ascii = ascii && c < utf8.RuneSelf
	}
	for i, name := range names {
		if ascii && len(key) != len(name) {
			// Only a non-ASCII key can fold to a name of another length
			// (the Kelvin sign folds to k, the long s to s).
			continue
		}
		if bytes.EqualFold(key, []byte(name)) {
			return i
		}
	}
	return -1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

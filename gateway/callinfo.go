package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// CallInfo is the result of "Querying Call Information" (queryCallInfo).
// Only the fields the exporter reads are declared: phone numbers and
// call-associated data are deliberately left out so they cannot leak into
// metrics, and at ten thousand agents every field more is memory held for
// each answer of a scrape and each call in progress.
type CallInfo struct {
	CallFeature Number `json:"callfeature"`
	CallID      Text   `json:"callid"`
	CallSkill   Text   `json:"callskill"`
	CallSkillID Number `json:"callskillid"`
	// BeginTime is the start of the answer phase, epoch milliseconds.
	BeginTime Number `json:"begintime"`
	// EndTime is the end of the call, epoch milliseconds; unset while the
	// call is still going.
	EndTime    Number `json:"endtime"`
	LogonTimes Number `json:"logontimes"`
	MediaType  Number `json:"mediaType"`
	Trace      Trace  `json:"trace"`
}

// Trace is HWCallDeviceTraceEx: the call's track on the agent's device. For
// the previous call the gateway may omit the *End* times and the leave
// reason.
type Trace struct {
	// Present is false when the gateway sent no trace object.
	Present         bool   `json:"-"`
	WaitBeginTime   Number `json:"waitBeginTime"`
	WaitEndTime     Number `json:"waitEndTime"`
	AnswerBeginTime Number `json:"answerBeginTime"`
	AnswerEndTime   Number `json:"answerEndTime"`
	TalkBeginTime   Number `json:"talkBeginTime"`
	TalkEndTime     Number `json:"talkEndTime"`
	LeaveReason     Number `json:"leaveReason"`
}

// UnmarshalJSON treats anything but an object (null, "", a number) as "no
// trace", since the sibling interfaces document the trace as optional.
func (t *Trace) UnmarshalJSON(raw []byte) error {
	*t = Trace{}
	if !isObject(raw) {
		return nil
	}
	type plain Trace
	var p plain
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil //nolint:nilerr // a malformed trace is an absent trace, never a failed answer
	}
	*t = Trace(p)
	t.Present = true
	return nil
}

// Ended reports whether the gateway says the call is over.
func (c *CallInfo) Ended() bool {
	_, ok := c.EndTime.Positive()
	return ok
}

// Talking reports whether the conversation has started.
func (c *CallInfo) Talking() bool {
	_, ok := c.Trace.TalkBeginTime.Positive()
	return ok
}

// Answer is a decoded gateway envelope for queryCallInfo.
type Answer struct {
	Retcode string
	Message string
	// Call is nil when the gateway returned no call (result absent, null,
	// "", {} or an empty list).
	Call *CallInfo
}

// ErrEnvelope marks a body that is JSON but not the gateway's envelope.
var ErrEnvelope = errors.New("not a gateway envelope")

type envelope struct {
	Retcode *Text           `json:"retcode"`
	Message Text            `json:"message"`
	Result  json.RawMessage `json:"result"`
}

// DecodeAnswer decodes a queryCallInfo response body. It is lenient about the
// gateway's known sloppiness and strict about what matters: the body must be
// a JSON object with a retcode, and a successful result must be a call
// object, an array of at most one, or one of the "no call" shapes.
func DecodeAnswer(body []byte) (*Answer, error) {
	if answer, ok := decodeFast(body); ok {
		return answer, nil
	}
	return decodeGeneral(body)
}

// decodeGeneral decodes with encoding/json: every shape, and the wording of
// every error.
func decodeGeneral(body []byte) (*Answer, error) {
	env, err := readEnvelope(body)
	if err != nil {
		return nil, err
	}
	answer := &Answer{Retcode: string(*env.Retcode), Message: string(env.Message)}
	if answer.Retcode != RetcodeSuccess {
		return answer, nil
	}
	call, err := decodeResult(env.Result, true)
	if err != nil {
		return nil, err
	}
	answer.Call = call
	return answer, nil
}

// decodeResult decodes the result of a successful answer. A list is
// accepted only at the top (listOK) and only its first element is copied,
// so neither nested nor long lists can make decoding cost more than a
// small multiple of the body.
func decodeResult(raw json.RawMessage, listOK bool) (*CallInfo, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0, bytes.Equal(raw, []byte("null")), bytes.Equal(raw, []byte(`""`)):
		return nil, nil
	case raw[0] == '[' && !listOK:
		return nil, fmt.Errorf("%w: result list inside a list", ErrEnvelope)
	case raw[0] == '[':
		first, more, err := firstOfList(raw)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%w: result list: %w", ErrEnvelope, err)
		case more:
			return nil, fmt.Errorf("%w: result list has more than one call", ErrEnvelope)
		case first == nil:
			return nil, nil
		}
		return decodeResult(first, false)
	case raw[0] == '{':
		var call CallInfo
		if err := json.Unmarshal(raw, &call); err != nil {
			return nil, fmt.Errorf("%w: result: %w", ErrEnvelope, err)
		}
		if !call.identifiable() {
			return nil, nil
		}
		return &call, nil
	default:
		return nil, fmt.Errorf("%w: result is neither an object nor empty", ErrEnvelope)
	}
}

// firstOfList returns the first element of a JSON array (nil when it is
// empty) and whether more follow, without decoding the rest.
func firstOfList(raw []byte) (first json.RawMessage, more bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, false, err
	}
	if !dec.More() {
		return nil, false, nil
	}
	if err := dec.Decode(&first); err != nil {
		return nil, false, err
	}
	return first, dec.More(), nil
}

// identifiable tells a real call from an empty or placeholder object.
func (c *CallInfo) identifiable() bool {
	if c.CallID != "" {
		return true
	}
	for _, n := range []Number{c.BeginTime, c.EndTime, c.Trace.WaitBeginTime, c.Trace.AnswerBeginTime, c.Trace.TalkBeginTime} {
		if _, ok := n.Positive(); ok {
			return true
		}
	}
	return false
}

// maxNesting bounds how deep a body may nest. A real answer is three
// levels deep; encoding/json's memory grows with the depth.
const maxNesting = 32

// tooDeep reports whether body nests objects and arrays deeper than
// maxNesting, counting brackets outside strings.
func tooDeep(body []byte) bool {
	depth := 0
	for _, c := range structural(body) {
		switch c {
		case '{', '[':
			if depth++; depth > maxNesting {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

func isObject(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 1 && raw[0] == '{'
}

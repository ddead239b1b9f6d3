package gateway

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// decodeFast decodes the answers a gateway really sends in one pass over the
// body into exactly what the encoding/json based decoder below DecodeAnswer
// produces. It gives up (ok false) on anything it cannot be sure to decode
// the same way: invalid JSON, escapes in a key or in a string it has to
// keep, unusual result shapes, deep nesting. The caller then takes the
// general path, which also words every error, so the fast path never
// decides that a body is bad.
//
// The fields it knows are not listed here: they come from the json tags of
// envelope, CallInfo and Trace, the same tags encoding/json reads, so the
// two decoders cannot disagree about which key goes where.
func decodeFast(body []byte) (answer *Answer, ok bool) {
	retcode, message, result, ok := envelopeFast(body)
	if !ok {
		return nil, false
	}
	answer = &Answer{Retcode: retcode, Message: message}
	if answer.Retcode != RetcodeSuccess {
		return answer, true
	}
	call, ok := decodeResultFast(result)
	if !ok {
		return nil, false
	}
	answer.Call = call
	return answer, true
}

// envelopeFast reads the envelope of any interface's answer in one pass,
// as readEnvelope does; result is the raw result, a part of body, for the
// interface's own fast path.
func envelopeFast(body []byte) (retcode, message string, result []byte, ok bool) {
	s := scanner{b: body}
	s.space()
	env := envelopes.Get().(*envelope)
	defer func() {
		*env = envelope{}
		envelopes.Put(env)
	}()
	if !s.fields(reflect.ValueOf(env).Elem(), envelopeFields) || !s.atEnd() || env.Retcode == nil || *env.Retcode == "" {
		return "", "", nil, false
	}
	return string(*env.Retcode), string(env.Message), env.Result, true
}

// envelopes recycle the fast path's envelopes (the reflection that fills
// them would put a new one on the heap per answer), and successRetcode is
// where a successful answer's retcode points.
var (
	envelopes      = sync.Pool{New: func() any { return new(envelope) }}
	successRetcode = Text(RetcodeSuccess)
)

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

// call decodes a call object as decodeResult does, including the check
// that it is a real call.
func (s *scanner) call() (*CallInfo, bool) {
	c := new(CallInfo)
	if !s.fields(reflect.ValueOf(c).Elem(), callFields) {
		return nil, false
	}
	if !c.identifiable() {
		return nil, true
	}
	return c, true
}

// fieldTable is the JSON keys of a struct's fields, in field order.
type fieldTable struct {
	names []string
	index []int
}

// fieldsOf reads the json tags of struct type T. It runs once per type at
// start-up and panics on a field type the fast path cannot decode, so a
// field added to CallInfo, Trace or a list entry (fastdecode_list.go)
// without teaching the fast path fails every test rather than decoding
// differently.
func fieldsOf[T any]() fieldTable {
	var table fieldTable
	t := reflect.TypeFor[T]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		switch f.Type {
		case reflect.TypeFor[Number](), reflect.TypeFor[Text](), reflect.TypeFor[Trace](), reflect.TypeFor[Bool](),
			reflect.TypeFor[*Text](), reflect.TypeFor[json.RawMessage]():
		default:
			panic("gateway: the fast decoder cannot decode " + t.Name() + "." + f.Name + " of type " + f.Type.String())
		}
		table.names = append(table.names, name)
		table.index = append(table.index, i)
	}
	return table
}

var (
	envelopeFields = fieldsOf[envelope]()
	callFields     = fieldsOf[CallInfo]()
	traceFields    = fieldsOf[Trace]()
)

// fields decodes an object into the struct v (addressable), each member
// the way the field's UnmarshalJSON does. Members with unknown keys are
// checked and skipped; with a repeated key the last one wins, as in
// encoding/json.
func (s *scanner) fields(v reflect.Value, table fieldTable) bool {
	return s.object(func(key []byte) bool {
		i := field(key, table.names)
		if i < 0 {
			return s.skip()
		}
		var ok bool
		switch p := v.Field(table.index[i]).Addr().Interface().(type) {
		case *Number:
			*p, ok = s.num()
		case *Text:
			*p, ok = s.text()
		case *Trace:
			ok = s.trace(p)
		case *Bool:
			*p, ok = s.boolean()
		case **Text: // the retcode: null leaves it unset
			if s.literal("null") {
				*p = nil
				return true
			}
			var t Text
			if t, ok = s.text(); t == RetcodeSuccess {
				*p = &successRetcode
			} else {
				retcode := t
				*p = &retcode
			}
		case *json.RawMessage: // the result, decoded once the retcode is known
			start := s.i
			ok = s.skip()
			*p = s.b[start:s.i]
		}
		return ok
	})
}

// text decodes a value the way Text.UnmarshalJSON does.
func (s *scanner) text() (Text, bool) {
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
		return Text(content), true
	case c == '-' || isDigit(c):
		raw, ok := s.number()
		return Text(raw), ok
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

// trace decodes a value into t the way Trace.UnmarshalJSON does: anything
// but an object is an absent trace.
func (s *scanner) trace(t *Trace) bool {
	*t = Trace{}
	if s.peek() != '{' {
		return s.skip()
	}
	t.Present = true
	return s.fields(reflect.ValueOf(t).Elem(), traceFields)
}

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

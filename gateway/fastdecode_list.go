package gateway

import (
	"bytes"
	"reflect"
)

// The interfaces whose result is documented as a list (agentstatus,
// queryacdstat, agentvdnskill) get the same one-pass decoding as
// callinfo. agentstatus matters most: with agent_state on it is every
// agent's second query of every scrape, and through encoding/json its
// small answer cost more than a whole call information answer on the fast
// path, with ten times the allocations. As for callinfo, the fields come from the json
// tags of the entry type, and anything unusual is left to decodeList.

// listDecoder decodes the answers of one such interface: at most limit
// entries, those keep accepts.
type listDecoder[T any] struct {
	fields fieldTable
	limit  int
	keep   func(*T) bool
}

func newListDecoder[T any](limit int, keep func(*T) bool) listDecoder[T] {
	return listDecoder[T]{fields: fieldsOf[T](), limit: limit, keep: keep}
}

// decode takes the fast path when it can and decodeList otherwise, which
// also words every error.
func (d *listDecoder[T]) decode(body []byte) (listAnswer[T], error) {
	if answer, ok := d.decodeFast(body); ok {
		return answer, nil
	}
	answer, err := decodeList(body, d.limit, d.keep)
	if err != nil {
		return listAnswer[T]{}, err
	}
	return *answer, nil
}

// decodeFast decodes what decodeList would, in one pass, or gives up (ok
// false) as decodeFast does for callinfo.
func (d *listDecoder[T]) decodeFast(body []byte) (answer listAnswer[T], ok bool) {
	retcode, message, result, ok := envelopeFast(body)
	if !ok {
		return answer, false
	}
	answer = listAnswer[T]{retcode: retcode, message: message}
	if retcode != RetcodeSuccess {
		return answer, true
	}
	s := scanner{b: result}
	switch {
	case len(result) == 0, string(result) == "null", string(result) == `""`:
		return answer, true
	case result[0] == '{':
		return answer, d.entry(&s, &answer)
	case result[0] == '[':
		return answer, d.entries(&s, &answer)
	default:
		return answer, false // not a result decodeList accepts: it says why
	}
}

// entries reads a list as eachObject does: objects in order, other
// elements skipped, and after limit objects the first further one marks
// the answer truncated. The rest has been checked with the envelope.
func (d *listDecoder[T]) entries(s *scanner, answer *listAnswer[T]) bool {
	empty, ok := s.open(']')
	if !ok || empty {
		return ok
	}
	for passed := 0; ; {
		s.space()
		switch {
		case s.peek() != '{':
			if !s.skip() {
				return false
			}
		case passed == d.limit:
			answer.truncated = true
			return true
		default:
			if !d.entry(s, answer) {
				return false
			}
			passed++
		}
		if more, ok := s.next(']'); !more {
			return ok
		}
	}
}

// entry decodes one object into a new entry, kept when keep accepts it.
// It is decoded in place, at the end of the list: an entry of its own
// would be put on the heap by the reflection that fills it.
func (d *listDecoder[T]) entry(s *scanner, answer *listAnswer[T]) bool {
	var zero T
	answer.items = append(answer.items, zero)
	item := &answer.items[len(answer.items)-1]
	if !s.fields(reflect.ValueOf(item).Elem(), d.fields) {
		return false
	}
	if !d.keep(item) {
		// No list at all when nothing was kept, as from decodeList.
		if answer.items = answer.items[:len(answer.items)-1]; len(answer.items) == 0 {
			answer.items = nil
		}
	}
	return true
}

// boolean decodes a value the way Bool.UnmarshalJSON does.
func (s *scanner) boolean() (Bool, bool) {
	if s.peek() == '"' {
		content, ok := s.plainString()
		return boolFromText(bytes.TrimSpace(content)), ok
	}
	start := s.i
	if !s.skip() {
		return Bool{}, false
	}
	return boolFromText(s.b[start:s.i]), true
}

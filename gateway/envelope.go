package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
)

// readEnvelope decodes the envelope every interface of the gateway answers
// with. The body must be a JSON object of bounded depth with a non-empty
// retcode; result is left raw for the interface's own decoder.
func readEnvelope(body []byte) (*envelope, error) {
	if !isObject(body) {
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrEnvelope)
	}
	if tooDeep(body) {
		return nil, fmt.Errorf("%w: nested more than %d levels deep", ErrEnvelope, maxNesting)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEnvelope, err)
	}
	if env.Retcode == nil || *env.Retcode == "" {
		return nil, fmt.Errorf("%w: no retcode", ErrEnvelope)
	}
	return &env, nil
}

// isEmptyResult reports the shapes the gateway uses for "nothing": absent,
// null and "".
func isEmptyResult(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null")) || bytes.Equal(raw, []byte(`""`))
}

// listAnswer is a decoded envelope whose result is a list of T.
type listAnswer[T any] struct {
	retcode, message string
	items            []T
	truncated        bool
}

// decodeList decodes an envelope whose result is documented as a list of
// objects (see eachObject), keeping the entries keep accepts; entries are
// read only from a successful answer.
func decodeList[T any](body []byte, limit int, keep func(*T) bool) (*listAnswer[T], error) {
	env, err := readEnvelope(body)
	if err != nil {
		return nil, err
	}
	answer := &listAnswer[T]{retcode: string(*env.Retcode), message: string(env.Message)}
	if answer.retcode != RetcodeSuccess {
		return answer, nil
	}
	answer.truncated, err = eachObject(env.Result, limit, func(obj []byte) {
		var item T
		if json.Unmarshal(obj, &item) == nil && keep(&item) {
			answer.items = append(answer.items, item)
		}
	})
	if err != nil {
		return nil, err
	}
	return answer, nil
}

// eachObject calls fn for the objects of a result documented as a list,
// in order, and for a lone object as if it were a list of one (the gateway
// sends an object where a list is documented, and the reverse). Elements
// that are not objects are skipped: one sloppy entry never discards the
// others. At most limit objects are passed; truncated reports that more
// followed. raw must be valid JSON (readEnvelope has checked the whole
// body), so the list is split without a decoder and costs nothing beyond
// what fn does with the objects it is given.
func eachObject(raw []byte, limit int, fn func(obj []byte)) (truncated bool, err error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case isEmptyResult(raw):
		return false, nil
	case raw[0] == '{':
		fn(raw)
		return false, nil
	case raw[0] != '[':
		return false, fmt.Errorf("%w: result is neither a list, an object nor empty", ErrEnvelope)
	}
	passed := 0
	for elem := range listElements(raw) {
		if !isObject(elem) {
			continue
		}
		if passed == limit {
			return true, nil
		}
		fn(elem)
		passed++
	}
	return false, nil
}

// listElements yields the elements of a valid JSON array, white space
// trimmed.
func listElements(list []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		depth, start := 0, 1
		for i, c := range structural(list) {
			switch {
			case depth == 1 && (c == ',' || c == ']' || c == '}'):
				if elem := bytes.TrimSpace(list[start:i]); len(elem) > 0 && !yield(elem) {
					return
				}
				start = i + 1
				if c != ',' {
					depth--
				}
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
			}
		}
	}
}

// structural yields the brackets and commas of a JSON text that are not
// inside a string, with their positions.
func structural(text []byte) iter.Seq2[int, byte] {
	return func(yield func(int, byte) bool) {
		inString, escaped := false, false
		for i, c := range text {
			switch {
			case escaped:
				escaped = false
			case inString && c == '\\':
				escaped = true
			case inString:
				inString = c != '"'
			case c == '"':
				inString = true
			case c == '{' || c == '[' || c == '}' || c == ']' || c == ',':
				if !yield(i, c) {
					return
				}
			}
		}
	}
}

// Package gateway is the client of the CC-Gateway's call information
// interface: request, lenient decoding of what the gateway really sends,
// error classification and the enumeration tables.
package gateway

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// Number is an integer field as the gateway really sends it: a JSON number,
// a numeric string ("70004"), or null / "" / absent for "not known". Anything
// else is also "not known": a value is never invented from a malformed field.
// The zero Number is "not known".
//
// It takes eight bytes, not the sixteen of a value and a flag: a call has
// thirteen of them, held for every answer of a scrape and every call in
// progress. The value is kept with its sign bit flipped, so that zero bits
// are "not known"; the one value this cannot hold, the smallest int64, is
// "not known" too.
type Number struct{ flipped int64 }

// NumberOf is the known value v.
func NumberOf(v int64) Number { return Number{v ^ math.MinInt64} }

// Valid reports whether the value is known.
func (n Number) Valid() bool { return n.flipped != 0 }

// Value is the value, 0 when it is not known.
func (n Number) Value() int64 {
	if !n.Valid() {
		return 0
	}
	return n.flipped ^ math.MinInt64
}

// String shows the value, or "unknown".
func (n Number) String() string {
	if !n.Valid() {
		return "unknown"
	}
	return strconv.FormatInt(n.Value(), 10)
}

// UnmarshalJSON accepts every shape the gateway has been seen to send and
// never fails, so one sloppy field cannot discard the rest of an answer.
func (n *Number) UnmarshalJSON(raw []byte) error {
	*n = Number{}
	if text, ok := scalarText(raw); ok {
		*n = numberFromText(text)
	}
	return nil
}

// scalarText is the text of a raw JSON value, white space trimmed: the
// content of a string, or the value itself. ok is false for a string that
// cannot be decoded, which the lenient types take as an unknown value,
// never as a failed answer.
func scalarText(raw []byte) (text []byte, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return bytes.TrimSpace([]byte(s)), true
	}
	return raw, true
}

// numberFromText reads a number field's text: the raw JSON value, or the
// content of a JSON string, white space trimmed.
func numberFromText(text []byte) Number {
	if len(text) == 0 || text[0] == 'n' || text[0] == 't' || text[0] == 'f' || text[0] == '{' || text[0] == '[' {
		return Number{}
	}
	if v, err := strconv.ParseInt(string(text), 10, 64); err == nil {
		return NumberOf(v)
	}
	// Millisecond times occasionally arrive in exponent form (1.476838963e12).
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return Number{} // see above: unknown, never invented
	}
	return NumberOf(int64(f))
}

// Positive reports the value when it is known and above zero; the gateway
// uses 0 for "not set" in time fields.
func (n Number) Positive() (int64, bool) {
	return n.Value(), n.Value() > 0
}

// Text is a string field that the gateway may send as a number ("caller":
// 70004) or null. Unknown shapes decode to "".
type Text string

// UnmarshalJSON never fails; see Number.
func (t *Text) UnmarshalJSON(raw []byte) error {
	*t = ""
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			*t = Text(s)
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		*t = Text(raw)
	}
	return nil
}

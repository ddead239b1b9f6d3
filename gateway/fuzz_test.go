package gateway

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// allocBound is what decoding a body of n bytes may allocate: a few times
// the body, plus a constant for the decoder's own state.
func allocBound(n int) uint64 { return 8*uint64(n) + 64<<10 }

// allocated returns the bytes allocated while decode runs.
func allocated(decode func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	decode()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// FuzzDecodeAnswer feeds arbitrary bodies to the decoder: it must never
// panic, must classify every failure as ErrEnvelope, must return a call
// only for a successful and identifiable answer, and must not allocate
// more than a few times the body. The seed corpus in
// testdata/fuzz/FuzzDecodeAnswer holds real-shaped answers.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add([]byte(`{"retcode":"0","result":{"callid":"1-1"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var (
			answer *Answer
			err    error
		)
		if n := allocated(func() { answer, err = DecodeAnswer(body) }); n > allocBound(len(body)) {
			t.Errorf("decoding %d bytes allocated %d bytes, bound %d", len(body), n, allocBound(len(body)))
		}
		if err != nil {
			if answer != nil || !errors.Is(err, ErrEnvelope) {
				t.Fatalf("failure returned answer %+v and error %v (want nil and ErrEnvelope)", answer, err)
			}
			return
		}
		if answer.Retcode == "" {
			t.Fatalf("accepted an answer without a retcode: %q", body)
		}
		if answer.Call != nil && (answer.Retcode != RetcodeSuccess || !answer.Call.identifiable()) {
			t.Fatalf("returned a call for retcode %q or an unidentifiable call: %q", answer.Retcode, body)
		}
	})
}

// TestDecodeAnswerHostileShapes covers the shapes that once cost far more
// than their size: deep nesting and long result lists.
func TestDecodeAnswerHostileShapes(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"lists nested 9000 deep", `{"retcode":"0","result":` + strings.Repeat("[", 9000) + `{"callid":"1"}` + strings.Repeat("]", 9000) + `}`},
		{"objects nested 9000 deep", `{"retcode":"0","x":` + strings.Repeat(`{"a":`, 9000) + `1` + strings.Repeat("}", 9000) + `}`},
		{"list of a list", `{"retcode":"0","result":[[{"callid":"1"}]]}`},
		{"list of 100000 calls", `{"retcode":"0","result":[` + strings.Repeat(`{"callid":"1"},`, 100000) + `{}]}`},
		{"list of 100000 numbers", `{"retcode":"0","result":[` + strings.Repeat("0,", 100000) + `0]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			var err error
			if n := allocated(func() { _, err = DecodeAnswer(body) }); n > allocBound(len(body)) {
				t.Errorf("decoding %d bytes allocated %d bytes, bound %d", len(body), n, allocBound(len(body)))
			}
			if !errors.Is(err, ErrEnvelope) {
				t.Errorf("error = %v, want ErrEnvelope", err)
			}
		})
	}
	// Brackets inside strings are not nesting.
	body := `{"retcode":"0","message":"` + strings.Repeat("[{", 100) + `\"","result":{"callid":"7-7"}}`
	if answer, err := DecodeAnswer([]byte(body)); err != nil || answer.Call == nil {
		t.Errorf("brackets in a string rejected: %v", err)
	}
}

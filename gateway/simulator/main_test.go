package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Hanging and aborted requests are exactly where goroutines leak; every test must leave none behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testStart is a Monday morning, far from the epoch, on a window boundary of no particular kind.
var testStart = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

func newTestSimulator(t testing.TB, opts Options) (*Simulator, *ManualClock) {
	t.Helper()
	clock := NewManualClock(testStart)
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	return New(opts), clock
}

// reply is one decoded answer of the simulator.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any // nil when the body is not a JSON object
}

func callInfoPath(agentID string, includePrevious bool) string {
	return callInfoPrefix + agentID + "/callinfo?isNoContainLastCall=" + strconv.FormatBool(includePrevious)
}

// query asks the handler in-process, as the exporter would over HTTP.
func query(t testing.TB, h http.Handler, agentID, guid string, includePrevious bool) reply {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, callInfoPath(agentID, includePrevious), nil)
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	if guid != "" {
		req.Header.Set("Guid", guid)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return decodeReply(rec.Code, rec.Header(), rec.Body.Bytes())
}

func decodeReply(status int, header http.Header, raw []byte) reply {
	r := reply{status: status, header: header, raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body map[string]any
	if dec.Decode(&body) == nil {
		r.body = body
	}
	return r
}

// queryAgent asks with the agent's own current Guid.
func queryAgent(t testing.TB, s *Simulator, agentID string, includePrevious bool) reply {
	t.Helper()
	return query(t, s, agentID, s.Guid(agentID), includePrevious)
}

// lookup follows keys into nested objects.
func lookup(v any, keys ...string) (any, bool) {
	for _, k := range keys {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// integer reads a JSON number or a numeric string; ok is false for anything else (null, "", absent).
func integer(v any, present bool) (int64, bool) {
	if !present {
		return 0, false
	}
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

func (r reply) retcode() string {
	v, ok := lookup(r.body, "retcode")
	if !ok {
		return "<absent>"
	}
	return fmt.Sprint(v)
}

func (r reply) result() (map[string]any, bool) {
	v, ok := lookup(r.body, "result")
	obj, isObj := v.(map[string]any)
	return obj, ok && isObj && len(obj) > 0
}

func (r reply) int(t testing.TB, keys ...string) int64 {
	t.Helper()
	n, ok := integer(lookup(r.body, keys...))
	if !ok {
		t.Fatalf("%v is not an integer in %s", keys, r.raw)
	}
	return n
}

func (r reply) str(t testing.TB, keys ...string) string {
	t.Helper()
	v, _ := lookup(r.body, keys...)
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%v is not a string in %s", keys, r.raw)
	}
	return s
}

func (r reply) mustSucceed(t testing.TB) reply {
	t.Helper()
	if r.status != http.StatusOK || r.retcode() != "0" {
		t.Fatalf("want HTTP 200 with retcode 0, got HTTP %d: %s", r.status, r.raw)
	}
	return r
}

// callTimes are the times of one answer in milliseconds, 0 where unset.
type callTimes struct {
	waitBegin, waitEnd, answerBegin, answerEnd, talkBegin, talkEnd, begin, end int64
	endNull                                                                    bool
}

func (r reply) times(t testing.TB) callTimes {
	t.Helper()
	endRaw, _ := lookup(r.body, "result", "endtime")
	ct := callTimes{
		waitBegin:   r.int(t, "result", "trace", "waitBeginTime"),
		waitEnd:     r.int(t, "result", "trace", "waitEndTime"),
		answerBegin: r.int(t, "result", "trace", "answerBeginTime"),
		answerEnd:   r.int(t, "result", "trace", "answerEndTime"),
		talkBegin:   r.int(t, "result", "trace", "talkBeginTime"),
		talkEnd:     r.int(t, "result", "trace", "talkEndTime"),
		begin:       r.int(t, "result", "begintime"),
		endNull:     endRaw == nil,
	}
	if !ct.endNull {
		ct.end = r.int(t, "result", "endtime")
	}
	return ct
}

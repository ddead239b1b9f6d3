package gateway

import (
	"errors"
	"os"
	"testing"
)

func num(v int64) Number { return NumberOf(v) }

func TestDecodeAnswer(t *testing.T) {
	seed, err := os.ReadFile("testdata/seed-example.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		body        string
		wantErr     error
		wantRetcode string
		wantCall    bool
		check       func(t *testing.T, c *CallInfo)
	}{
		{
			name: "documented example", body: string(seed), wantRetcode: "0", wantCall: true,
			check: func(t *testing.T, c *CallInfo) {
				expect(t, "callid", c.CallID, Text("1476838963-224"))
				expect(t, "callskill", c.CallSkill, Text("voice"))
				expect(t, "callskillid", c.CallSkillID, num(20011))
				expect(t, "begintime", c.BeginTime, num(1476838963000))
				expect(t, "endtime", c.EndTime, Number{})
				expect(t, "mediaType", c.MediaType, num(5))
				expect(t, "logontimes", c.LogonTimes, num(0))
				expect(t, "trace present", c.Trace.Present, true)
				expect(t, "talkBeginTime", c.Trace.TalkBeginTime, num(1626179227000))
				expect(t, "leaveReason", c.Trace.LeaveReason, num(0))
				expect(t, "ended", c.Ended(), false)
			},
		},
		{
			name:        "numbers as strings and retcode as number",
			body:        `{"retcode":0,"result":{"callid":"1-1","callfeature":"7","mediaType":"19","begintime":"1700000000000","endtime":"1700000060000","trace":{"talkBeginTime":"1700000010000","leaveReason":"16"}}}`,
			wantRetcode: "0", wantCall: true,
			check: func(t *testing.T, c *CallInfo) {
				expect(t, "callfeature", c.CallFeature, num(7))
				expect(t, "mediaType", c.MediaType, num(19))
				expect(t, "endtime", c.EndTime, num(1700000060000))
				expect(t, "leaveReason", c.Trace.LeaveReason, num(16))
				expect(t, "ended", c.Ended(), true)
				expect(t, "talking", c.Talking(), true)
			},
		},
		{
			name:        "empty strings and nulls are unknown, exponent form accepted",
			body:        `{"retcode":"0","result":{"callid":"2-2","begintime":1.7e12,"endtime":"","mediaType":null,"logontimes":"abc","trace":{"waitEndTime":"","leaveReason":null}}}`,
			wantRetcode: "0", wantCall: true,
			check: func(t *testing.T, c *CallInfo) {
				expect(t, "begintime", c.BeginTime, num(1700000000000))
				expect(t, "endtime", c.EndTime, Number{})
				expect(t, "mediaType", c.MediaType, Number{})
				expect(t, "logontimes", c.LogonTimes, Number{})
				expect(t, "leaveReason", c.Trace.LeaveReason, Number{})
			},
		},
		{
			name: "trace absent, null or of the wrong shape", wantRetcode: "0", wantCall: true,
			body: `{"retcode":"0","result":{"callid":"3-3","trace":"","callskill":20011}}`,
			check: func(t *testing.T, c *CallInfo) {
				expect(t, "trace present", c.Trace.Present, false)
				expect(t, "callskill from number", c.CallSkill, Text("20011"))
			},
		},
		{name: "result absent", body: `{"retcode":"0","message":""}`, wantRetcode: "0"},
		{name: "result null", body: `{"retcode":"0","result":null}`, wantRetcode: "0"},
		{name: "result empty string", body: `{"retcode":"0","result":""}`, wantRetcode: "0"},
		{name: "result empty object", body: `{"retcode":"0","result":{}}`, wantRetcode: "0"},
		{name: "result empty list", body: `{"retcode":"0","result":[]}`, wantRetcode: "0"},
		{
			name: "result one-element list", body: `{"retcode":"0","result":[{"callid":"4-4"}]}`, wantRetcode: "0", wantCall: true,
			check: func(t *testing.T, c *CallInfo) { expect(t, "callid", c.CallID, Text("4-4")) },
		},
		{name: "unknown keys ignored", body: `{"retcode":"0","extra":{"a":1},"result":{"subMediaType":2,"callid":"5-5"}}`, wantRetcode: "0", wantCall: true},
		{name: "error body", body: `{"retcode":"100-006","message":"agent not login","result":""}`, wantRetcode: "100-006"},
		{name: "error body with a result", body: `{"retcode":"000-003","result":{"callid":"x"}}`, wantRetcode: "000-003"},
		{name: "not JSON", body: `<html><body>502 Bad Gateway</body></html>`, wantErr: ErrEnvelope},
		{name: "truncated JSON", body: `{"retcode":"0","result":{"callid":"1-`, wantErr: ErrEnvelope},
		{name: "JSON array", body: `[{"retcode":"0"}]`, wantErr: ErrEnvelope},
		{name: "no retcode", body: `{"result":{"callid":"1"}}`, wantErr: ErrEnvelope},
		{name: "empty retcode", body: `{"retcode":"","result":null}`, wantErr: ErrEnvelope},
		{name: "two calls", body: `{"retcode":"0","result":[{"callid":"1"},{"callid":"2"}]}`, wantErr: ErrEnvelope},
		{name: "result a number", body: `{"retcode":"0","result":42}`, wantErr: ErrEnvelope},
		{name: "empty body", body: ``, wantErr: ErrEnvelope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, err := DecodeAnswer([]byte(tt.body))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			expect(t, "retcode", answer.Retcode, tt.wantRetcode)
			if got := answer.Call != nil; got != tt.wantCall {
				t.Fatalf("call present = %v, want %v", got, tt.wantCall)
			}
			if tt.check != nil {
				tt.check(t, answer.Call)
			}
		})
	}
}

func expect[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestLeaveReason(t *testing.T) {
	tests := []struct {
		code       Number
		reason     string
		reasonDesc string
	}{
		{num(15), "15", "customer released"},
		{num(50), "50", "agent rejected"},
		{num(89), "89", "customer hung up before answer"},
		{num(99), "99", "unknown"},
		{Number{}, "unknown", "unknown"},
	}
	for _, tt := range tests {
		reason, desc := LeaveReason(tt.code)
		if reason != tt.reason || desc != tt.reasonDesc {
			t.Errorf("LeaveReason(%+v) = %q, %q; want %q, %q", tt.code, reason, desc, tt.reason, tt.reasonDesc)
		}
	}
}

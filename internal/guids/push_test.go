package guids

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	testToken = "push-T0ken-7f3a9c"
	guidA     = "279fe21d-2caa-4437-84c3-ab9e9dae20f5.AgentGateway0"
	guidB     = "8d1c0e52-7a43-4f6e-9b1d-2f0c6a9e4b77.AgentGateway1"
)

func newTestStore(now time.Time) (*Store, map[string]*Cell) {
	store := NewStore(func() time.Time { return now })
	cells := map[string]*Cell{"1001": {}, "1002": {}, "1003": {}}
	backup := map[string]*Cell{"2001": {}}
	store.Configure(map[string]Cells{
		"main":   func(id string) *Cell { return cells[id] },
		"backup": func(id string) *Cell { return backup[id] },
	})
	return store, cells
}

// TestPushAnswers: each answer of the push API, and what it leaves in the
// store.
func TestPushAnswers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		method   string
		auth     string
		token    string // in TokenHeader
		body     string
		status   int
		want     string // part of the answer
		accepted map[string]string
	}{
		{name: "no token", method: http.MethodPut, body: `{"gateway":"main","guids":{"1001":"` + guidA + `"}}`,
			status: http.StatusUnauthorized, want: "bearer token"},
		{name: "wrong token", method: http.MethodPut, auth: "Bearer " + testToken + "x", body: `{"gateway":"main","guids":{"1001":"` + guidA + `"}}`,
			status: http.StatusUnauthorized, want: "bearer token"},
		{name: "token as basic auth", method: http.MethodPut, auth: "Basic " + testToken, body: `{"gateway":"main","guids":{"1001":"` + guidA + `"}}`,
			status: http.StatusUnauthorized},
		{name: "token header", method: http.MethodPut, auth: "Basic cHJvbWV0aGV1czpwdw==", token: testToken,
			body:   `{"gateway":"main","guids":{"1001":"` + guidA + `"}}`,
			status: http.StatusOK, want: `{"accepted":1,"rejected":{}}`,
			accepted: map[string]string{"1001": guidA}},
		{name: "wrong token header", method: http.MethodPut, auth: "Bearer " + testToken, token: "wrong",
			body:   `{"gateway":"main","guids":{"1001":"` + guidA + `"}}`,
			status: http.StatusUnauthorized},
		{name: "wrong method", method: http.MethodPost, auth: "Bearer " + testToken, body: `{"gateway":"main","guids":{"1001":"` + guidA + `"}}`,
			status: http.StatusMethodNotAllowed, want: "PUT"},
		{name: "unknown gateway", method: http.MethodPut, auth: "Bearer " + testToken, body: `{"gateway":"nowhere","guids":{"1001":"` + guidA + `"}}`,
			status: http.StatusNotFound, want: "unknown gateway: nowhere"},
		{name: "malformed JSON", method: http.MethodPut, auth: "Bearer " + testToken, body: `{"gateway":"main","guids":{"1001":"` + guidA + `"`,
			status: http.StatusBadRequest, want: "not valid JSON"},
		{name: "not JSON", method: http.MethodPut, auth: "Bearer " + testToken, body: `gateway=main&1001=` + guidA,
			status: http.StatusBadRequest, want: "not valid JSON (error at byte 1)"},
		{name: "Guid not a string", method: http.MethodPut, auth: "Bearer " + testToken, body: `{"gateway":"main","guids":{"1001":5}}`,
			status: http.StatusBadRequest, want: `"guids" must map agent ids to Guid strings, not to a number`},
		{name: "guids a list", method: http.MethodPut, auth: "Bearer " + testToken, body: `{"gateway":"main","guids":["` + guidA + `"]}`,
			status: http.StatusBadRequest, want: `"guids" must be an object, not array`},
		{name: "unknown field", method: http.MethodPut, auth: "Bearer " + testToken, body: `{"gateway":"main","1001":"` + guidA + `"}`,
			status: http.StatusBadRequest, want: "unknown field"},
		{name: "no gateway", method: http.MethodPut, auth: "Bearer " + testToken, body: `{"guids":{"1001":"` + guidA + `"}}`,
			status: http.StatusBadRequest, want: `no "gateway"`},
		{name: "no guids", method: http.MethodPut, auth: "Bearer " + testToken, body: `{"gateway":"main"}`,
			status: http.StatusBadRequest, want: `no "guids"`},
		{name: "trailing data", method: http.MethodPut, auth: "Bearer " + testToken, body: `{"gateway":"main","guids":{}} {}`,
			status: http.StatusBadRequest, want: "trailing data"},
		{name: "empty body", method: http.MethodPut, auth: "Bearer " + testToken,
			status: http.StatusBadRequest, want: "body is empty"},
		{name: "oversized body", method: http.MethodPut, auth: "Bearer " + testToken,
			body:   `{"gateway":"main","guids":{"1001":"` + strings.Repeat("a", MaxPushBodyBytes) + `"}}`,
			status: http.StatusRequestEntityTooLarge, want: "larger than 1048576 bytes"},
		{name: "success", method: http.MethodPut, auth: "Bearer " + testToken,
			body:   `{"gateway":"main","guids":{"1001":"` + guidA + `","1002":"` + guidB + `"}}`,
			status: http.StatusOK, want: `{"accepted":2,"rejected":{}}`,
			accepted: map[string]string{"1001": guidA, "1002": guidB}},
		{name: "lower-case scheme", method: http.MethodPut, auth: "bearer " + testToken,
			body:   `{"gateway":"main","guids":{"1002":"` + guidB + `"}}`,
			status: http.StatusOK, want: `{"accepted":1,"rejected":{}}`,
			accepted: map[string]string{"1002": guidB}},
		{name: "partial rejection", method: http.MethodPut, auth: "Bearer " + testToken,
			body:   `{"gateway":"main","guids":{"1001":"` + guidA + `","2001":"` + guidB + `","1002":"","1003":"has space","` + guidB + `":"1001"}}`,
			status: http.StatusOK,
			want: `{"accepted":1,"rejected":{"1002":"empty Guid","1003":"Guid has characters other than printable ASCII",` +
				`"2001":"agent is not configured for this gateway","8d1c0e5...":"agent is not configured for this gateway"}}`,
			accepted: map[string]string{"1001": guidA}},
		{name: "oversized Guid", method: http.MethodPut, auth: "Bearer " + testToken,
			body:   `{"gateway":"main","guids":{"1001":"` + strings.Repeat("g", MaxGUIDBytes+1) + `"}}`,
			status: http.StatusOK, want: `{"accepted":0,"rejected":{"1001":"Guid longer than 256 bytes"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, cells := newTestStore(time.Unix(1_700_000_000, 0))
			handler := NewPushHandler(store, StaticToken(testToken), nil)
			req := httptest.NewRequest(tc.method, PushPath, strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.token != "" {
				req.Header.Set(TokenHeader, tc.token)
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("answer %q does not contain %q", rec.Body, tc.want)
			}
			if tc.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != http.MethodPut {
				t.Errorf("Allow header %q", rec.Header().Get("Allow"))
			}
			for _, secret := range []string{guidA, guidB, testToken} {
				if strings.Contains(rec.Body.String(), secret) {
					t.Errorf("answer echoes a secret: %s", rec.Body)
				}
			}
			for id, cell := range cells {
				got, _, _ := cell.Get()
				if got != tc.accepted[id] {
					t.Errorf("agent %s holds %q, want %q", id, got, tc.accepted[id])
				}
			}
			if tc.status == http.StatusOK {
				var answer PushAnswer
				if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
					t.Fatal(err)
				}
				updates := map[string]float64{}
				for _, u := range store.Updates("main") {
					updates[string(u.Source)+" "+u.Result] = u.Count
				}
				if updates["push accepted"] != float64(answer.Accepted) || updates["push rejected"] != float64(len(answer.Rejected)) {
					t.Errorf("update counts %v for answer %+v", updates, answer)
				}
			}
		})
	}
}

// TestNewestGuidWins: a value older than the current one is ignored,
// whatever its source; a newer one or the same time replaces it.
func TestNewestGuidWins(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	var c Cell
	steps := []struct {
		guid   string
		source Source
		at     time.Time
		taken  bool
	}{
		{"inline-guid", SourceInline, t0, true},
		{"pushed-guid", SourcePush, t0.Add(10 * time.Second), true},
		{"stale-file-guid", SourceFile, t0.Add(5 * time.Second), false},
		{"fresh-file-guid", SourceFile, t0.Add(20 * time.Second), true},
		{"header-guid", SourceHeader, t0.Add(20 * time.Second), true},
	}
	for _, step := range steps {
		if taken := c.Offer(step.guid, step.source, step.at); taken != step.taken {
			t.Errorf("%s from %s at +%v: taken %v, want %v", step.guid, step.source, step.at.Sub(t0), taken, step.taken)
		}
	}
	if got, at, _ := c.Get(); got != "header-guid" || !at.Equal(t0.Add(20*time.Second)) {
		t.Errorf("current %q at %v", got, at)
	}
	c.Withdraw(SourceFile)
	if _, _, ok := c.Get(); !ok {
		t.Error("withdrawing another source's Guid removed the current one")
	}
	c.Withdraw(SourceHeader)
	if _, _, ok := c.Get(); ok {
		t.Error("Guid still there after its source withdrew it")
	}
	if !c.Offer("old-but-only", SourceDir, t0) {
		t.Error("an empty cell refused a Guid")
	}
}

// TestFileTokenRotation: the token file is re-read when it changes, and a
// file that stops yielding a token refuses every push.
func TestFileTokenRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "push.token")
	write := func(content string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	write(" first-token\n", old)
	tokens, err := NewFileToken(path)
	if err != nil {
		t.Fatal(err)
	}
	store, _ := newTestStore(time.Now())
	handler := NewPushHandler(store, tokens, nil)
	push := func(token string) int {
		req := httptest.NewRequest(http.MethodPut, PushPath, bytes.NewBufferString(`{"gateway":"main","guids":{"1001":"`+guidA+`"}}`))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := push("first-token"); code != http.StatusOK {
		t.Fatalf("first token: %d", code)
	}
	write("other-token", old.Add(time.Minute)) // same size as before
	if code := push("first-token"); code != http.StatusUnauthorized {
		t.Errorf("old token after rotation: %d", code)
	}
	if code := push("other-token"); code != http.StatusOK {
		t.Errorf("new token after rotation: %d", code)
	}
	write("\n", old.Add(2*time.Minute))
	if code := push("other-token"); code != http.StatusUnauthorized {
		t.Errorf("empty token file: %d", code)
	}
	if code := push(""); code != http.StatusUnauthorized {
		t.Errorf("empty token file, empty bearer: %d", code)
	}
	if _, err := NewFileToken(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing token file was accepted at start")
	}
}

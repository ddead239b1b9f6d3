package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testGUID = "0b5e7c1d-secret-guid.AgentGateway1"

func TestQueryCallInfoRequest(t *testing.T) {
	var got *http.Request
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		_, _ = w.Write([]byte(`{"retcode":"0","result":{"callid":"1-1"}}`))
	}))
	defer server.Close()
	base, _ := url.Parse(server.URL + "/")
	answer, err := NewClient(base, server.Client()).QueryCallInfo(context.Background(), "1001", testGUID, true)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "callid", answer.Call.CallID, Text("1-1"))
	expect(t, "method", got.Method, http.MethodGet)
	expect(t, "path", got.URL.Path, "/agentgateway/resource/calldata/1001/callinfo")
	expect(t, "query", got.URL.RawQuery, "isNoContainLastCall=true")
	expect(t, "Guid header", got.Header.Get("Guid"), testGUID)
	expect(t, "Content-Type", got.Header.Get("Content-Type"), "application/json; charset=UTF-8")
}

func TestQueryCallInfoFailures(t *testing.T) {
	tests := []struct {
		name        string
		handler     http.HandlerFunc
		timeout     time.Duration
		wantReason  Reason
		wantRetcode string
	}{
		{
			name:       "retcode",
			handler:    respond(http.StatusOK, `{"retcode":"100-006","message":"agent not login","result":""}`),
			wantReason: ReasonRetcode, wantRetcode: "100-006",
		},
		{
			name:       "retcode on an error status",
			handler:    respond(http.StatusInternalServerError, `{"retcode":"100-007","message":"internal"}`),
			wantReason: ReasonRetcode, wantRetcode: "100-007",
		},
		{name: "HTML error page", handler: respond(http.StatusBadGateway, "<html>502 Bad Gateway</html>"), wantReason: ReasonHTTP},
		{name: "404 from another server", handler: respond(http.StatusNotFound, "not found"), wantReason: ReasonHTTP},
		{name: "success envelope with an error status", handler: respond(http.StatusServiceUnavailable, `{"retcode":"0"}`), wantReason: ReasonHTTP},
		{name: "HTML with status 200", handler: respond(http.StatusOK, "<html>login</html>"), wantReason: ReasonDecode},
		{name: "truncated JSON", handler: respond(http.StatusOK, `{"retcode":"0","result":{"call`), wantReason: ReasonDecode},
		{name: "body too large", handler: respond(http.StatusOK, `{"retcode":"0","message":"`+strings.Repeat("x", DefaultMaxBodyBytes)+`"}`), wantReason: ReasonDecode},
		{
			name: "slow answer", timeout: 50 * time.Millisecond, wantReason: ReasonTimeout,
			handler: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
		},
		{
			name: "connection reset", wantReason: ReasonTransport,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					_ = conn.Close()
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := httptest.NewServer(tt.handler)
			defer server.Close()
			err := queryError(t, server.URL, server.Client(), tt.timeout)
			expect(t, "reason", err.Reason, tt.wantReason)
			expect(t, "retcode", err.Retcode, tt.wantRetcode)
			if strings.Contains(err.Error(), testGUID) {
				t.Errorf("error text contains the Guid: %v", err)
			}
		})
	}
}

func TestQueryCallInfoConnectionRefused(t *testing.T) {
	server := httptest.NewServer(http.NotFoundHandler())
	addr := server.URL
	server.Close()
	expect(t, "reason", queryError(t, addr, http.DefaultClient, 0).Reason, ReasonTransport)
}

func queryError(t *testing.T, rawURL string, client *http.Client, timeout time.Duration) *QueryError {
	t.Helper()
	base, _ := url.Parse(rawURL)
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	_, err := NewClient(base, client).QueryCallInfo(ctx, "1001", testGUID, false)
	var queryErr *QueryError
	if !errors.As(err, &queryErr) {
		t.Fatalf("error %v (%T) is not a *QueryError", err, err)
	}
	return queryErr
}

func respond(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

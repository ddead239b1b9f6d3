package httpcall

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.Method+"|"+r.Header.Get("Guid")+"|"+string(body))
		if r.URL.Query().Get("status") == "503" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = io.WriteString(w, "answer body")
	}))
	defer srv.Close()

	tests := []struct {
		name      string
		req       Request
		header    func(http.Header)
		seen      string
		body      string
		status    int
		statusErr string
	}{
		{name: "GET without body or header", req: Request{URL: srv.URL}, seen: "GET||", body: "answer body", status: 200},
		{
			name:   "PUT with body and header",
			req:    Request{Method: http.MethodPut, URL: srv.URL, Body: []byte(`{"a":1}`)},
			header: func(h http.Header) { h.Set("Guid", "g-1") },
			seen:   `PUT|g-1|{"a":1}`, body: "answer body", status: 200,
		},
		{name: "limit", req: Request{URL: srv.URL, Limit: 6}, seen: "GET||", body: "answer", status: 200},
		{
			name: "error status", req: Request{URL: srv.URL + "?status=503"}, seen: "GET||", body: "answer body", status: 503,
			statusErr: "HTTP status 503: answer body",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, err := Do(context.Background(), srv.Client(), tt.req, tt.header)
			if err != nil {
				t.Fatal(err)
			}
			if got := ans.Header.Get("X-Seen"); got != tt.seen {
				t.Errorf("server saw %q, want %q", got, tt.seen)
			}
			if string(ans.Body) != tt.body || ans.StatusCode != tt.status {
				t.Errorf("got %d %q, want %d %q", ans.StatusCode, ans.Body, tt.status, tt.body)
			}
			gotErr := ""
			if err := ans.StatusError(); err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.statusErr {
				t.Errorf("StatusError() = %q, want %q", gotErr, tt.statusErr)
			}
		})
	}
}

func TestDoTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	ans, err := Do(context.Background(), http.DefaultClient, Request{URL: url}, nil)
	if err == nil || ans.StatusCode != 0 {
		t.Fatalf("got %d, %v; want a transport error and no status", ans.StatusCode, err)
	}
	if _, err := Do(context.Background(), http.DefaultClient, Request{URL: "http://127.0.0.1:1/\x7f"}, nil); err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Errorf("bad URL: got %v, want an invalid URL error", err)
	}
}

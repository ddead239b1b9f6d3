package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// clients are the two ways a Client sends: through http.Client.Do, and
// with NoRedirects straight to the transport of a client that follows no
// redirects. They must be alike in everything the gateway and the caller
// see.
func clients(base *url.URL) map[string]*Client {
	noFollow := &http.Client{
		Transport:     &http.Transport{},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return map[string]*Client{
		"Do":          NewClient(base, noFollow),
		"NoRedirects": NewClient(base, noFollow, NoRedirects()),
	}
}

func TestRequestAddress(t *testing.T) {
	var got *http.Request
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		_, _ = w.Write([]byte(`{"retcode":"0","result":{}}`))
	}))
	defer server.Close()
	tests := []struct {
		base, agentID, want string
	}{
		{"", "1001", "/agentgateway/resource/calldata/1001/callinfo?isNoContainLastCall=false"},
		{"/", "1001", "/agentgateway/resource/calldata/1001/callinfo?isNoContainLastCall=false"},
		{"/cc/gw//?x=1#top", "1001", "/cc/gw/agentgateway/resource/calldata/1001/callinfo?isNoContainLastCall=false"},
		{"/cc%2Fgw/", "1001", "/cc%2Fgw/agentgateway/resource/calldata/1001/callinfo?isNoContainLastCall=false"},
		{"/cc/", "10 01/x", "/cc/agentgateway/resource/calldata/10%2001%2Fx/callinfo?isNoContainLastCall=false"},
	}
	for _, tt := range tests {
		base, err := url.Parse(server.URL + tt.base)
		if err != nil {
			t.Fatal(err)
		}
		for name, c := range clients(base) {
			got = nil
			if _, err := c.QueryCallInfo(context.Background(), tt.agentID, testGUID, false); err != nil {
				t.Fatalf("%s %q: %v", name, tt.base, err)
			}
			if got == nil || got.RequestURI != tt.want {
				t.Errorf("%s with base %q, agent %q: asked for %v, want %s", name, tt.base, tt.agentID, got, tt.want)
			}
		}
	}
}

// A client that follows no redirects hands a redirect back as the answer,
// and names a failure with the method and address, whichever way it sends.
func TestNoRedirectsAnswersAsDo(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login", http.StatusFound)
	}))
	base, _ := url.Parse(server.URL)
	for name, c := range clients(base) {
		_, err := c.QueryCallInfo(context.Background(), "1001", testGUID, true)
		var queryErr *QueryError
		if !errors.As(err, &queryErr) || queryErr.Reason != ReasonHTTP || !strings.Contains(err.Error(), "302") {
			t.Errorf("%s: redirect gave %v, want an http failure naming status 302", name, err)
		}
	}
	server.Close()
	for name, c := range clients(base) {
		_, err := c.QueryCallInfo(context.Background(), "1001", testGUID, true)
		want := `Get "` + server.URL + `/agentgateway/resource/calldata/1001/callinfo?isNoContainLastCall=true": `
		var queryErr *QueryError
		if !errors.As(err, &queryErr) || queryErr.Reason != ReasonTransport || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: a closed server gave %v, want a transport failure naming %s", name, err, want)
		}
	}
}

// NoRedirects does not apply where http.Client would do more than pass the
// request on: with a cookie jar or a timeout of its own.
func TestNoRedirectsKeepsDoWhereItMatters(t *testing.T) {
	base, _ := url.Parse("http://127.0.0.1:1")
	for _, tt := range []struct {
		client *http.Client
		direct bool
	}{
		{&http.Client{Transport: &http.Transport{}}, true},
		{&http.Client{Transport: &http.Transport{}, Timeout: time.Minute}, false},
		{&http.Client{Transport: &http.Transport{}, Jar: cookieJar{}}, false},
		{&http.Client{}, false},
	} {
		c := NewClient(base, tt.client, NoRedirects())
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
		req.RequestURI = "/" // http.Client.Do refuses a server's request; a transport does not look
		_, err := c.send(req)
		if refused := err != nil && strings.Contains(err.Error(), "RequestURI"); refused == tt.direct {
			t.Errorf("client with timeout %v, jar %v: sending gave %v; want straight to the transport: %v",
				tt.client.Timeout, tt.client.Jar, err, tt.direct)
		}
	}
}

type cookieJar struct{}

func (cookieJar) SetCookies(*url.URL, []*http.Cookie) {}
func (cookieJar) Cookies(*url.URL) []*http.Cookie     { return nil }

// cannedTransport answers every request with the same call information,
// so that BenchmarkQuery measures the client and not a server.
type cannedTransport struct{ body []byte }

func (t cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(t.body)), Request: req}, nil
}

// BenchmarkQuery is one callinfo query without the network, sent through
// http.Client.Do and with NoRedirects: the allocations are what each leaves
// to the garbage collector per query, ten thousand times a scrape.
func BenchmarkQuery(b *testing.B) {
	body := []byte(`{"retcode":"0","message":"","result":{"callfeature":0,"callid":"1700000000-4711","callskill":"voice","callskillid":1,"begintime":1700000000000,"mediaType":5}}`)
	base, _ := url.Parse("https://gateway.example:8043/")
	hc := &http.Client{Transport: cannedTransport{body}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for name, c := range map[string]*Client{"Do": NewClient(base, hc), "NoRedirects": NewClient(base, hc, NoRedirects())} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.QueryCallInfo(context.Background(), "1001", testGUID, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

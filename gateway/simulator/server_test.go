package simulator

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func startTestServer(t *testing.T, opts Options) (*Server, *ManualClock) {
	t.Helper()
	clock := NewManualClock(testStart)
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	srv, err := Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, clock
}

func newTestClient(t *testing.T, transport *http.Transport) *http.Client {
	t.Helper()
	if transport == nil {
		transport = &http.Transport{}
	}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Transport: transport}
}

func newCallInfoRequest(ctx context.Context, t *testing.T, srv *Server, agentID string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+callInfoPath(agentID, true), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	if _, known := srv.agents[agentID]; known {
		req.Header.Set("Guid", srv.Guid(agentID))
	}
	return req
}

// fetch returns the answer, or the error of the request or of reading the body.
func fetch(ctx context.Context, t *testing.T, client *http.Client, srv *Server, agentID string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := client.Do(newCallInfoRequest(ctx, t, srv, agentID))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// waitFor polls, because the server side of a request has no event a test could wait on; its
// deadline leaves room for a loaded machine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestFaultAnswers(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, resp *http.Response, body []byte, err error, normal []byte)
	}{
		{
			name: "HTTP status with an HTML page", fault: Fault{Kind: FaultHTTPStatus, HTTPStatus: http.StatusServiceUnavailable},
			check: func(t *testing.T, resp *http.Response, body []byte, err error, _ []byte) {
				if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
					t.Fatalf("got %v, %v; want HTTP 503", resp, err)
				}
				if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("<html")) {
					t.Errorf("not an HTML page: %s", body)
				}
			},
		},
		{
			name: "HTTP status defaults to 502", fault: Fault{Kind: FaultHTTPStatus},
			check: func(t *testing.T, resp *http.Response, _ []byte, err error, _ []byte) {
				if err != nil || resp.StatusCode != http.StatusBadGateway {
					t.Fatalf("got %v, %v; want HTTP 502", resp, err)
				}
			},
		},
		{
			name: "garbage", fault: Fault{Kind: FaultGarbage},
			check: func(t *testing.T, resp *http.Response, body []byte, err error, _ []byte) {
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("got %v, %v; want HTTP 200", resp, err)
				}
				if json.Valid(body) || len(body) == 0 {
					t.Errorf("body %q is valid JSON or empty", body)
				}
			},
		},
		{
			name: "truncated", fault: Fault{Kind: FaultTruncated},
			check: func(t *testing.T, resp *http.Response, body []byte, err error, normal []byte) {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("reading the body: %v, want unexpected EOF", err)
				}
				if resp.ContentLength != int64(len(normal)) || len(body) == 0 || len(body) >= len(normal) || !bytes.HasPrefix(normal, body) {
					t.Errorf("announced %d bytes, got %q; want a strict prefix of %s", resp.ContentLength, body, normal)
				}
			},
		},
		{
			name: "reset", fault: Fault{Kind: FaultReset},
			check: func(t *testing.T, resp *http.Response, _ []byte, err error, _ []byte) {
				if resp != nil || !errors.Is(err, syscall.ECONNRESET) {
					t.Fatalf("got %v, %v; want a connection reset", resp, err)
				}
			},
		},
		{
			name: "huge body", fault: Fault{Kind: FaultHugeBody, Size: 1 << 20},
			check: func(t *testing.T, resp *http.Response, body []byte, err error, _ []byte) {
				if err != nil || len(body) != 1<<20 || !json.Valid(body) {
					t.Fatalf("got %d bytes (valid JSON %v), %v; want 1 MiB of JSON", len(body), json.Valid(body), err)
				}
			},
		},
		{
			name: "huge body smaller than an envelope", fault: Fault{Kind: FaultHugeBody, Size: 10},
			check: func(t *testing.T, _ *http.Response, body []byte, err error, _ []byte) {
				if err != nil || len(body) != 10 {
					t.Fatalf("got %q, %v; want 10 bytes", body, err)
				}
			},
		},
		{
			name: "delay only", fault: Fault{Delay: 20 * time.Millisecond},
			check: func(t *testing.T, resp *http.Response, body []byte, err error, normal []byte) {
				if err != nil || !bytes.Equal(body, normal) {
					t.Fatalf("got %s, %v; want the normal answer", body, err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := startTestServer(t, Options{Agents: 2})
			client := newTestClient(t, nil)
			_, normal, err := fetch(t.Context(), t, client, srv, "1001")
			if err != nil {
				t.Fatal(err)
			}
			srv.SetFault("1001", tc.fault)
			started := time.Now()
			resp, body, err := fetch(t.Context(), t, client, srv, "1001")
			if elapsed := time.Since(started); elapsed < tc.fault.Delay {
				t.Errorf("answered after %s, before the delay of %s", elapsed, tc.fault.Delay)
			}
			tc.check(t, resp, body, err, normal)
			if _, other, err := fetch(t.Context(), t, client, srv, "1002"); err != nil || !json.Valid(other) {
				t.Errorf("the fault of 1001 hit 1002: %s, %v", other, err)
			}
			srv.SetFault("1001", Fault{})
			if _, body, err := fetch(t.Context(), t, client, srv, "1001"); err != nil || !bytes.Equal(body, normal) {
				t.Errorf("after clearing the fault: %s, %v", body, err)
			}
		})
	}
}

func TestFaultCountLimitsTheFault(t *testing.T) {
	srv, _ := startTestServer(t, Options{Agents: 1})
	client := newTestClient(t, nil)
	srv.SetFault("1001", Fault{Kind: FaultHTTPStatus, Count: 2})
	var statuses []int
	for range 4 {
		resp, _, err := fetch(t.Context(), t, client, srv, "1001")
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, resp.StatusCode)
	}
	if want := []int{502, 502, 200, 200}; !equalInts(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHangEndsWhenTheClientCancels(t *testing.T) {
	srv, _ := startTestServer(t, Options{Agents: 1})
	client := newTestClient(t, nil)
	srv.SetFault("1001", Fault{Kind: FaultHang})

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, _, err := fetch(ctx, t, client, srv, "1001")
		done <- err
	}()
	waitFor(t, "the request to reach the server", func() bool { return srv.Stats().InFlight == 1 })
	select {
	case err := <-done:
		t.Fatalf("a hanging request returned: %v", err)
	default:
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request did not return after cancellation")
	}
	waitFor(t, "the server to let go of the request", func() bool { return srv.Stats().InFlight == 0 })
}

func TestLatencyEndsWhenTheClientCancels(t *testing.T) {
	srv, _ := startTestServer(t, Options{Agents: 1, Latency: time.Hour})
	client := newTestClient(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, _, err := fetch(ctx, t, client, srv, "1001")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the client's deadline", err)
	}
	if elapsed := time.Since(started); elapsed > 5*time.Second {
		t.Errorf("took %s", elapsed)
	}
	waitFor(t, "the server to let go of the request", func() bool { return srv.Stats().InFlight == 0 })
}

func TestLatencyDelaysEveryAnswer(t *testing.T) {
	const latency = 30 * time.Millisecond
	srv, _ := startTestServer(t, Options{Agents: 1, Latency: latency})
	client := newTestClient(t, nil)
	for _, agentID := range []string{"1001", "abc", "5000"} {
		started := time.Now()
		if _, _, err := fetch(t.Context(), t, client, srv, agentID); err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(started); elapsed < latency {
			t.Errorf("agent %s answered after %s, latency is %s", agentID, elapsed, latency)
		}
	}
}

func TestCloseAbortsHangingRequests(t *testing.T) {
	clock := NewManualClock(testStart)
	srv, err := Start("127.0.0.1:0", Options{Agents: 1, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client := newTestClient(t, nil)
	srv.SetFault("1001", Fault{Kind: FaultHang})
	done := make(chan error, 1)
	go func() {
		_, _, err := fetch(t.Context(), t, client, srv, "1001")
		done <- err
	}()
	waitFor(t, "the request to reach the server", func() bool { return srv.Stats().InFlight == 1 })
	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a hanging request")
	}
	if err := <-done; err == nil {
		t.Error("the hanging request got an answer from a closing server")
	}
}

func TestStatsSeeConcurrentRequests(t *testing.T) {
	const concurrent = 8
	srv, _ := startTestServer(t, Options{Agents: concurrent})
	client := newTestClient(t, &http.Transport{MaxConnsPerHost: concurrent})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for _, id := range srv.AgentIDs() {
		srv.SetFault(id, Fault{Kind: FaultHang})
		wg.Go(func() { _, _, _ = fetch(ctx, t, client, srv, id) })
	}
	waitFor(t, "all requests to be in flight", func() bool { return srv.Stats().InFlight == concurrent })
	cancel()
	wg.Wait()
	waitFor(t, "the requests to finish", func() bool { return srv.Stats().InFlight == 0 })
	st := srv.Stats()
	if st.MaxInFlight != concurrent {
		t.Errorf("MaxInFlight %d, want %d", st.MaxInFlight, concurrent)
	}
	for _, id := range srv.AgentIDs() {
		if st.RequestsByAgent[id] != 1 {
			t.Errorf("agent %s: %d requests, want 1", id, st.RequestsByAgent[id])
		}
	}
}

func TestConnectionsOpenedShowsKeepAlive(t *testing.T) {
	tests := []struct {
		name      string
		transport *http.Transport
		want      int64
	}{
		{"keep-alive", &http.Transport{}, 1},
		{"no keep-alive", &http.Transport{DisableKeepAlives: true}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := startTestServer(t, Options{Agents: 1})
			client := newTestClient(t, tc.transport)
			for range 5 {
				if _, _, err := fetch(t.Context(), t, client, srv, "1001"); err != nil {
					t.Fatal(err)
				}
			}
			if got := srv.ConnectionsOpened(); got != tc.want {
				t.Errorf("%d connections for 5 sequential requests, want %d", got, tc.want)
			}
		})
	}
}

func TestStartTLS(t *testing.T) {
	srv, err := StartTLS("127.0.0.1:0", Options{Agents: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %s", srv.URL())
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(srv.CACertPEM()) {
		t.Fatalf("CACertPEM is not a PEM certificate: %s", srv.CACertPEM())
	}
	trusting := newTestClient(t, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	resp, body, err := fetch(t.Context(), t, trusting, srv, "1001")
	if err != nil || resp.StatusCode != http.StatusOK || !json.Valid(body) {
		t.Fatalf("with the CA: %v, %s, %v", resp, body, err)
	}
	if resp.ProtoMajor != 1 {
		t.Errorf("protocol %s, want HTTP/1.1 like the gateway", resp.Proto)
	}
	srv.SetFault("1001", Fault{Kind: FaultReset})
	if _, _, err := fetch(t.Context(), t, trusting, srv, "1001"); err == nil {
		t.Error("reset over TLS answered")
	}
	srv.SetFault("1001", Fault{})

	untrusting := newTestClient(t, nil)
	var unknownAuthority x509.UnknownAuthorityError
	if _, _, err := fetch(t.Context(), t, untrusting, srv, "1001"); !errors.As(err, &unknownAuthority) {
		t.Errorf("without the CA: %v, want an unknown authority error", err)
	}

	plain, _ := startTestServer(t, Options{Agents: 1})
	if plain.CACertPEM() != nil {
		t.Error("a plain HTTP server has a CA certificate")
	}
}

func TestConfigYAML(t *testing.T) {
	srv, _ := startTestServer(t, Options{Agents: 3, FirstAgentID: 2001, Seed: 5})
	rotated := srv.RotateGuid("2002")
	for _, includeLastCall := range []bool{true, false} {
		out := srv.ConfigYAML(includeLastCall)
		var got configFile
		dec := yaml.NewDecoder(bytes.NewReader(out))
		dec.KnownFields(true)
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("%v in\n%s", err, out)
		}
		want := configFile{Gateways: []configGateway{{
			Name: "sim", URL: srv.URL(), Timeout: "5s", Concurrency: 16, IncludeLastCall: includeLastCall,
			Agents: []configAgent{{"2001", Guid(5, "2001")}, {"2002", rotated}, {"2003", Guid(5, "2003")}},
		}}}
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("config\n got %s\nwant %s", gotJSON, wantJSON)
		}
		// Agent ids are strings in the exporter's schema; unquoted they would be read as numbers.
		if !bytes.Contains(out, []byte(`id: "2001"`)) {
			t.Errorf("agent id not quoted:\n%s", out)
		}
		if !bytes.HasPrefix(out, []byte("gateways:\n  - name: sim\n")) {
			t.Errorf("unexpected layout:\n%s", out)
		}
	}
}

func TestReachableAddress(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8043}, "127.0.0.1:8043"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8043}, "127.0.0.1:8043"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8043}, "[::1]:8043"},
		{&net.TCPAddr{Port: 8043}, "127.0.0.1:8043"},
		{&net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 1}, "10.1.2.3:1"},
	}
	for _, tc := range tests {
		if got := reachableAddress(tc.addr); got != tc.want {
			t.Errorf("reachableAddress(%v) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

package collector_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/internal/loopback"

	"github.com/agentgateway/agentgateway_exporter/internal/syncbuf"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/agentgateway/agentgateway_exporter/collector"
	"github.com/agentgateway/agentgateway_exporter/gateway"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// The fault-injection suite: every way a gateway has been seen or is
// expected to fail, one row each. For every row the exporter scrapes two
// gateways, "steady" (healthy) and "faulty", and the test checks that
//   - the affected agents report the right reason, once in the logs;
//   - the scrape answers before Prometheus' deadline;
//   - every other agent, of either gateway, is unaffected;
//   - no request keeps running at the gateway, the keep-alive pool stays
//     bounded by `concurrency`, and once the exporter lets go of the
//     gateways no connection and no goroutine is left behind;
//   - where the fault can be cleared, the next scrape recovers without
//     resetting or double-counting the error counter.
// Everything the exporter emits during the suite, at debug level, is then
// searched for the Guids and the gateways' basic-auth password.

const (
	// victim is the agent of the faulty gateway that a per-agent fault hits.
	victim = "2002"
	// gatewayPassword is the gateways' basic-auth password, a secret.
	gatewayPassword = "gw-Basic-Auth-pa55word-7f3c"
	// Prometheus' scrape timeout, and the offset the exporter keeps back:
	// the exporter's budget is 2 s, Prometheus gives up after 4 s.
	promTimeout  = 4 * time.Second
	scrapeOffset = 2 * time.Second
	// The gateways' concurrency settings, which bound their connections.
	steadyConcurrency = 2
	faultyConcurrency = 4
)

var (
	steadyAgents = agentIDs(1001, 3)
	faultyAgents = agentIDs(2001, 3)
)

// faultyGateway is a gateway set up to fail.
type faultyGateway struct {
	url       string
	tlsConfig string      // tls_config as a YAML flow mapping, or ""
	conns     connCounter // connections at the gateway; nil when nothing listens
	server    *testServer // the HTTP server, when there is one
	victims   []string    // the agents that fail
	clear     func()      // ends the fault, for the recovery check; nil when it cannot
}

type faultCase struct {
	name    string
	gateway func(t *testing.T) faultyGateway
	timeout time.Duration  // the faulty gateway's timeout setting; default 1 s
	reason  gateway.Reason // the victims' reason; "" = they are up
	retcode string
	check   func(t *testing.T, g faultyGateway)
}

func TestGatewayFaults(t *testing.T) {
	emitted := &syncbuf.Buffer{}
	cases := []faultCase{
		{name: "hang forever", gateway: simFault(simulator.Fault{Kind: simulator.FaultHang}), reason: gateway.ReasonTimeout},
		{name: "slow answer past the scrape deadline", gateway: simFault(simulator.Fault{Delay: time.Minute}),
			timeout: time.Minute, reason: gateway.ReasonTimeout},
		{name: "slow answer within the timeout", gateway: simFault(simulator.Fault{Delay: 300 * time.Millisecond})},
		{name: "connection refused", gateway: refused, reason: gateway.ReasonTransport},
		{name: "accepts the connection, never answers", gateway: blackHoleGateway, reason: gateway.ReasonTimeout},
		{name: "reset before answering", gateway: simFault(simulator.Fault{Kind: simulator.FaultReset}), reason: gateway.ReasonTransport},
		{name: "reset mid-body", gateway: victimAnswers(resetMidBody), reason: gateway.ReasonTransport},
		{name: "HTTP 500 with an HTML page", gateway: simFault(simulator.Fault{Kind: simulator.FaultHTTPStatus, HTTPStatus: 500}), reason: gateway.ReasonHTTP},
		{name: "HTTP 502 with an HTML page", gateway: simFault(simulator.Fault{Kind: simulator.FaultHTTPStatus, HTTPStatus: 502}), reason: gateway.ReasonHTTP},
		{name: "HTTP 503 with an HTML page", gateway: simFault(simulator.Fault{Kind: simulator.FaultHTTPStatus, HTTPStatus: 503}), reason: gateway.ReasonHTTP},
		{name: "body shorter than its Content-Length", gateway: simFault(simulator.Fault{Kind: simulator.FaultTruncated}), reason: gateway.ReasonTransport},
		{name: "truncated JSON", gateway: victimAnswers(respond(`{"message":"","retcode":"0","result":{"callid":"1700000000-7","begin`)), reason: gateway.ReasonDecode},
		{name: "not JSON", gateway: simFault(simulator.Fault{Kind: simulator.FaultGarbage}), reason: gateway.ReasonDecode},
		{name: "50 MB body", gateway: simFault(simulator.Fault{Kind: simulator.FaultHugeBody, Size: 50 << 20}), reason: gateway.ReasonDecode,
			check: cutShort(50<<20, 16<<20)},
		{name: "wrong shape: a JSON array", gateway: victimAnswers(respond(`[{"retcode":"0","result":{"callid":"1-1"}}]`)), reason: gateway.ReasonDecode},
		{name: "wrong shape: no retcode", gateway: victimAnswers(respond(`{"code":0,"data":{"callid":"1-1"}}`)), reason: gateway.ReasonDecode},
		{name: "wrong shape: two calls", gateway: victimAnswers(respond(`{"retcode":"0","result":[{"callid":"1-1"},{"callid":"1-2"}]}`)), reason: gateway.ReasonDecode},
		{name: "gateway error code", gateway: simRetcode("100-007"), reason: gateway.ReasonRetcode, retcode: "100-007"},
		{name: "TLS: https URL, plain HTTP server", gateway: tlsMismatch(false, "https", ""), reason: gateway.ReasonTransport},
		{name: "TLS: http URL, TLS server", gateway: tlsMismatch(true, "http", ""), reason: gateway.ReasonHTTP},
		{name: "TLS: certificate from another CA", gateway: tlsMismatch(true, "https", "other"), reason: gateway.ReasonTransport},
		{name: "TLS: trusted certificate (control)", gateway: tlsMismatch(true, "https", "own")},
	}
	ran := map[gateway.Reason]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ran[tc.reason] = true
			runFault(t, tc, emitted)
		})
	}

	// Secrets: nothing emitted during the suite holds a Guid or the password.
	all := emitted.String()
	for _, reason := range gateway.Reasons {
		if ran[reason] && !strings.Contains(all, "reason="+string(reason)) {
			t.Errorf("no failure with reason %s was logged: the secret search would miss its error texts", reason)
		}
	}
	var secrets []string
	for _, id := range append(append([]string{}, steadyAgents...), faultyAgents...) {
		secrets = append(secrets, simulator.Guid(simSeed, id))
	}
	assertNoSecrets(t, all, append(secrets, gatewayPassword)...)
}

func runFault(t *testing.T, tc faultCase, emitted *syncbuf.Buffer) {
	leaks := goleak.IgnoreCurrent()
	_, steady := startSimulator(t, 1001, false, simulator.Options{})
	faulty := tc.gateway(t)
	timeout := tc.timeout
	if timeout == 0 {
		timeout = time.Second
	}
	auth := "basic_auth: {username: exporter, password: " + gatewayPassword + "}"
	faultySettings := []string{fmt.Sprintf("timeout: %s", timeout), fmt.Sprintf("concurrency: %d", faultyConcurrency), auth}
	if faulty.tlsConfig != "" {
		faultySettings = append(faultySettings, "tls_config: "+faulty.tlsConfig)
	}
	yaml := "gateways:\n" + gatewayYAML("steady", steady.URL, steadyAgents, "timeout: 5s", fmt.Sprintf("concurrency: %d", steadyConcurrency), auth) +
		gatewayYAML("faulty", faulty.url, faultyAgents, faultySettings...)

	logs := &syncbuf.Buffer{}
	e := newExporter(t, yaml, debugLogger(io.MultiWriter(logs, emitted)))
	handler := e.MetricsHandler(collector.HandlerOptions{Gatherer: prometheus.NewRegistry(), TimeoutOffset: scrapeOffset, DefaultTimeout: time.Minute})

	first := scrape(t, handler, fmt.Sprint(promTimeout.Seconds()))
	_, _ = emitted.Write([]byte(first.body))
	if first.elapsed >= promTimeout {
		t.Errorf("scrape took %v, after Prometheus' deadline of %v", first.elapsed, promTimeout)
	}
	checkFaultScrape(t, tc, faulty, first)
	for _, v := range faulty.victims {
		if tc.reason == "" {
			break
		}
		if n := countLines(logs.String(), `msg="agent query failing"`, "gateway=faulty", "agent_id="+v, "reason="+string(tc.reason)); n != 1 {
			t.Errorf("agent %s: failure logged %d times, want once:\n%s", v, n, logs.String())
		}
	}

	waitIdle(t, "steady gateway", steady, steadyConcurrency)
	if faulty.conns != nil {
		waitIdle(t, "faulty gateway", faulty.conns, faultyConcurrency)
	}
	if tc.check != nil {
		tc.check(t, faulty)
	}

	if faulty.clear != nil && tc.reason != "" {
		faulty.clear()
		next := scrape(t, handler, fmt.Sprint(promTimeout.Seconds()))
		_, _ = emitted.Write([]byte(next.body))
		for _, v := range faulty.victims {
			expectValue(t, next, 1, "agentgateway_agent_up", "gateway", "faulty", "agent_id", v)
			// Counted once for the one failed query: kept, not reset, not doubled.
			expectValue(t, next, 1, "agentgateway_agent_query_errors_total", "agent_id", v, "reason", string(tc.reason))
			if n := countLines(logs.String(), `msg="agent query recovered"`, "agent_id="+v); n != 1 {
				t.Errorf("agent %s: recovery logged %d times, want once", v, n)
			}
		}
		if faulty.conns != nil {
			waitIdle(t, "faulty gateway after recovery", faulty.conns, faultyConcurrency)
		}
	}

	release(t, e)
	waitClosed(t, "steady gateway", steady)
	if faulty.conns != nil {
		waitClosed(t, "faulty gateway", faulty.conns)
	}
	// The servers still run; only their own goroutines may remain.
	goleak.VerifyNone(t, leaks,
		goleak.IgnoreAnyFunction("net/http.(*Server).Serve"),
		goleak.IgnoreAnyFunction("github.com/agentgateway/agentgateway_exporter/collector_test.(*blackHole).accept"))
}

// checkFaultScrape checks the first scrape's answer for every agent.
func checkFaultScrape(t *testing.T, tc faultCase, faulty faultyGateway, r scrapeResult) {
	t.Helper()
	victims := map[string]bool{}
	for _, v := range faulty.victims {
		victims[v] = true
	}
	for _, id := range steadyAgents {
		expectValue(t, r, 1, "agentgateway_agent_up", "gateway", "steady", "agent_id", id)
	}
	expectValue(t, r, 1, "agentgateway_gateway_up", "gateway", "steady")
	for _, id := range faultyAgents {
		labels := []string{"gateway", "faulty", "agent_id", id}
		if !victims[id] || tc.reason == "" {
			expectValue(t, r, 1, "agentgateway_agent_up", labels...)
			if n := len(r.matching("agentgateway_agent_query_failed", labels...)); n != 0 {
				t.Errorf("agent %s is unaffected but reports %d failures", id, n)
			}
			continue
		}
		expectValue(t, r, 0, "agentgateway_agent_up", labels...)
		failed := append(append([]string{}, labels...), "reason", string(tc.reason), "retcode", tc.retcode)
		expectValue(t, r, 1, "agentgateway_agent_query_failed", failed...)
		expectValue(t, r, 1, "agentgateway_agent_query_errors_total", failed...)
		expectValue(t, r, 1, "agentgateway_agent_state", append(labels, "state", "error")...)
		if n := len(r.matching("agentgateway_agent_query_failed", labels...)); n != 1 {
			t.Errorf("agent %s reports %d failure series, want 1", id, n)
		}
	}
	gatewayUp := 0.0
	if len(faulty.victims) < len(faultyAgents) || tc.reason == "" || tc.reason == gateway.ReasonRetcode {
		gatewayUp = 1
	}
	expectValue(t, r, gatewayUp, "agentgateway_gateway_up", "gateway", "faulty")
	// The budget left when the answer was assembled: at most the 2 s given.
	if left, ok := r.value("agentgateway_scrape_deadline_seconds"); !ok || left > (promTimeout-scrapeOffset).Seconds() || left <= 0 {
		t.Errorf("agentgateway_scrape_deadline_seconds = %v (present %v), want up to %v", left, ok, (promTimeout - scrapeOffset).Seconds())
	}
}

// simFault: the simulator fails the victim's queries with f.
func simFault(f simulator.Fault) func(t *testing.T) faultyGateway {
	return func(t *testing.T) faultyGateway {
		sim, server := startSimulator(t, 2001, false, simulator.Options{})
		sim.SetFault(victim, f)
		return faultyGateway{url: server.URL, conns: server, server: server, victims: []string{victim},
			clear: func() { sim.SetFault(victim, simulator.Fault{}) }}
	}
}

// simRetcode: the simulator answers the victim with a gateway error code.
func simRetcode(retcode string) func(t *testing.T) faultyGateway {
	return func(t *testing.T) faultyGateway {
		sim, server := startSimulator(t, 2001, false, simulator.Options{})
		sim.SetRetcode(victim, retcode)
		return faultyGateway{url: server.URL, conns: server, server: server, victims: []string{victim},
			clear: func() { sim.SetRetcode(victim, "") }}
	}
}

// victimAnswers: handler answers the victim's queries, the simulator the
// others'.
func victimAnswers(handler http.HandlerFunc) func(t *testing.T) faultyGateway {
	return func(t *testing.T) faultyGateway {
		sim := simulator.New(simulator.Options{Agents: 3, FirstAgentID: 2001, Seed: simSeed})
		var cleared atomic.Bool
		victimPath := "/agentgateway/resource/calldata/" + victim + "/callinfo"
		server := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == victimPath && !cleared.Load() {
				handler(w, r)
				return
			}
			sim.ServeHTTP(w, r)
		}), false, "")
		t.Cleanup(sim.Close)
		return faultyGateway{url: server.URL, conns: server, server: server, victims: []string{victim},
			clear: func() { cleared.Store(true) }}
	}
}

// respond answers 200 with a JSON content type and body.
func respond(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_, _ = io.WriteString(w, body)
	}
}

// resetMidBody sends the status line, the headers and part of the body,
// then resets the connection.
func resetMidBody(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: 900\r\n\r\n"+
		`{"message":"","retcode":"0","result":{"callfeature":0,"callid":"1700000000-7","call`)
	time.Sleep(50 * time.Millisecond) // let the client start on the body
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		if tcp, ok := nc.NetConn().(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
	}
	_ = conn.Close()
}

// refused: nothing listens at the gateway's address.
func refused(t *testing.T) faultyGateway {
	return faultyGateway{url: "http://" + loopback.TestAddr(t), victims: faultyAgents}
}

// blackHole accepts connections and never answers, like a gateway whose
// worker threads are all stuck.
type blackHole struct {
	listener net.Listener
	mu       sync.Mutex
	conns    int
	wg       sync.WaitGroup
}

func blackHoleGateway(t *testing.T) faultyGateway {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackHole{listener: l}
	b.wg.Add(1)
	go b.accept()
	t.Cleanup(func() {
		_ = l.Close()
		b.wg.Wait()
	})
	return faultyGateway{url: "http://" + l.Addr().String(), conns: b, victims: faultyAgents}
}

func (b *blackHole) accept() {
	defer b.wg.Done()
	for {
		conn, err := b.listener.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		b.conns++
		b.mu.Unlock()
		b.wg.Add(1)
		go b.swallow(conn)
	}
}

// swallow reads until the client closes the connection.
func (b *blackHole) swallow(conn net.Conn) {
	defer b.wg.Done()
	_, _ = io.Copy(io.Discard, conn)
	_ = conn.Close()
	b.mu.Lock()
	b.conns--
	b.mu.Unlock()
}

func (b *blackHole) open() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.conns
}

// active: every open connection waits for an answer that never comes.
func (b *blackHole) active() int { return b.open() }

// tlsMismatch serves the simulator with or without TLS and points the
// exporter at it with scheme, trusting the server's own certificate
// ("own"), another CA's ("other") or nothing in particular ("").
func tlsMismatch(serverTLS bool, scheme, trust string) func(t *testing.T) faultyGateway {
	return func(t *testing.T) faultyGateway {
		_, server := startSimulator(t, 2001, serverTLS, simulator.Options{})
		g := faultyGateway{url: scheme + "://" + server.Listener.Addr().String(), conns: server, server: server, victims: faultyAgents}
		switch trust {
		case "own":
			g.tlsConfig = "{ca_file: " + server.caFile(t) + "}"
		case "other":
			g.tlsConfig = "{ca_file: " + otherCA(t) + "}"
		}
		return g
	}
}

// cutShort checks that a body of size bytes was not read whole: the server
// could write no more than limit before the exporter hung up.
func cutShort(size, limit int64) func(t *testing.T, g faultyGateway) {
	return func(t *testing.T, g faultyGateway) {
		if written := g.server.written.Load(); written > limit || written >= size {
			t.Errorf("the gateway wrote %d bytes of a %d-byte answer; the exporter should hang up after %d", written, size, gateway.DefaultMaxBodyBytes)
		}
	}
}

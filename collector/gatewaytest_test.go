package collector_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gokitlog "github.com/go-kit/log"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/agentgateway/agentgateway_exporter/collector"
	"github.com/agentgateway/agentgateway_exporter/config"
	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
	"github.com/agentgateway/agentgateway_exporter/internal/logging"
)

// Helpers shared by the fault, load and reload tests of this package. They
// use only the exporter's public API and real servers on 127.0.0.1.

// simSeed fixes the simulated Guids, so the tests can search all output for
// them.
const simSeed = 4

// debugLogger is the production logger at debug level, writing to w.
func debugLogger(w io.Writer) gokitlog.Logger {
	logger, _ := logging.New(&logging.Config{Level: "debug", Format: "logfmt"}, w)
	return logger
}

// testServer is a gateway on 127.0.0.1 that counts, at the server, the
// connections that are open and busy and the bytes written to them.
type testServer struct {
	*httptest.Server
	written atomic.Int64

	mu     sync.Mutex
	states map[net.Conn]http.ConnState
}

// startServer serves handler on a free port, or on addr when it is not
// empty (a gateway coming back on its old address).
func startServer(t *testing.T, handler http.Handler, useTLS bool, addr string) *testServer {
	t.Helper()
	s := &testServer{Server: httptest.NewUnstartedServer(handler), states: map[net.Conn]http.ConnState{}}
	if addr != "" {
		listener, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("listen again on %s: %v", addr, err)
		}
		_ = s.Listener.Close()
		s.Listener = listener
	}
	s.Listener = countingListener{Listener: s.Listener, written: &s.written}
	s.Config.ConnState = func(c net.Conn, state http.ConnState) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.states[c] = state
	}
	// Faults break connections on purpose; the server's complaints are noise.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// open counts connections the server has not seen closed (a hijacked
// connection belongs to its handler, which closes it).
func (s *testServer) open() int { return s.count(http.StateNew, http.StateActive, http.StateIdle) }

// active counts connections with a request being served.
func (s *testServer) active() int { return s.count(http.StateActive) }

func (s *testServer) count(states ...http.ConnState) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, st := range s.states {
		for _, want := range states {
			if st == want {
				n++
			}
		}
	}
	return n
}

// caFile writes the server's certificate for a client's tls_config.
func (s *testServer) caFile(t *testing.T) string {
	t.Helper()
	return writePEM(t, s.Certificate().Raw)
}

type countingListener struct {
	net.Listener
	written *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, written: l.written}, nil
}

type countingConn struct {
	net.Conn
	written *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// NetConn exposes the TCP connection, so a handler can reset it.
func (c *countingConn) NetConn() net.Conn { return c.Conn }

// connCounter is what the tests see of a server's connections.
type connCounter interface {
	open() int
	active() int
}

// waitIdle waits until no request is being served and the keep-alive pool
// is bounded: a request the exporter gave up on must not keep running at
// the gateway. Each of the `concurrency` workers uses at most one
// connection at a time, but net/http may dial a new one while the
// worker's previous connection is still on its way back to the pool, so
// the bound is twice the concurrency.
func waitIdle(t *testing.T, what string, c connCounter, concurrency int) {
	t.Helper()
	maxOpen := 2 * concurrency
	var active, open int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if active, open = c.active(), c.open(); active == 0 && open <= maxOpen {
			return
		}
	}
	t.Errorf("%s: %d requests still served and %d connections open after the scrape (want 0 and at most %d)", what, active, open, maxOpen)
}

// waitClosed waits until every connection is closed.
func waitClosed(t *testing.T, what string, c connCounter) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c.open() == 0 {
			return
		}
	}
	t.Errorf("%s: %d connections still open after the exporter let go of the gateway", what, c.open())
}

// startSimulator serves a simulated gateway with agents first, first+1,
// first+2 on a counting server.
func startSimulator(t *testing.T, first int, useTLS bool, opts simulator.Options) (*simulator.Simulator, *testServer) {
	t.Helper()
	opts.FirstAgentID, opts.Seed = first, simSeed
	if opts.Agents == 0 {
		opts.Agents = 3
	}
	sim := simulator.New(opts)
	server := startServer(t, sim, useTLS, "")
	t.Cleanup(sim.Close) // runs before the server's Close: hanging requests end first
	return sim, server
}

func agentIDs(first, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint(first + i)
	}
	return ids
}

// gatewayYAML is one gateway entry of agents.yml; settings are extra
// lines such as "timeout: 1s".
func gatewayYAML(name, url string, ids []string, settings ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    url: %s\n", name, url)
	for _, s := range settings {
		fmt.Fprintf(&b, "    %s\n", s)
	}
	b.WriteString("    agents:\n")
	for _, id := range ids {
		fmt.Fprintf(&b, "      - id: %q\n        guid: %q\n", id, simulator.Guid(simSeed, id))
	}
	return b.String()
}

func newExporter(t *testing.T, yaml string, logger gokitlog.Logger) *collector.Exporter {
	t.Helper()
	e := collector.New(collector.Options{Logger: logger})
	apply(t, e, yaml)
	return e
}

func apply(t *testing.T, e *collector.Exporter, yaml string) {
	t.Helper()
	cfg, err := config.Load([]byte(yaml), filepath.Join(t.TempDir(), "agents.yml"))
	if err != nil {
		t.Fatalf("%v\n%s", err, yaml)
	}
	if err := e.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
}

// release makes the exporter let go of every gateway it knew, as a reload
// that removes them does.
func release(t *testing.T, e *collector.Exporter) {
	t.Helper()
	apply(t, e, "gateways:\n"+gatewayYAML("elsewhere", "http://127.0.0.1:9", []string{"101"}))
}

// scrapeResult is one /metrics answer.
type scrapeResult struct {
	body     string
	families map[string]*dto.MetricFamily
	elapsed  time.Duration
}

// scrape requests /metrics from handler as Prometheus does, with its
// timeout header ("" for none).
func scrape(t *testing.T, handler http.Handler, timeoutHeader string) scrapeResult {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if timeoutHeader != "" {
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeoutHeader)
	}
	rec := httptest.NewRecorder()
	started := time.Now()
	handler.ServeHTTP(rec, req)
	result := scrapeResult{body: rec.Body.String(), elapsed: time.Since(started)}
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics answered %d: %s", rec.Code, result.body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(result.body))
	if err != nil {
		t.Fatalf("unparsable /metrics answer: %v\n%s", err, result.body)
	}
	result.families = families
	return result
}

// value returns the value of the first series of metric whose labels
// include the given name/value pairs.
func (r scrapeResult) value(metric string, labels ...string) (float64, bool) {
	for _, m := range r.matching(metric, labels...) {
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// counted returns the series of a counter that have counted something;
// counters exported at 0 before their first increment are left out.
func (r scrapeResult) counted(metric string, labels ...string) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range r.matching(metric, labels...) {
		if m.GetCounter().GetValue() > 0 {
			out = append(out, m)
		}
	}
	return out
}

func (r scrapeResult) matching(metric string, labels ...string) []*dto.Metric {
	mf := r.families[metric]
	if mf == nil {
		return nil
	}
	var out []*dto.Metric
series:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue series
			}
		}
		out = append(out, m)
	}
	return out
}

// counters returns every counter and histogram count of the answer, keyed
// by series, to check that none goes backwards.
func (r scrapeResult) counters() map[string]float64 {
	out := map[string]float64{}
	for name, mf := range r.families {
		for _, m := range mf.GetMetric() {
			var pairs []string
			for _, lp := range m.GetLabel() {
				pairs = append(pairs, lp.GetName()+"="+lp.GetValue())
			}
			sort.Strings(pairs)
			key := name + "{" + strings.Join(pairs, ",") + "}"
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Histogram != nil:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// expectValue fails unless the series exists with the wanted value.
func expectValue(t *testing.T, r scrapeResult, want float64, metric string, labels ...string) {
	t.Helper()
	if got, ok := r.value(metric, labels...); !ok || got != want {
		t.Errorf("%s%v = %v (present %v), want %v", metric, labels, got, ok, want)
	}
}

// countLines counts log lines containing every one of parts.
func countLines(logs string, parts ...string) int {
	n := 0
lines:
	for _, line := range strings.Split(logs, "\n") {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue lines
			}
		}
		n++
	}
	return n
}

// otherCA returns a certificate (PEM file) of a CA that signed nothing
// the tests serve.
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(42),
		Subject:               pkix.Name{CommonName: "unrelated test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, der)
}

func writePEM(t *testing.T, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// assertNoSecrets fails for every secret found in what the exporter emitted.
func assertNoSecrets(t *testing.T, emitted string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			t.Fatal("empty secret: the search would prove nothing")
		}
		if i := strings.Index(emitted, s); i >= 0 {
			from, to := max(0, i-200), min(len(emitted), i+len(s)+50)
			t.Errorf("secret %q found in the exporter's output: ...%s...", s, emitted[from:to])
		}
	}
}

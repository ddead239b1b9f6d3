package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/internal/loopback"

	"github.com/agentgateway/agentgateway_exporter/internal/syncbuf"

	"golang.org/x/crypto/bcrypt"

	"github.com/agentgateway/agentgateway_exporter/gateway/simulator"
)

// These tests run the built exporter as a child process on 127.0.0.1, as
// an operator does: reload by signal and by HTTP, hostile clients, and TLS
// with basic auth from --web.config.file. Everything the child writes and
// serves is searched for the Guids and passwords.

const (
	gatewaySeed = 11
	// gatewayPassword is the basic-auth password towards the gateway.
	gatewayPassword = "gw-Basic-Auth-pa55word-b81e"
	// webPassword is the password Prometheus uses towards the exporter.
	webPassword = "Prom-scrape-pa55word-93d0"
)

var build struct {
	once   sync.Once
	dir    string
	binary string
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// exporterBinary builds the exporter once for all tests of the package.
func exporterBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		if build.dir, build.err = os.MkdirTemp("", "agentgateway-exporter-test-"); build.err != nil {
			return
		}
		build.binary = filepath.Join(build.dir, "agentgateway_exporter")
		if runtime.GOOS == "windows" {
			build.binary += ".exe"
		}
		out, err := exec.Command("go", "build", "-o", build.binary, ".").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.binary
}

type exporterProcess struct {
	addr   string
	cmd    *exec.Cmd
	output *syncbuf.Buffer
	done   chan struct{}
	// emitted is everything the tests received from the exporter.
	emitted *syncbuf.Buffer
}

// startExporter runs the exporter at debug level on a free loopback port
// and waits until it answers HTTP on it (client and scheme may be TLS).
func startExporter(t *testing.T, client *http.Client, scheme string, args ...string) *exporterProcess {
	t.Helper()
	p := &exporterProcess{addr: loopback.TestAddr(t), output: &syncbuf.Buffer{}, done: make(chan struct{}), emitted: &syncbuf.Buffer{}}
	p.cmd = exec.Command(exporterBinary(t), append([]string{"--web.listen-address=" + p.addr, "--log.level=debug"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("exporter output:\n%s", p.output.String())
		}
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-p.done:
			t.Fatalf("exporter exited:\n%s", p.output.String())
		default:
		}
		if resp, err := client.Get(scheme + "://" + p.addr + "/-/healthy"); err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter not answering on %s:\n%s", p.addr, p.output.String())
		}
	}
}

// do sends a request and returns the status and body, keeping the body
// for the secret search.
func (p *exporterProcess) do(t *testing.T, client *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = p.emitted.Write(body)
	return resp.StatusCode, string(body)
}

func (p *exporterProcess) get(t *testing.T, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+p.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p.do(t, http.DefaultClient, req)
}

// sample returns the value of one series, written as in the text format
// (labels in alphabetical order).
func sample(body, series string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

func expectSample(t *testing.T, body, series string, want float64) {
	t.Helper()
	if got, ok := sample(body, series); !ok || got != want {
		t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
	}
}

func agentUp(id string) string { return `agentgateway_agent_up{agent_id="` + id + `",gateway="sim"}` }

// startGateway runs a simulated gateway in the test process.
func startGateway(t *testing.T) *simulator.Server {
	t.Helper()
	sim, err := simulator.Start("127.0.0.1:0", simulator.Options{Agents: 3, Seed: gatewaySeed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// agentsYAML configures the simulated gateway with the given agents; agent
// 1003's Guid comes from a guid_file next to the configuration.
func agentsYAML(t *testing.T, dir string, sim *simulator.Server, ids ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "gateways:\n  - name: sim\n    url: %s\n    timeout: 2s\n    basic_auth: {username: exporter, password: %s}\n    agents:\n", sim.URL(), gatewayPassword)
	for _, id := range ids {
		if id == "1003" {
			if err := os.WriteFile(filepath.Join(dir, "1003.guid"), []byte(sim.Guid(id)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "      - id: %q\n        guid_file: 1003.guid\n", id)
			continue
		}
		fmt.Fprintf(&b, "      - id: %q\n        guid: %q\n", id, sim.Guid(id))
	}
	return b.String()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// assertNoSecrets fails for every secret found in text.
func assertNoSecrets(t *testing.T, text string, secrets ...string) {
	t.Helper()
	if len(text) < 1000 {
		t.Fatalf("only %d bytes to search: the search would prove nothing", len(text))
	}
	for _, s := range secrets {
		if i := strings.Index(text, s); i >= 0 {
			t.Errorf("secret %q found in the exporter's output: ...%s...", s, text[max(0, i-200):min(len(text), i+len(s)+50)])
		}
	}
}

func guids(sim *simulator.Server) []string {
	var out []string
	for _, id := range sim.AgentIDs() {
		out = append(out, sim.Guid(id))
	}
	return out
}

// TestReloadKeepsOldConfigOnInvalidFile: POST /-/reload and SIGHUP with an
// invalid file keep the running configuration and report the failure; a
// valid file that drops an agent makes it vanish.
func TestReloadKeepsOldConfigOnInvalidFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGHUP is Unix only")
	}
	sim := startGateway(t)
	dir := t.TempDir()
	configFile := filepath.Join(dir, "agents.yml")
	valid := agentsYAML(t, dir, sim, "1001", "1002", "1003")
	writeFile(t, configFile, valid)
	p := startExporter(t, http.DefaultClient, "http", "--config.file="+configFile)

	_, body := p.get(t, "/metrics")
	for _, id := range []string{"1001", "1002", "1003"} {
		expectSample(t, body, agentUp(id), 1)
	}
	expectSample(t, body, "agentgateway_config_last_reload_successful", 1)
	loadedAt, ok := sample(body, "agentgateway_config_last_reload_success_timestamp_seconds")
	if !ok || loadedAt <= 0 {
		t.Fatalf("no success timestamp after the first load:\n%s", body)
	}

	// An agent's Guid pasted into its id field: invalid, and the error must
	// not repeat the Guid.
	swapped := strings.Replace(valid, `id: "1001"`+"\n        guid: \""+sim.Guid("1001")+`"`,
		`id: "`+sim.Guid("1001")+`"`+"\n        guid: \"1001\"", 1)
	if swapped == valid {
		t.Fatal("test edit did not apply")
	}
	writeFile(t, configFile, swapped)
	req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/-/reload", nil)
	status, answer := p.do(t, http.DefaultClient, req)
	if status != http.StatusInternalServerError || !strings.Contains(answer, "id must be digits") {
		t.Errorf("POST /-/reload with an invalid file: %d %q, want 500 naming the problem", status, answer)
	}
	_, body = p.get(t, "/metrics")
	expectSample(t, body, "agentgateway_config_last_reload_successful", 0)
	expectSample(t, body, `agentgateway_config_reloads_total{result="failure"}`, 1)
	expectSample(t, body, "agentgateway_config_last_reload_success_timestamp_seconds", loadedAt)
	for _, id := range []string{"1001", "1002", "1003"} {
		expectSample(t, body, agentUp(id), 1) // the old configuration still runs
	}

	writeFile(t, configFile, "gateways:\n  - name: sim\n   url: [\n")
	p.hangupUntil(t, `agentgateway_config_reloads_total{result="failure"}`, 2)
	_, body = p.get(t, "/metrics")
	expectSample(t, body, "agentgateway_config_last_reload_successful", 0)
	expectSample(t, body, agentUp("1003"), 1)

	writeFile(t, configFile, agentsYAML(t, dir, sim, "1001", "1002"))
	p.hangupUntil(t, `agentgateway_config_reloads_total{result="success"}`, 2)
	// The scrape that saw the reload counted may have begun before it; the
	// next one begins after.
	_, body = p.get(t, "/metrics")
	expectSample(t, body, "agentgateway_config_last_reload_successful", 1)
	if strings.Contains(body, `agent_id="1003"`) {
		t.Errorf("agent 1003 was removed but is still in the output")
	}
	expectSample(t, body, agentUp("1002"), 1)
	if at, _ := sample(body, "agentgateway_config_last_reload_success_timestamp_seconds"); at <= loadedAt {
		t.Errorf("success timestamp %v did not advance from %v", at, loadedAt)
	}

	if status, _ := p.get(t, "/-/reload"); status != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", status)
	}
	status, landing := p.get(t, "/")
	if status != http.StatusOK || !strings.Contains(landing, "/metrics") {
		t.Errorf("landing page: %d\n%s", status, landing)
	}
	if n := strings.Count(p.output.String(), "configuration not loaded"); n != 2 {
		t.Errorf("%d failed loads logged, want 2", n)
	}
	assertNoSecrets(t, p.output.String()+p.emitted.String(), append(guids(sim), gatewayPassword)...)
}

// hangupUntil sends SIGHUP and scrapes until series reaches want.
func (p *exporterProcess) hangupUntil(t *testing.T, series string, want float64) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, body = p.get(t, "/metrics")
		if got, _ := sample(body, series); got == want {
			return
		}
	}
	t.Fatalf("after SIGHUP %s never reached %v:\n%s", series, want, body)
}

// TestHostileRequests: junk in the query string is harmless, oversized
// headers are refused with 431, and a client that sends its headers slowly
// is cut off after --web.read-header-timeout.
func TestHostileRequests(t *testing.T) {
	sim := startGateway(t)
	dir := t.TempDir()
	configFile := filepath.Join(dir, "agents.yml")
	writeFile(t, configFile, agentsYAML(t, dir, sim, "1001", "1002"))
	p := startExporter(t, http.DefaultClient, "http", "--config.file="+configFile, "--web.read-header-timeout=1s")

	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/metrics?%zz&gateway=%00%ff&shard=-1&shards=99999999999999999999", http.StatusOK},
		{"/metrics?" + strings.Repeat("a=b&", 4<<10), http.StatusOK},
		{"/probe?gateway=%3Cscript%3Ealert(1)%3C/script%3E", http.StatusNotFound},
		{"/probe?gateway=sim&shards=4&shard=%ff", http.StatusBadRequest},
		{"/probe?%zz", http.StatusBadRequest},
		{"/probe?gateway=sim&shards=1e9&shard=0", http.StatusBadRequest},
	} {
		resp, err := http.Get("http://" + p.addr + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		_, _ = p.emitted.Write(raw)
		body := string(raw)
		if resp.StatusCode != tt.status {
			t.Errorf("GET %.80s: %d, want %d: %.200s", tt.path, resp.StatusCode, tt.status, body)
		}
		if resp.StatusCode == http.StatusOK && !strings.Contains(body, agentUp("1001")+" 1") {
			t.Errorf("GET %.80s: agents missing from the answer", tt.path)
		}
		// An error answer may quote the parameter, but never as a page a
		// browser would render.
		if resp.StatusCode != http.StatusOK && (!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff") {
			t.Errorf("GET %.80s: error answer with Content-Type %q, X-Content-Type-Options %q", tt.path,
				resp.Header.Get("Content-Type"), resp.Header.Get("X-Content-Type-Options"))
		}
	}

	// 100 KiB of headers, beyond the 64 KiB limit.
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET /metrics HTTP/1.1\r\nHost: %s\r\nX-Junk: %s\r\n\r\n", p.addr, strings.Repeat("a", 100<<10)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to oversized headers: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized headers: status %d, want 431", resp.StatusCode)
	}

	// Slowloris: one header line every 100 ms, never the end of the headers.
	slow, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	started := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.Copy(io.Discard, slow)
		closed <- time.Since(started)
	}()
	_, _ = fmt.Fprintf(slow, "GET /metrics HTTP/1.1\r\nHost: %s\r\n", p.addr)
	var cutAfter time.Duration
dribble:
	for i := 0; ; i++ {
		select {
		case cutAfter = <-closed:
			break dribble
		case <-time.After(100 * time.Millisecond):
			_, _ = fmt.Fprintf(slow, "X-Slow-%d: 1\r\n", i)
		}
	}
	if cutAfter > 5*time.Second {
		t.Errorf("slow client kept its connection for %v despite a 1 s header timeout", cutAfter)
	}
	if status, _ := p.get(t, "/-/healthy"); status != http.StatusOK {
		t.Errorf("exporter unhealthy after the hostile clients: %d", status)
	}
	assertNoSecrets(t, p.output.String()+p.emitted.String(), append(guids(sim), gatewayPassword)...)
}

// TestWebConfigTLSAndBasicAuth: with --web.config.file, /metrics is served
// over TLS to a client that trusts the certificate and only with the right
// password.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	sim := startGateway(t)
	dir := t.TempDir()
	configFile := filepath.Join(dir, "agents.yml")
	writeFile(t, configFile, agentsYAML(t, dir, sim, "1001", "1002", "1003"))
	webConfig, client := tlsWebConfig(t, dir)
	p := startExporter(t, client, "https", "--config.file="+configFile, "--web.config.file="+webConfig)

	request := func(user, password string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, "https://"+p.addr+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		return p.do(t, client, req)
	}
	status, body := request("prometheus", webPassword)
	if status != http.StatusOK {
		t.Fatalf("right password: status %d: %s", status, body)
	}
	for _, id := range []string{"1001", "1002", "1003"} {
		expectSample(t, body, agentUp(id), 1)
	}
	for _, tt := range []struct{ user, password string }{
		{"prometheus", "wrong-password"}, {"prometheus", ""}, {"someone", webPassword}, {"", ""},
	} {
		if status, body := request(tt.user, tt.password); status != http.StatusUnauthorized || strings.Contains(body, "agentgateway_") {
			t.Errorf("user %q, password %q: status %d, want 401 without metrics", tt.user, tt.password, status)
		}
	}
	// Plain HTTP to the TLS port, and TLS without trusting the certificate.
	if resp, err := http.Get("http://" + p.addr + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP to the TLS port got metrics")
		}
	}
	if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("https://" + p.addr + "/metrics"); err == nil {
		resp.Body.Close()
		t.Error("a client that does not trust the certificate connected")
	}
	landing, _ := http.NewRequest(http.MethodGet, "https://"+p.addr+"/", nil)
	landing.SetBasicAuth("prometheus", webPassword)
	if status, _ := p.do(t, client, landing); status != http.StatusOK {
		t.Errorf("landing page over TLS: %d", status)
	}
	assertNoSecrets(t, p.output.String()+p.emitted.String(), append(guids(sim), gatewayPassword, webPassword)...)
}

// tlsWebConfig writes a --web.config.file with TLS and basic auth (user
// prometheus, webPassword) and returns it with a client trusting it.
func tlsWebConfig(t *testing.T, dir string) (string, *http.Client) {
	t.Helper()
	certPEM, keyPEM := serverCertificate(t)
	writeFile(t, filepath.Join(dir, "web.pem"), string(certPEM))
	writeFile(t, filepath.Join(dir, "web-key.pem"), string(keyPEM))
	hash, err := bcrypt.GenerateFromPassword([]byte(webPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	writeFile(t, webConfig, fmt.Sprintf("tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n",
		filepath.Join(dir, "web.pem"), filepath.Join(dir, "web-key.pem"), hash))

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	return webConfig, client
}

// serverCertificate makes a self-signed certificate for 127.0.0.1.
func serverCertificate(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "agentgateway_exporter test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

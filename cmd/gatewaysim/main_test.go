package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/internal/syncbuf"

	"go.uber.org/goleak"

	"github.com/agentgateway/agentgateway_exporter/config"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestRunServesAndWritesTheConfiguration(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		scheme string
	}{
		{"plain HTTP", nil, "http"},
		{"HTTPS", []string{"--tls"}, "https"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			configPath := filepath.Join(dir, "agents-sim.yml")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var logs syncbuf.Buffer
			done := make(chan error, 1)
			args := append([]string{"--listen-address=127.0.0.1:0", "--agents=3", "--seed=9", "--quirks=off",
				"--write-config=" + configPath, "--include-last-call"}, tc.args...)
			go func() { done <- run(ctx, args, io.Discard, &logs) }()

			urlPattern := regexp.MustCompile(`url=(` + tc.scheme + `://127\.0\.0\.1:\d+)`)
			var url string
			for deadline := time.Now().Add(5 * time.Second); url == ""; time.Sleep(5 * time.Millisecond) {
				if m := urlPattern.FindStringSubmatch(logs.String()); m != nil {
					url = m[1]
				} else if time.Now().After(deadline) {
					cancel()
					t.Fatalf("no listening message in %q (run: %v)", logs.String(), <-done)
				}
			}

			cfg, err := config.LoadFile(configPath)
			if err != nil {
				t.Fatal(err)
			}
			gw := cfg.Gateways[0]
			if gw.URL != url || !gw.IncludesLastCall() || len(gw.Agents) != 3 {
				t.Fatalf("configuration does not describe the running simulator: %+v", gw)
			}

			transport := &http.Transport{}
			defer transport.CloseIdleConnections()
			if tc.scheme == "https" {
				caFile := gw.HTTPClientConfig.TLSConfig.CAFile
				if caFile != filepath.Join(dir, "agents-sim-ca.pem") {
					t.Errorf("ca_file %q, want the certificate next to the configuration", caFile)
				}
				pem, err := os.ReadFile(caFile)
				if err != nil {
					t.Fatal(err)
				}
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					t.Fatalf("%s holds no certificate", caFile)
				}
				transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			}
			agent := gw.Agents[0]
			if body := queryAgent(t, transport, url, agent.ID, string(agent.GUID)); !strings.Contains(body, `"retcode":"0"`) {
				t.Errorf("the configured Guid was refused: %s", body)
			}
			stopRun(t, cancel, done)
		})
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	emptyFile := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--quirks=sometimes"},
		{"--agents=many"},
		{"--listen-address=127.0.0.1:0", "--first-agent-id=5"},
		{"--listen-address=127.0.0.1:0", "--write-config=" + filepath.Join(t.TempDir(), "missing", "agents.yml")},
		{"--auth-mode=sometimes"},
		{"--listen-address=127.0.0.1:0", "--auth-mode=dynamic", "--guid-interval=2s", "--guid-timeout=2s"},
		{"--listen-address=127.0.0.1:0", "--push.url=http://127.0.0.1:1/api/v1/guids"},
		{"--listen-address=127.0.0.1:0", "--push.url=http://127.0.0.1:1/api/v1/guids", "--push.token-file=" + emptyFile},
		{"--listen-address=127.0.0.1:0", "--push.url=http://127.0.0.1:1/api/v1/guids", "--push.token-file=" + filepath.Join(t.TempDir(), "none")},
	} {
		var logs syncbuf.Buffer
		if err := run(t.Context(), args, io.Discard, &logs); err == nil {
			t.Errorf("run %v succeeded", args)
		}
	}
}

// TestRunDynamicWithSessionOwner: in dynamic mode the written configuration has no Guids, and the
// session owner pushes Guids that the simulator accepts, renewed ones included, without logging them.
func TestRunDynamicWithSessionOwner(t *testing.T) {
	const token = "gatewaysim-test-token"
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	pushed := map[string][]string{} // every Guid pushed, by agent
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Gateway string            `json:"gateway"`
			Guids   map[string]string `json:"guids"`
		}
		if r.Method != http.MethodPut || r.Header.Get("Authorization") != "Bearer "+token ||
			json.NewDecoder(r.Body).Decode(&body) != nil || body.Gateway != "sim" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		for id, guid := range body.Guids {
			pushed[id] = append(pushed[id], guid)
		}
		mu.Unlock()
		fmt.Fprintf(w, `{"accepted":%d,"rejected":{}}`, len(body.Guids))
	}))
	defer exporter.Close()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs, stdout syncbuf.Buffer
	done := make(chan error, 1)
	args := []string{"--listen-address=127.0.0.1:0", "--agents=3", "--quirks=off", "--auth-mode=dynamic",
		"--guid-interval=1s", "--guid-timeout=3s", "--poll-wait=50ms", "--write-config=-", "--config-guid-ttl=110s",
		"--push.url=" + exporter.URL + "/api/v1/guids", "--push.token-file=" + tokenFile, "--push.retry-delay=100ms"}
	go func() { done <- run(ctx, args, &stdout, &logs) }()

	latest := func() (map[string]string, bool) {
		mu.Lock()
		defer mu.Unlock()
		renewed := len(pushed) == 3
		last := map[string]string{}
		for id, guids := range pushed {
			last[id] = guids[len(guids)-1]
			renewed = renewed && len(guids) >= 2
		}
		return last, renewed
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, renewed := latest(); renewed {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no renewed Guids pushed for every agent; logs:\n%s\nrun: %v", logs.String(), <-done)
		}
	}
	config := stdout.String()
	if !strings.Contains(config, "id: \"1001\"") || strings.Contains(config, "guid:") || !strings.Contains(config, "guid_ttl: 1m50s") {
		t.Errorf("push-mode configuration:\n%s", config)
	}
	url := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(logs.String())
	if url == nil {
		t.Fatalf("no listening message in %q", logs.String())
	}
	last, _ := latest()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	for id, guid := range last {
		if body := queryAgent(t, transport, url[1], id, guid); !strings.Contains(body, `"retcode":"0"`) {
			t.Errorf("agent %s: the pushed Guid was refused: %s", id, body)
		}
		if strings.Contains(logs.String(), guid) {
			t.Errorf("agent %s: a Guid is in the logs", id)
		}
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the token is in the logs")
	}
	stopRun(t, cancel, done)
}

// queryAgent asks the simulator for the agent's call with this Guid and returns the answer.
func queryAgent(t *testing.T, transport *http.Transport, baseURL, agentID, guid string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet,
		baseURL+"/agentgateway/resource/calldata/"+agentID+"/callinfo?isNoContainLastCall=true", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Guid", guid)
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// stopRun cancels run and waits for it to return cleanly.
func stopRun(t *testing.T, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after cancellation")
	}
}

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
			go func() { done <- run(ctx, args, &logs) }()

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
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet,
				url+"/agentgateway/resource/calldata/"+agent.ID+"/callinfo?isNoContainLastCall=true", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Guid", string(agent.GUID))
			resp, err := (&http.Client{Transport: transport}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), `"retcode":"0"`) {
				t.Errorf("the configured Guid was refused: %s", body)
			}

			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("run did not stop after cancellation")
			}
		})
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--quirks=sometimes"},
		{"--agents=many"},
		{"--listen-address=127.0.0.1:0", "--first-agent-id=5"},
		{"--listen-address=127.0.0.1:0", "--write-config=" + filepath.Join(t.TempDir(), "missing", "agents.yml")},
	} {
		var logs syncbuf.Buffer
		if err := run(t.Context(), args, &logs); err == nil {
			t.Errorf("run %v succeeded", args)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logfmt/logfmt"
)

// These tests run the built binary as a new user would in the first hour:
// check a configuration, start with a bad one, read the log, ask the
// version.

func runExporter(t *testing.T, args ...string) (exitCode int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(exporterBinary(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), out.String(), errOut.String()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, out.String(), errOut.String()
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("exporter %v did not exit:\n%s", args, errOut.String())
		return 0, "", ""
	}
}

const badConfig = `gateways:
  - name: main
    url: http://127.0.0.1:1
    timeout: 5
    concurency: 4
    tls_config:
      ca_file: missing-ca.pem
    agents:
      - id: "1001"
        guid: "5ec2e7-inline-guid-of-1001"
`

var badConfigProblems = []string{
	`agents.yml:4: gateway "main": timeout must be a duration such as 5s, 1m or 1m30s, not "5"`,
	`agents.yml:5: gateway "main": unknown key "concurency" (did you mean "concurrency"?)`,
	`agents.yml:7: gateway "main": tls_config.ca_file: open `,
}

// TestConfigCheckReportsEverything: --config.check fails on a missing
// ca_file with file:line, and names every problem of the file.
func TestConfigCheckReportsEverything(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "agents.yml")
	writeFile(t, file, badConfig)
	code, stdout, stderr := runExporter(t, "--config.file="+file, "--config.check")
	if code != 1 || strings.Contains(stdout, "OK") {
		t.Errorf("exit %d, stdout %q: want 1 and no OK", code, stdout)
	}
	for _, want := range badConfigProblems {
		if !strings.Contains(stderr, filepath.Join(dir, want)) {
			t.Errorf("--config.check output lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "5ec2e7-inline-guid") || strings.Contains(stderr, "config.Gateway") {
		t.Errorf("--config.check output shows a Guid or a Go type:\n%s", stderr)
	}

	writeFile(t, file, strings.Replace(strings.Replace(strings.Replace(badConfig, "timeout: 5", "timeout: 5s", 1),
		"concurency", "concurrency", 1), "      ca_file: missing-ca.pem\n", "      insecure_skip_verify: true\n", 1))
	if code, stdout, stderr := runExporter(t, "--config.file="+file, "--config.check"); code != 0 || !strings.Contains(stdout, "configuration OK") {
		t.Errorf("fixed file: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestStartWithBadConfig: a bad file at start-up says the exporter cannot
// start, one line per problem, and does not speak of a previous one.
func TestStartWithBadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "agents.yml")
	writeFile(t, file, badConfig)
	code, _, stderr := runExporter(t, "--config.file="+file, "--web.listen-address=127.0.0.1:0")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if strings.Contains(stderr, "previous") {
		t.Errorf("start-up failure speaks of a previous configuration:\n%s", stderr)
	}
	var problems []string
	dec := logfmt.NewDecoder(strings.NewReader(stderr))
	for dec.ScanRecord() {
		record := map[string]string{}
		for dec.ScanKeyval() {
			record[string(dec.Key())] = string(dec.Value())
		}
		if record["msg"] == "cannot start: the configuration is invalid" {
			problems = append(problems, record["err"])
		}
	}
	if len(problems) != len(badConfigProblems) {
		t.Fatalf("%d start-up failure lines, want one per problem (%d):\n%s", len(problems), len(badConfigProblems), stderr)
	}
	for i, want := range badConfigProblems {
		if !strings.HasPrefix(problems[i], filepath.Join(dir, want)) {
			t.Errorf("problem %d = %s\nwant %s...", i, problems[i], want)
		}
	}
}

// TestLogOneFormat: every line of a start-up log, the web server's
// included, has the same leading keys, in logfmt and in JSON.
func TestLogOneFormat(t *testing.T) {
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			p := startExporter(t, http.DefaultClient, "http", "--simulate", "--simulate.agents=3", "--log.format="+format)
			p.get(t, "/metrics")
			p.get(t, "/")
			_ = p.cmd.Process.Kill()
			<-p.done
			lines := strings.Split(strings.TrimSpace(p.output.String()), "\n")
			sawWeb := false
			for _, line := range lines {
				keys := logKeys(t, format, line)
				want := []string{"level", "ts", "caller", "msg"}
				if format == "json" {
					slices.Sort(keys)
					keys = slices.DeleteFunc(keys, func(k string) bool { return !slices.Contains(want, k) })
					want = []string{"caller", "level", "msg", "ts"}
				} else if len(keys) >= 4 {
					keys = keys[:4]
				}
				if !slices.Equal(keys, want) {
					t.Errorf("keys %v, want %v: %s", keys, want, line)
				}
				if strings.Contains(line, "time=") || strings.Contains(line, `"time"`) {
					t.Errorf("second timestamp key: %s", line)
				}
				sawWeb = sawWeb || strings.Contains(line, "Listening on")
			}
			if len(lines) < 4 || !sawWeb {
				t.Errorf("the log (%d lines) lacks the web server's lines:\n%s", len(lines), p.output.String())
			}
		})
	}
}

func logKeys(t *testing.T, format, line string) []string {
	t.Helper()
	var keys []string
	if format == "json" {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		for k := range m {
			keys = append(keys, k)
		}
		return keys
	}
	dec := logfmt.NewDecoder(strings.NewReader(line))
	for dec.ScanRecord() {
		for dec.ScanKeyval() {
			keys = append(keys, string(dec.Key()))
		}
	}
	if dec.Err() != nil {
		t.Fatalf("not logfmt: %s: %v", line, dec.Err())
	}
	return keys
}

// TestVersionWithoutLinkerFlags: a plain go build still says which build
// it is, in --version and in build_info.
func TestVersionWithoutLinkerFlags(t *testing.T) {
	_, stdout, stderr := runExporter(t, "--version")
	out := stdout + stderr
	if !regexp.MustCompile(`version \S+ \(branch: .*, revision: \S+\)`).MatchString(out) {
		t.Errorf("--version = %q", out)
	}
	p := startExporter(t, http.DefaultClient, "http", "--simulate", "--simulate.agents=3")
	_, body := p.get(t, "/metrics")
	info := regexp.MustCompile(`agentgateway_exporter_build_info\{[^}]*version="([^"]+)"`).FindStringSubmatch(body)
	if info == nil {
		t.Errorf("build_info has no version:\n%s", regexp.MustCompile(`(?m)^agentgateway_exporter_build_info.*$`).FindString(body))
	}
}

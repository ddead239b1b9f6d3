package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/internal/httpcall"
)

// requiredEnv makes a missing tool a failure instead of a skip, for CI
// machines that are meant to have everything.
const requiredEnv = "AGENTGATEWAY_E2E_REQUIRED"

// lookBinary returns the first of names found in PATH, or skips (fails
// under AGENTGATEWAY_E2E_REQUIRED=1) the test.
func lookBinary(t *testing.T, hint string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := fmt.Sprintf("end-to-end test needs %s in PATH (%s)", strings.Join(names, " or "), hint)
	if os.Getenv(requiredEnv) == "1" {
		t.Fatal(msg + "; " + requiredEnv + "=1 is set")
	}
	t.Skip(msg + "; set " + requiredEnv + "=1 to fail instead of skipping")
	return ""
}

// moduleRoot is the directory of go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// goBuild builds the package pkg of the module into dir/name.
func goBuild(ctx context.Context, t *testing.T, goBin, root, pkg, out string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, pkg)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, output)
	}
	return out
}

// process is a child started by the test; its output goes to a log file
// that is printed when the test fails.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// start runs a child for the rest of the test. Cleanup kills it (and waits
// for it) before the temporary directories it uses are removed.
func start(ctx context.Context, t *testing.T, dir, name string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(dir, filepath.Base(name)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A child of its own process group gets no terminal signals meant for
	// the test, and a kill reaches anything it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: filepath.Base(name), cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("--- last lines of %s's log ---\n%s", p.name, tail(p.log, 40))
		}
	})
	return p
}

// kill ends the child (and its process group) and waits for it.
func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// exited reports an error if the child is no longer running.
func (p *process) exited() error {
	select {
	case <-p.done:
		if p.err == nil {
			return fmt.Errorf("%s exited early (log: %s)", p.name, tail(p.log, 20))
		}
		return fmt.Errorf("%s exited: %w (log: %s)", p.name, p.err, tail(p.log, 20))
	default:
		return nil
	}
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// eventually calls check every interval until it succeeds, the context ends
// or the limit passes, and returns check's last error in the last two cases.
func eventually(ctx context.Context, limit, interval time.Duration, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(interval):
		}
	}
}

// waitReady waits for url to answer 200 while the child keeps running.
func waitReady(ctx context.Context, t *testing.T, p *process, url string) {
	t.Helper()
	err := eventually(ctx, time.Minute, 200*time.Millisecond, func() error {
		if err := p.exited(); err != nil {
			return err
		}
		_, err := httpGet(ctx, url)
		return err
	})
	if err != nil {
		t.Fatalf("%s not ready: %v", p.name, err)
	}
}

// httpGet returns the body of a 200 answer to GET url.
func httpGet(ctx context.Context, url string) ([]byte, error) {
	ans, err := httpcall.Do(ctx, &http.Client{Timeout: 15 * time.Second}, httpcall.Request{URL: url}, nil)
	if err == nil {
		err = ans.StatusError()
	}
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return ans.Body, nil
}

// run executes a short command and returns its combined output.
func run(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		err = fmt.Errorf("%s %s: %w", filepath.Base(name), strings.Join(args, " "), err)
	}
	return string(out), err
}

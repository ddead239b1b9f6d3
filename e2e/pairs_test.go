package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// currentBinEnv names the directory of the current Prometheus, promtool and
// Alertmanager; by default the Go bin directory, where .ci/run installs
// them at pinned versions with go install.
const currentBinEnv = "AGENTGATEWAY_E2E_CURRENT_BIN"

// pair is one Prometheus (with its promtool) and one Alertmanager that the
// end-to-end checks run against.
type pair struct {
	name                               string // subtest name
	goBin                              string
	prometheus, promtool, alertmanager string // paths; empty when not found
	missing                            []string
	hint                               string // how to install what is missing
}

// versions is a one-line account of the pair, for the test log.
func (p pair) versions(ctx context.Context) string {
	return fmt.Sprintf("%s (%s), %s (%s), %s (%s)",
		p.prometheus, versionOf(ctx, p.goBin, p.prometheus), p.promtool, versionOf(ctx, p.goBin, p.promtool),
		p.alertmanager, versionOf(ctx, p.goBin, p.alertmanager))
}

// require skips the calling test when part of the pair is missing, or fails
// it under AGENTGATEWAY_E2E_REQUIRED=1.
func (p pair) require(t *testing.T) {
	t.Helper()
	if len(p.missing) == 0 {
		return
	}
	msg := fmt.Sprintf("the %s pair needs %s (%s)", p.name, strings.Join(p.missing, ", "), p.hint)
	if os.Getenv(requiredEnv) == "1" {
		t.Fatal(msg + "; " + requiredEnv + "=1 is set")
	}
	t.Skip(msg + "; set " + requiredEnv + "=1 to fail instead of skipping")
}

// findPairs locates the two pairs: the packaged one, found in PATH (in CI,
// Debian's Prometheus 2 and Alertmanager), and the current one, in the Go
// bin directory or $AGENTGATEWAY_E2E_CURRENT_BIN. Both install a program
// called prometheus and one called promtool, so PATH order must not decide:
// the packaged pair takes the first of each in PATH that is not the
// current pair's.
func findPairs(ctx context.Context, goBin string) []pair {
	dir := os.Getenv(currentBinEnv)
	if dir == "" {
		dir = goBinDir(ctx, goBin)
	}
	current := pair{
		name:  "current",
		goBin: goBin,
		hint:  fmt.Sprintf("in %s, or the directory named by %s; .ci/run installs them with go install at the versions it pins", dir, currentBinEnv),
	}
	current.prometheus = inDir(dir, "prometheus", &current.missing)
	current.promtool = inDir(dir, "promtool", &current.missing)
	current.alertmanager = inDir(dir, "alertmanager", &current.missing)

	packaged := pair{name: "packaged", goBin: goBin, hint: "in PATH; Debian: apt-get install prometheus prometheus-alertmanager"}
	notCurrent := []string{current.prometheus, current.promtool, current.alertmanager}
	packaged.prometheus = inPath(notCurrent, &packaged.missing, "prometheus")
	packaged.promtool = inPath(notCurrent, &packaged.missing, "promtool")
	packaged.alertmanager = inPath(notCurrent, &packaged.missing, "prometheus-alertmanager", "alertmanager")
	return []pair{packaged, current}
}

// goBinDir is where go install puts programs: GOBIN, or the bin directory
// of the first GOPATH entry.
func goBinDir(ctx context.Context, goBin string) string {
	out, err := exec.CommandContext(ctx, goBin, "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return ""
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) >= 2 {
		if gobin := strings.TrimSpace(lines[0]); gobin != "" {
			return gobin
		}
		return filepath.Join(filepath.SplitList(strings.TrimSpace(lines[1]))[0], "bin")
	}
	return ""
}

func inDir(dir, name string, missing *[]string) string {
	path := filepath.Join(dir, name)
	if dir != "" && isExecutable(path) {
		return path
	}
	*missing = append(*missing, name)
	return ""
}

// inPath returns the first of names found in a PATH directory that is not
// one of the excluded files.
func inPath(exclude []string, missing *[]string, names ...string) string {
	for _, name := range names {
		for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
			if dir == "" {
				dir = "."
			}
			path := filepath.Join(dir, name)
			if isExecutable(path) && !sameFileAsAny(path, exclude) {
				return path
			}
		}
	}
	*missing = append(*missing, strings.Join(names, " or "))
	return ""
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0
}

func sameFileAsAny(path string, others []string) bool {
	info, err := os.Stat(path)
	if err != nil {
		return false
	}
	for _, other := range others {
		if o, err := os.Stat(other); other != "" && err == nil && os.SameFile(info, o) {
			return true
		}
	}
	return false
}

var versionWord = regexp.MustCompile(`version ([0-9][^\s(]*)`)

// versionOf is what the program's --version says its version is or, for a
// program that go install built without version flags, the version of the
// module it was built from.
func versionOf(ctx context.Context, goBin, path string) string {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return "version unknown: " + err.Error()
	}
	if m := versionWord.FindSubmatch(out); m != nil {
		return string(m[1])
	}
	if info, err := exec.CommandContext(ctx, goBin, "version", "-m", path).Output(); err == nil {
		for _, line := range strings.Split(string(info), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[0] == "mod" {
				return "module " + f[1] + "@" + f[2]
			}
		}
	}
	return "version unknown"
}

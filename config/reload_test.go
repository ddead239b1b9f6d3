package config

import (
	"bytes"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
)

// TestReloaderSaysWhatHappened: a bad file at start-up is not "keeping the
// previous one" (there is none); every problem is logged on its own line;
// the load time is kept for the landing page and survives a failed reload.
func TestReloaderSaysWhatHappened(t *testing.T) {
	content := "gateways:\n  - name: main\n    url: nope\n    timeout: 5\n    agents: [{id: \"1001\", guid: g}]\n"
	var logged bytes.Buffer
	r := NewReloader(func() (*Config, error) { return Load([]byte(content), "agents.yml") },
		func(*Config) error { return nil }, log.NewLogfmtLogger(&logged), prometheus.NewRegistry())

	if err := r.Reload(); err == nil {
		t.Fatal("invalid file loaded")
	}
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per problem (2):\n%s", logged.String())
	}
	for i, want := range []string{"agents.yml:3: gateway", "agents.yml:4: gateway"} {
		if !strings.Contains(lines[i], `msg="cannot start: the configuration is invalid"`) || !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s, want the start-up message and %q", i, lines[i], want)
		}
	}
	if at, _ := r.LoadedAt(); !at.IsZero() {
		t.Errorf("LoadedAt = %v before any success", at)
	}

	content = "gateways:\n  - name: main\n    url: http://h\n    agents: [{id: \"1001\", guid: g}]\n"
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	loadedAt, failed := r.LoadedAt()
	if loadedAt.IsZero() || failed {
		t.Errorf("after a success: LoadedAt = %v, failed = %v", loadedAt, failed)
	}

	logged.Reset()
	content = "gateways: [\n"
	if err := r.Reload(); err == nil {
		t.Fatal("invalid file loaded")
	}
	if !strings.Contains(logged.String(), "keeping the previous one") || strings.Contains(logged.String(), "cannot start") {
		t.Errorf("failed reload logged as:\n%s", logged.String())
	}
	if at, failed := r.LoadedAt(); !at.Equal(loadedAt) || !failed {
		t.Errorf("after a failed reload: LoadedAt = %v (want %v), failed = %v", at, loadedAt, failed)
	}
}

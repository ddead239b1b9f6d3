package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestDashboardIsGenerated keeps grafana/agentgateway.json what
// grafana/generate.go makes, so that nobody edits one and not the other.
func TestDashboardIsGenerated(t *testing.T) {
	goBin := lookBinary(t, "the Go toolchain", "go")
	root := moduleRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "run", "grafana/generate.go")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	generated, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run grafana/generate.go: %v\n%s", err, stderr.String())
	}
	committed, err := os.ReadFile(filepath.Join(root, "grafana", "agentgateway.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(generated, committed) {
		t.Error("grafana/agentgateway.json differs from the generator's output; run: go run grafana/generate.go > grafana/agentgateway.json")
	}
}

// TestDashboardPanels checks what Grafana would accept silently but a user
// would trip over: panels without a unit or bound to a fixed data source.
func TestDashboardPanels(t *testing.T) {
	board, err := loadDashboard(filepath.Join(moduleRoot(t), "grafana", "agentgateway.json"))
	if err != nil {
		t.Fatal(err)
	}
	if board.SchemaVersion < 39 {
		t.Errorf("schemaVersion %d, want 39 or later", board.SchemaVersion)
	}
	ids := map[int]bool{}
	for _, p := range board.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.FieldConfig.Defaults.Unit == "" {
			t.Errorf("panel %q has no unit", p.Title)
		}
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q uses data source %q, not ${datasource}", p.Title, p.Datasource.UID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			if target.Datasource.UID != "${datasource}" || target.Expr == "" {
				t.Errorf("panel %q: query %q on data source %q", p.Title, target.Expr, target.Datasource.UID)
			}
		}
	}
}

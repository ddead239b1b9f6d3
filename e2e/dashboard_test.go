package e2e

import (
	"path/filepath"
	"testing"
)

// That grafana/agentgateway.json is what its generator makes is tested in
// the grafana module (cd grafana && go test ./...), which keeps the
// generator's dependencies out of this one.

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

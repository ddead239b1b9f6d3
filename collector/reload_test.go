package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentgateway/agentgateway_exporter/config"
)

func applyYAML(t *testing.T, e *Exporter, yaml string) {
	t.Helper()
	cfg, err := config.Load([]byte(yaml), filepath.Join(t.TempDir(), "agents.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
}

func TestReloadKeepsStateOfRemainingAgentsAndForgetsRemovedOnes(t *testing.T) {
	gw := newFakeGateway(t)
	e := newTestExporter(t, gw.configYAML(4, "1001", "1002"), nil)
	gw.set("1001", talkingA.body())
	gw.set("1002", talkingA.body())
	scrapeText(t, e)
	gw.set("1001", endedA.body())
	gw.set("1002", endedA.body())
	scrapeText(t, e)

	applyYAML(t, e, gw.configYAML(2, "1001", "1003"))
	gw.set("1003", noCallBody)
	out := scrapeText(t, e)
	if strings.Contains(out, `value:"1002"`) {
		t.Errorf("removed agent 1002 still in the output:\n%s", out)
	}
	if got := leaveCount(t, e, "16"); got != 1 {
		t.Errorf("agent 1001's counter after reload = %v, want 1 (kept, not reset or recounted)", got)
	}
	if got := seriesValue(t, e, "agentgateway_agent_up", map[string]string{"agent_id": "1003"}); got != 1 {
		t.Errorf("added agent 1003 up = %v, want 1", got)
	}
	// Re-adding an agent starts from a fresh baseline: its old call is not
	// counted a second time.
	applyYAML(t, e, gw.configYAML(2, "1001", "1002"))
	if got := seriesValue(t, e, "agentgateway_call_leave_reason_total", map[string]string{"agent_id": "1002", "reason": "16"}); got != 0 {
		t.Errorf("re-added agent 1002 counted its old call again: %v", got)
	}
}

func TestGuidFileRotationTakesEffectNextScrape(t *testing.T) {
	gw := newFakeGateway(t)
	dir := t.TempDir()
	guidFile := filepath.Join(dir, "1001.guid")
	if err := os.WriteFile(guidFile, []byte("first-guid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := "gateways:\n  - name: main\n    url: " + gw.server.URL + "\n    agents:\n      - id: \"1001\"\n        guid_file: " + guidFile + "\n"
	e := newTestExporter(t, yaml, nil)
	gw.set("1001", noCallBody)
	scrapeText(t, e)
	if got := gw.guidSeen("1001"); got != "first-guid" {
		t.Fatalf("Guid sent = %q, want first-guid", got)
	}
	if err := os.WriteFile(guidFile, []byte("second-guid-longer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	scrapeText(t, e)
	if got := gw.guidSeen("1001"); got != "second-guid-longer" {
		t.Fatalf("Guid sent after rotation = %q, want second-guid-longer", got)
	}
	// An unreadable file keeps the last good Guid rather than sending none.
	if err := os.Remove(guidFile); err != nil {
		t.Fatal(err)
	}
	scrapeText(t, e)
	if got := gw.guidSeen("1001"); got != "second-guid-longer" {
		t.Fatalf("Guid sent with the file gone = %q, want the previous one", got)
	}
}

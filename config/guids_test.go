package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// TestGUIDSupplySettings: an agent without guid or guid_file is valid
// only when its gateway has a guid_dir or push is on; guid_dir must be a
// directory.
func TestGUIDSupplySettings(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	const agentsOnly = "    agents:\n      - id: \"1001\"\n      - id: \"1002\"\n        guid: g\n"
	gateway := func(settings string) string {
		return "gateways:\n  - name: main\n    url: http://127.0.0.1:8043\n" + settings + agentsOnly
	}
	tests := []struct {
		name    string
		yaml    string
		push    bool
		wantErr string
	}{
		{name: "no source, no push", yaml: gateway(""),
			wantErr: `agents.yml:5: gateway "main": agent "1001": needs guid or guid_file (or guid_dir on its gateway, or the push API)`},
		{name: "push on", yaml: gateway(""), push: true},
		{name: "guid_dir", yaml: gateway("    guid_dir: guids\n    guid_ttl: 110s\n")},
		{name: "guid_dir missing", yaml: gateway("    guid_dir: nowhere\n"),
			wantErr: `agents.yml:4: gateway "main": guid_dir: stat ` + filepath.Join(dir, "nowhere") + `: no such file or directory`},
		{name: "guid_dir a file", yaml: gateway("    guid_dir: plain\n"),
			wantErr: `agents.yml:4: gateway "main": guid_dir ` + filepath.Join(dir, "plain") + ` is not a directory`},
	}
	if err := os.Mkdir(filepath.Join(dir, "guids"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := filepath.Join(dir, "agents.yml")
			cfg, err := Load([]byte(tt.yaml), name, WithGUIDPush(tt.push))
			want := strings.ReplaceAll(tt.wantErr, "agents.yml:", name+":")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != want):
				t.Fatalf("error\n got: %v\nwant: %s", err, want)
			case err != nil:
				return
			}
			gw := cfg.Gateways[0]
			if strings.Contains(tt.yaml, "guid_dir") && gw.GUIDDir != filepath.Join(dir, "guids") {
				t.Errorf("guid_dir %q not resolved against the configuration's directory", gw.GUIDDir)
			}
			if strings.Contains(tt.yaml, "guid_ttl") && gw.GUIDTTL != model.Duration(110*time.Second) {
				t.Errorf("guid_ttl %v", gw.GUIDTTL)
			}
		})
	}
}

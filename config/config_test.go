package config

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

const validConfig = `gateways:
  - name: main
    url: https://10.1.2.3:8043
    timeout: 3s
    concurrency: 8
    include_last_call: false
    tls_config: { insecure_skip_verify: true }
    agents:
      - id: "1001"
        guid: "inline-secret-guid"
      - id: "1002"
        guid_file: testdata/1002.guid
  - name: backup
    url: http://127.0.0.1:8043/
    agents:
      - id: "101"
        guid: "g"
`

func TestLoadValid(t *testing.T) {
	cfg, err := Load([]byte(validConfig), "agents.yml")
	if err != nil {
		t.Fatal(err)
	}
	main, backup := cfg.Gateways[0], cfg.Gateways[1]
	if main.Timeout != model.Duration(3*time.Second) || main.Concurrency != 8 || main.IncludesLastCall() {
		t.Errorf("main gateway settings not read: %+v", main)
	}
	if !main.HTTPClientConfig.TLSConfig.InsecureSkipVerify {
		t.Error("inline tls_config not read")
	}
	if backup.Timeout != DefaultTimeout || backup.Concurrency != DefaultConcurrency || !backup.IncludesLastCall() {
		t.Errorf("defaults not applied: %+v", backup)
	}
	if got := main.Agents[1].GUIDFile; got != filepath.Join("testdata", "1002.guid") {
		t.Errorf("guid_file = %q", got)
	}
	if guid, err := ReadGUIDFile(main.Agents[1].GUIDFile); err != nil || guid != "3f2a-guid-from-file" {
		t.Errorf("ReadGUIDFile = %q, %v", guid, err)
	}
	if main.Agents[1].Line() != 11 {
		t.Errorf("agent line = %d, want 11", main.Agents[1].Line())
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		wantErr string
	}{
		{"unknown key", replace("    concurrency: 8\n", "    concurrency: 8\n    concurency: 4\n"),
			"agents.yml:6: field concurency not found in type config.Gateway"},
		{"unknown agent key", replace(`        guid: "g"`, `        guid: "g"`+"\n        password: x"),
			"agents.yml:18: field password not found in type config.Agent"},
		{"bad YAML", replace("    agents:\n      - id: \"101\"", "    agents:\n     - id: \"101\"\n    - x"),
			"agents.yml:18: mapping values are not allowed in this context"},
		{"bad URL", replace("https://10.1.2.3:8043", "10.1.2.3:8043"),
			`agents.yml:2: gateway "main": url "10.1.2.3:8043" is not an http(s) URL with a host`},
		{"duplicate gateway", replace("name: backup", "name: main"),
			`agents.yml:13: gateway "main": duplicate name (first defined at line 2)`},
		{"agent id too small", replace(`id: "101"`, `id: "100"`),
			`agents.yml:16: gateway "backup": agent "100": id must be digits from 101 to 999999`},
		{"agent id too large", replace(`id: "101"`, `id: "1000000"`),
			`agents.yml:16: gateway "backup": agent "1000000": id must be digits from 101 to 999999`},
		{"agent id not digits", replace(`id: "101"`, `id: "1O1"`),
			`agents.yml:16: gateway "backup": agent "1O1": id must be digits from 101 to 999999`},
		{"duplicate agent", replace(`id: "1002"`, `id: "1001"`),
			`agents.yml:11: gateway "main": agent "1001": duplicate id (first defined at line 9)`},
		{"no Guid source", replace(`        guid: "g"`, ``),
			`agents.yml:16: gateway "backup": agent "101": needs guid or guid_file (or guid_dir on its gateway, or the push API)`},
		{"both Guid sources", replace(`        guid: "g"`, `        guid: "g"`+"\n        guid_file: x.guid"),
			`agents.yml:16: gateway "backup": agent "101": give guid or guid_file, not both`},
		{"unreadable guid_file", replace("testdata/1002.guid", "testdata/missing.guid"),
			`agents.yml:11: gateway "main": agent "1002": guid_file: open testdata/missing.guid: no such file or directory`},
		{"no agents", func(string) string { return "gateways:\n  - name: x\n    url: http://h\n" },
			`agents.yml:2: gateway "x": no agents configured`},
		{"no gateways", func(string) string { return "gateways: []\n" }, "agents.yml: no gateways configured"},
		{"negative concurrency", replace("concurrency: 8", "concurrency: -1"),
			`agents.yml:2: gateway "main": concurrency must be positive`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.edit(validConfig)), "agents.yml")
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.wantErr)
			}
		})
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test edit does not apply: " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func TestStringMasksGuids(t *testing.T) {
	cfg, err := Load([]byte(validConfig), "agents.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Gateways[0].BaseURL.User = url.UserPassword("user", "url-password")
	printed := cfg.String()
	if strings.Contains(printed, "url-password") {
		t.Errorf("printed configuration contains the URL password:\n%s", printed)
	}
	if strings.Contains(printed, "inline-secret-guid") {
		t.Errorf("printed configuration contains a Guid:\n%s", printed)
	}
	if !strings.Contains(printed, "<secret>") {
		t.Errorf("printed configuration does not show the masked Guid:\n%s", printed)
	}
}

func TestLoadFileResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.guid"), []byte("guid-a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "agents.yml")
	content := "gateways:\n  - name: g\n    url: http://127.0.0.1:1\n    agents:\n      - id: \"1001\"\n        guid_file: a.guid\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Gateways[0].Agents[0].GUIDFile; got != filepath.Join(dir, "a.guid") {
		t.Errorf("guid_file = %q, want it next to the configuration", got)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.yml")); err == nil || !strings.Contains(err.Error(), "missing.yml") {
		t.Errorf("missing file error does not name it: %v", err)
	}
}

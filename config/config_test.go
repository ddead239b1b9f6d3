package config

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
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
			`agents.yml:6: gateway "main": unknown key "concurency" (did you mean "concurrency"?)`},
		{"unknown agent key", replace(`        guid: "g"`, `        guid: "g"`+"\n        password: x"),
			`agents.yml:18: gateway "backup": agent "101": unknown key "password"`},
		{"bad YAML", replace("    agents:\n      - id: \"101\"", "    agents:\n     - id: \"101\"\n    - x"),
			"agents.yml:18: mapping values are not allowed in this context"},
		{"bad URL", replace("https://10.1.2.3:8043", "10.1.2.3:8043"),
			`agents.yml:3: gateway "main": url "10.1.2.3:8043" is not an http(s) URL with a host`},
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
			`agents.yml:18: gateway "backup": agent "101": give guid or guid_file, not both`},
		{"unreadable guid_file", replace("testdata/1002.guid", "testdata/missing.guid"),
			`agents.yml:12: gateway "main": agent "1002": guid_file: open testdata/missing.guid: no such file or directory`},
		{"no agents", func(string) string { return "gateways:\n  - name: x\n    url: http://h\n" },
			`agents.yml:2: gateway "x": no agents configured`},
		{"no gateways", func(string) string { return "gateways: []\n" }, "agents.yml: no gateways configured"},
		{"negative concurrency", replace("concurrency: 8", "concurrency: -1"),
			`agents.yml:5: gateway "main": concurrency must be positive`},
		{"duration without unit", replace("timeout: 3s", "timeout: 5"),
			`agents.yml:4: gateway "main": timeout must be a duration such as 5s, 1m or 1m30s, not "5"`},
		{"not a number", replace("concurrency: 8", "concurrency: many"),
			`agents.yml:5: gateway "main": concurrency must be a whole number, not "many"`},
		{"not a boolean", replace("include_last_call: false", "include_last_call: sometimes"),
			`agents.yml:6: gateway "main": include_last_call must be true or false, not "sometimes"`},
		{"nested unknown key", replace("insecure_skip_verify: true", "insecure_skip_verify: true, ca_fil: ca.pem"),
			`agents.yml:7: gateway "main": unknown key "tls_config.ca_fil" (did you mean "tls_config.ca_file"?)`},
		{"nested bad value", replace("insecure_skip_verify: true", "insecure_skip_verify: yes please"),
			`agents.yml:7: gateway "main": tls_config.insecure_skip_verify must be true or false, not "yes please"`},
		{"missing ca_file", replace("{ insecure_skip_verify: true }", "\n      ca_file: testdata/missing-ca.pem"),
			`agents.yml:8: gateway "main": tls_config.ca_file: open testdata/missing-ca.pem: no such file or directory`},
		{"ca_file not a certificate", replace("{ insecure_skip_verify: true }", "{ ca_file: testdata/1002.guid }"),
			`agents.yml:7: gateway "main": unable to use specified CA cert file testdata/1002.guid`},
		{"missing password_file", replace("url: http://127.0.0.1:8043/", "url: http://127.0.0.1:8043/\n    basic_auth: { username: u, password_file: testdata/missing.pw }"),
			`agents.yml:15: gateway "backup": basic_auth.password_file: open testdata/missing.pw: no such file or directory`},
		{"conflicting client settings", replace("url: http://127.0.0.1:8043/", "url: http://127.0.0.1:8043/\n    bearer_token: t\n    basic_auth: { username: u }"),
			`agents.yml:16: gateway "backup": at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured`},
		{"duplicate key", replace("    concurrency: 8\n", "    concurrency: 8\n    concurrency: 9\n"),
			`agents.yml:6: gateway "main": concurrency is given twice (first at line 5)`},
		{"guid not text", replace(`guid: "inline-secret-guid"`, `guid: [inline-secret-guid]`),
			`agents.yml:10: gateway "main": agent "1001": guid must be text, not a list`},
		{"gateways not a list", func(string) string { return "gateways: main\n" },
			"agents.yml:1: gateways must be a list of gateways"},
		{"agent not a mapping", replace(`      - id: "101"`+"\n", "      - 101\n      - id: \"101\"\n"),
			`agents.yml:16: gateway "backup": agent 1 must be a mapping of settings, not "101"`},
		{"empty file", func(string) string { return "" }, "agents.yml: no gateways configured"},
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

// TestLoadReportsEveryError: a file with several problems gets all of them
// at once, in line order, each at the line of its key.
func TestLoadReportsEveryError(t *testing.T) {
	content := `gateways:
  - name: main
    url: 10.1.2.3:8043
    timeout: 5
    concurency: 4
    tls_config:
      ca_file: testdata/missing-ca.pem
    agents:
      - id: "1001"
        guid: g
      - id: "99"
        guid: g
  - name: main
    url: http://h
    agents:
      - id: "1001"
`
	_, err := Load([]byte(content), "agents.yml")
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`agents.yml:3: gateway "main": url "10.1.2.3:8043" is not an http(s) URL with a host`,
		`agents.yml:4: gateway "main": timeout must be a duration such as 5s, 1m or 1m30s, not "5"`,
		`agents.yml:5: gateway "main": unknown key "concurency" (did you mean "concurrency"?)`,
		`agents.yml:7: gateway "main": tls_config.ca_file: open testdata/missing-ca.pem: no such file or directory`,
		`agents.yml:11: gateway "main": agent "99": id must be digits from 101 to 999999`,
		`agents.yml:13: gateway "main": duplicate name (first defined at line 2)`,
		`agents.yml:16: gateway "main": agent "1001": needs guid or guid_file (or guid_dir on its gateway, or the push API)`,
	}
	problems := Problems(err)
	var got []string
	for _, p := range problems {
		got = append(got, p.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err.Error() != strings.Join(want, "\n") {
		t.Errorf("joined error text:\n%s", err)
	}
}

// TestErrorsInUserWords: whatever is written in the wrong shape, the
// message names the key and what it takes, never a Go type or the YAML
// library's tags, and never an inline Guid.
func TestErrorsInUserWords(t *testing.T) {
	goType := regexp.MustCompile(`\b(config|model|url|time)\.[A-Z]|!!|unmarshal|yaml|reflect|\*`)
	values := []string{"[1, 2]", "{a: b}", "maybe", "-3", "1.5", "0x", "''", "~"}
	keys := []string{"name", "url", "timeout", "concurrency", "include_last_call", "max_requests_per_second",
		"min_interval", "tls_config", "basic_auth", "proxy_url", "follow_redirects", "http_headers", "agents"}
	base := map[string]string{
		"name":   "    name: main\n",
		"url":    "    url: http://h\n",
		"agents": "    agents: [{id: \"1001\", guid: inline-secret-guid}]\n",
	}
	for _, key := range keys {
		for _, value := range values {
			content := "gateways:\n  - " + key + ": " + value + "\n"
			for k, line := range base {
				if k != key {
					content += line
				}
			}
			_, err := Load([]byte(content), "agents.yml")
			if err == nil {
				continue
			}
			for _, p := range Problems(err) {
				if msg := p.Error(); goType.MatchString(msg) || !strings.HasPrefix(msg, "agents.yml:") {
					t.Errorf("%s: %s → %q", key, value, msg)
				}
			}
		}
	}
	for _, value := range []string{"[inline-secret-guid]", "{inline-secret-guid: 1}"} {
		_, err := Load([]byte("gateways:\n  - name: g\n    url: http://h\n    agents:\n      - id: \"1001\"\n        guid: "+value+"\n"), "agents.yml")
		if err == nil || strings.Contains(err.Error(), "inline-secret") || !strings.Contains(err.Error(), "agents.yml:6:") {
			t.Errorf("guid: %s → %v", value, err)
		}
	}
}

// TestMergeKeys: shared settings written once with an anchor and merged
// into each gateway are read, and stay strict.
func TestMergeKeys(t *testing.T) {
	content := `defaults: &defaults
  timeout: 2s
  concurrency: 3
gateways:
  - <<: *defaults
    name: main
    url: http://h
    agents: [{id: "1001", guid: g}]
`
	cfg, err := Load([]byte("x: 1\n"+content), "agents.yml")
	if err == nil || !strings.Contains(err.Error(), `agents.yml:1: unknown key "x"`) {
		t.Errorf("unknown top-level key: %v", err)
	}
	_ = cfg
	// The anchor has to live somewhere the file allows: inside a gateway.
	content = `gateways:
  - &main
    name: main
    url: http://h
    timeout: 2s
    concurrency: 3
    agents: [{id: "1001", guid: g}]
  - <<: *main
    name: backup
`
	cfg, err = Load([]byte(content), "agents.yml")
	if err != nil {
		t.Fatal(err)
	}
	backup := cfg.Gateways[1]
	if backup.Name != "backup" || backup.Timeout != model.Duration(2*time.Second) || backup.Concurrency != 3 || len(backup.Agents) != 1 {
		t.Errorf("merged gateway = %+v", backup)
	}
}

func TestNearestKey(t *testing.T) {
	fields := fieldsOf(reflect.TypeFor[Gateway]())
	for key, want := range map[string]string{
		"concurency":        "concurrency",
		"timout":            "timeout",
		"include_lastcall":  "include_last_call",
		"tls_confg":         "tls_config",
		"agent":             "agents",
		"password":          "", // nothing close
		"x":                 "", // too short to guess
		"min_intervals":     "min_interval",
		"max_request_per_s": "",
	} {
		if got := nearestKey(key, fields); got != want {
			t.Errorf("nearestKey(%q) = %q, want %q", key, got, want)
		}
	}
}

package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary files to the loader. It must never panic; a
// failure must be a located *Error; a success must be a configuration the
// exporter can run (defaults applied, every agent valid), and printing it
// must not depend on the inline Guids. The seed corpus in
// testdata/fuzz/FuzzLoad holds real-shaped files.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(validConfig))
	f.Fuzz(func(t *testing.T, content []byte) {
		cfg, err := Load(content, "agents.yml")
		if err != nil {
			var cfgErr *Error
			if !errors.As(err, &cfgErr) || cfgErr.Msg == "" {
				t.Fatalf("error %q (%T) is not a located configuration error", err, err)
			}
			return
		}
		checkRunnable(t, cfg)
		printed := cfg.String()
		for _, gw := range cfg.Gateways {
			for _, a := range gw.Agents {
				if a.GUID != "" {
					a.GUID = "replaced-" + a.GUID
				}
			}
		}
		if cfg.String() != printed {
			t.Fatalf("the printed configuration changes with the Guids:\n%s", printed)
		}
	})
}

func checkRunnable(t *testing.T, cfg *Config) {
	t.Helper()
	if len(cfg.Gateways) == 0 {
		t.Fatal("accepted a configuration without gateways")
	}
	for _, gw := range cfg.Gateways {
		switch {
		case gw == nil || gw.BaseURL == nil || gw.BaseURL.Host == "":
			t.Fatalf("accepted a gateway without a usable URL: %+v", gw)
		case gw.BaseURL.Scheme != "http" && gw.BaseURL.Scheme != "https":
			t.Fatalf("accepted scheme %q", gw.BaseURL.Scheme)
		case gw.Timeout <= 0 || gw.Concurrency <= 0 || gw.MaxRequestsPerSecond < 0 || gw.MinInterval < 0:
			t.Fatalf("accepted gateway %q with timeout %v, concurrency %d, rate %v, min_interval %v",
				gw.Name, gw.Timeout, gw.Concurrency, gw.MaxRequestsPerSecond, gw.MinInterval)
		case len(gw.Agents) == 0:
			t.Fatalf("accepted gateway %q without agents", gw.Name)
		}
		for _, a := range gw.Agents {
			if a == nil || !validAgentID(a.ID) || (a.GUID == "") == (a.GUIDFile == "") {
				t.Fatalf("accepted agent %+v of gateway %q", a, gw.Name)
			}
		}
		checkQueues(t, gw)
	}
}

// TestGUIDFileBounded: a guid_file naming something that is not a small
// Guid file is refused without being read whole, and its content stays out
// of the error.
func TestGUIDFileBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.guid")
	content := strings.Repeat("not-a-guid-", 100<<10)
	if err := os.WriteFile(big, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := "gateways:\n  - name: g\n    url: http://127.0.0.1:1\n    agents:\n      - id: \"1001\"\n        guid_file: big.guid\n"
	_, err := Load([]byte(yaml), filepath.Join(dir, "agents.yml"))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a 1 MiB guid_file was accepted or misreported: %.200v", err)
	}
	if strings.Contains(err.Error(), "not-a-guid") {
		t.Errorf("error quotes the file: %.200s", err)
	}
	_, err = Load([]byte(strings.ReplaceAll(yaml, "big.guid", ".")), filepath.Join(dir, "agents.yml"))
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory as guid_file: %v", err)
	}
}

// TestURLPasswordNotInErrors: a gateway URL may carry basic-auth
// credentials; the error for a bad URL must not repeat the password.
func TestURLPasswordNotInErrors(t *testing.T) {
	yaml := "gateways:\n  - name: g\n    url: htps://exporter:s3cret-pass@gw.example:8043\n    agents:\n      - id: \"1001\"\n        guid: g\n"
	_, err := Load([]byte(yaml), "agents.yml")
	if err == nil {
		t.Fatal("a URL with scheme htps was accepted")
	}
	if strings.Contains(err.Error(), "s3cret-pass") || !strings.Contains(err.Error(), "gw.example") {
		t.Errorf("error = %v, want the URL without its password", err)
	}
}

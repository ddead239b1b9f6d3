//go:build unix

package config

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGUIDFilePipe: a named pipe as guid_file would block the loader (and
// a reload) forever waiting for a writer; it is refused at once.
func TestGUIDFilePipe(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.guid"), 0o600); err != nil {
		t.Skipf("cannot make a named pipe: %v", err)
	}
	yaml := "gateways:\n  - name: g\n    url: http://127.0.0.1:1\n    agents:\n      - id: \"1001\"\n        guid_file: pipe.guid\n"
	done := make(chan error, 1)
	go func() {
		_, err := Load([]byte(yaml), filepath.Join(dir, "agents.yml"))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("named pipe as guid_file: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("loading a configuration with a named pipe as guid_file blocked")
	}
}

package logging

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/go-kit/log/level"
	"github.com/go-logfmt/logfmt"
)

// TestOneKeySet: lines from the exporter's go-kit logger and from the slog
// bridge (what exporter-toolkit writes) have the same leading keys in the
// same order, in both formats, and the level filter holds for both.
func TestOneKeySet(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			logger, slogger := New(&Config{Level: "info", Format: format}, &buf)
			level.Info(logger).Log("msg", "from go-kit", "gateway", "main")
			slogger.Info("from slog", "address", "127.0.0.1:10025")
			slogger.With("http2", false).Warn("from slog with attrs")
			level.Debug(logger).Log("msg", "filtered go-kit")
			slogger.Debug("filtered slog")

			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 3 {
				t.Fatalf("%d lines, want 3 (debug filtered out):\n%s", len(lines), buf.String())
			}
			want := []string{"level", "ts", "caller", "msg"}
			for _, line := range lines {
				keys, values := parseLine(t, format, line)
				if format == "json" {
					slices.Sort(keys) // JSON objects have no order
					keys = slices.DeleteFunc(keys, func(k string) bool { return !slices.Contains(want, k) })
					if !slices.Equal(keys, []string{"caller", "level", "msg", "ts"}) {
						t.Errorf("keys %v, want %v: %s", keys, want, line)
					}
				} else if len(keys) < 4 || !slices.Equal(keys[:4], want) {
					t.Errorf("leading keys %v, want %v: %s", keys, want, line)
				}
				if strings.Contains(line, `time`) {
					t.Errorf("line has a second time key: %s", line)
				}
				if ts := values["ts"]; !strings.HasSuffix(ts, "Z") || !strings.Contains(ts, "T") {
					t.Errorf("ts %q is not UTC RFC 3339: %s", ts, line)
				}
				if !strings.Contains(values["caller"], ".go:") {
					t.Errorf("caller %q is not file:line: %s", values["caller"], line)
				}
			}
		})
	}
}

func parseLine(t *testing.T, format, line string) (keys []string, values map[string]string) {
	t.Helper()
	values = map[string]string{}
	if format == "json" {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		for k, v := range m {
			keys = append(keys, k)
			if s, ok := v.(string); ok {
				values[k] = s
			}
		}
		return keys, values
	}
	dec := logfmt.NewDecoder(strings.NewReader(line))
	for dec.ScanRecord() {
		for dec.ScanKeyval() {
			keys = append(keys, string(dec.Key()))
			values[string(dec.Key())] = string(dec.Value())
		}
	}
	if err := dec.Err(); err != nil {
		t.Fatalf("not logfmt: %s: %v", line, err)
	}
	return keys, values
}

package collector

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestProbeSelection(t *testing.T) {
	gw := newFakeGateway(t)
	ids := []string{"1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008"}
	e := newTestExporter(t, gw.configYAML(4, ids...), nil)
	for _, id := range ids {
		gw.set(id, noCallBody)
	}
	handler := e.ProbeHandler(HandlerOptions{DefaultTimeout: 5 * time.Second})
	probe := func(query string) (int, string) {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/probe?"+query, nil))
		return rec.Code, rec.Body.String()
	}

	seen := map[string]int{}
	const shards = 3
	for shard := range shards {
		code, body := probe("gateway=main&shards=3&shard=" + string(rune('0'+shard)))
		if code != http.StatusOK {
			t.Fatalf("shard %d: status %d: %s", shard, code, body)
		}
		for _, id := range ids {
			if strings.Contains(body, `agentgateway_agent_up{agent_id="`+id+`"`) {
				seen[id]++
				if shardOf(id, shards) != shard {
					t.Errorf("agent %s served by shard %d, belongs to %d", id, shard, shardOf(id, shards))
				}
			}
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("agent %s served by %d shards, want exactly 1", id, seen[id])
		}
	}

	for _, tt := range []struct {
		query string
		code  int
	}{
		{"", http.StatusBadRequest},
		{"gateway=nope", http.StatusNotFound},
		{"gateway=main&shards=0&shard=0", http.StatusBadRequest},
		{"gateway=main&shards=2&shard=2", http.StatusBadRequest},
		{"gateway=main&shard=1", http.StatusBadRequest},
		{"gateway=main", http.StatusOK},
	} {
		if code, body := probe(tt.query); code != tt.code {
			t.Errorf("%q: status %d, want %d: %s", tt.query, code, tt.code, body)
		}
	}
}

package collector

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentgateway/agentgateway_exporter/config"
)

// BenchmarkGUIDDir is the per-scrape cost of guid_dir at thousands of
// agents: one listing and one stat per file, with no file changed or a
// few rewritten between scrapes (as a session owner renewing Guids does),
// plus the Guid lookup of every agent. Run with
// go test -run '^$' -bench GUIDDir -benchmem ./collector/
func BenchmarkGUIDDir(b *testing.B) {
	for _, agents := range []int{1000, 10000} {
		for _, changed := range []int{0, agents / 100} {
			b.Run(fmt.Sprintf("agents=%d/changed=%d", agents, changed), func(b *testing.B) {
				benchmarkGUIDDir(b, agents, changed)
			})
		}
	}
}

func benchmarkGUIDDir(b *testing.B, agents, changed int) {
	dir := b.TempDir()
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "gateways:\n  - name: main\n    url: http://127.0.0.1:1\n    guid_dir: %s\n    agents:\n", dir)
	old := time.Now().Add(-time.Hour)
	ids := make([]string, agents)
	for i := range ids {
		ids[i] = fmt.Sprint(100000 + i)
		fmt.Fprintf(&yaml, "      - id: %q\n", ids[i])
		writeGUIDFile(b, filepath.Join(dir, ids[i]), fmt.Sprintf("bench-guid-%06d.AgentGateway0", i), old)
	}
	cfg, err := config.Load([]byte(yaml.String()), "agents.yml")
	if err != nil {
		b.Fatal(err)
	}
	e := New(Options{})
	if err := e.ApplyConfig(cfg); err != nil {
		b.Fatal(err)
	}
	gw := e.gateways[0]
	gw.dir.refresh(gw.guidReader(e), gw.agent)
	b.ResetTimer()
	for n := range b.N {
		b.StopTimer()
		for i := range changed {
			id := ids[(n*changed+i)%agents]
			writeGUIDFile(b, filepath.Join(dir, id), fmt.Sprintf("bench-guid-%06d.AgentGateway1", n%1000000), old.Add(time.Duration(n+1)*time.Second))
		}
		b.StartTimer()
		gw.dir.refresh(gw.guidReader(e), gw.agent)
		for _, a := range gw.agents {
			if _, ok := gw.usableGUID(e, a); !ok {
				b.Fatalf("agent %s has no Guid", a.id)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(agents), "µs/agent")
}

func writeGUIDFile(b *testing.B, path, guid string, mtime time.Time) {
	b.Helper()
	if err := os.WriteFile(path, []byte(guid+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		b.Fatal(err)
	}
}

package config

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkLoad10000 loads a configuration of 10,000 inline agents, the
// size the load command runs; allocations here are paid on every reload.
func BenchmarkLoad10000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("gateways:\n  - name: main\n    url: http://127.0.0.1:8043\n    agents:\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "      - id: \"%d\"\n        guid: \"5ec2e7-guid-of-%d.AgentGateway0\"\n", 1001+i, 1001+i)
	}
	content := []byte(sb.String())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(content, "agents.yml"); err != nil {
			b.Fatal(err)
		}
	}
}

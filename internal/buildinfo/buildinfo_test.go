package buildinfo

import (
	"runtime/debug"
	"testing"

	"github.com/prometheus/common/version"
)

func TestFill(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "3814edc0d0c0ffee"},
		{Key: "vcs.time", Value: "2026-12-03T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name                    string
		stamped                 [3]string // -X values of Version, Revision, BuildDate
		info                    *debug.BuildInfo
		version, revision, date string
	}{
		{"go install of a tag", [3]string{}, &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}},
			"1.4.0", "", ""},
		{"go build in a dirty checkout", [3]string{}, &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261203100000-3814edc0d0c0+dirty"}, Settings: vcs},
			"0.0.0-20261203100000-3814edc0d0c0+dirty", "3814edc0d0c0ffee-modified", "2026-12-03T10:00:00Z"},
		{"go build without VCS", [3]string{}, &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			"devel", "", ""},
		{"no build information", [3]string{}, nil, "devel", "", ""},
		{"linker flags win", [3]string{"2.0.0", "abc", "20261201"}, &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: vcs},
			"2.0.0", "abc", "20261201"},
	}
	saved := [3]string{version.Version, version.Revision, version.BuildDate}
	t.Cleanup(func() { version.Version, version.Revision, version.BuildDate = saved[0], saved[1], saved[2] })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			version.Version, version.Revision, version.BuildDate = tt.stamped[0], tt.stamped[1], tt.stamped[2]
			Fill(tt.info, tt.info != nil)
			if version.Version != tt.version || version.Revision != tt.revision || version.BuildDate != tt.date {
				t.Errorf("got version %q, revision %q, date %q; want %q, %q, %q",
					version.Version, version.Revision, version.BuildDate, tt.version, tt.revision, tt.date)
			}
		})
	}
}

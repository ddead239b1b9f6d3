// Package buildinfo fills the version variables of prometheus/common from
// the build information Go embeds in every binary, for builds made without
// the -X linker flags (a plain go build or go install).
package buildinfo

import (
	"runtime/debug"
	"strings"

	"github.com/prometheus/common/version"
)

// Fill sets version.Version, version.Revision and version.BuildDate from
// info where the linker flags left them empty: the main module's version
// (a tag, or the pseudo-version Go derives from the commit), vcs.revision
// with "-modified" for a dirty tree, and vcs.time. A version Go cannot tell
// becomes "devel". Call it before anything reads the version.
func Fill(info *debug.BuildInfo, ok bool) {
	if !ok || info == nil {
		info = &debug.BuildInfo{}
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if version.Version == "" {
		version.Version = "devel"
		if v := info.Main.Version; v != "" && v != "(devel)" {
			version.Version = strings.TrimPrefix(v, "v")
		}
	}
	if version.Revision == "" && settings["vcs.revision"] != "" {
		version.Revision = settings["vcs.revision"]
		if settings["vcs.modified"] == "true" {
			version.Revision += "-modified"
		}
	}
	if version.BuildDate == "" {
		version.BuildDate = settings["vcs.time"]
	}
}

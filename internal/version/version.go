// Package version says which kura is running: the module version, the
// commit it was built from and the Go toolchain. The CLI prints it (kura
// version), and a server or crawler can put it in a User-Agent.
//
// Release builds stamp the values with the linker:
//
//	go build -ldflags "-X github.com/kura-rag/kura/internal/version.version=v1.2.0 \
//	  -X github.com/kura-rag/kura/internal/version.commit=$(git rev-parse HEAD)" ./cmd/kura
//
// Otherwise they come from the build information Go embeds: the module
// version for `go install ...@v1.2.0`, and the VCS revision, time and
// dirty flag for a build inside a git checkout.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set with -ldflags "-X ..." for release builds; empty otherwise.
var (
	version string
	commit  string
)

// Info describes the running binary.
type Info struct {
	Version  string `json:"version"`          // e.g. v1.2.0, or "(devel)"
	Commit   string `json:"commit,omitempty"` // VCS revision
	Time     string `json:"time,omitempty"`   // commit time, RFC 3339
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

// Get returns the running binary's Info.
func Get() Info {
	info := Info{Version: version, Commit: commit, Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if info.Version == "" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	return info
}

// String is one line: "kura v1.2.0 (commit 0123456789ab, 2026-01-02T03:04:05Z, modified) go1.26.0".
func (i Info) String() string {
	s := "kura " + i.Version
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += " (commit " + c
		if i.Time != "" {
			s += ", " + i.Time
		}
		if i.Modified {
			s += ", modified"
		}
		s += ")"
	} else {
		s += " (commit unknown)" // built without VCS information or -ldflags
	}
	return fmt.Sprintf("%s %s", s, i.Go)
}

package version

import (
	"runtime"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	i := Get()
	if i.Version == "" || i.Go != runtime.Version() {
		t.Fatalf("%+v", i)
	}
	if s := i.String(); !strings.HasPrefix(s, "kura "+i.Version) || !strings.HasSuffix(s, runtime.Version()) {
		t.Fatalf("String() = %q", s)
	}
}

func TestLinkerValuesWin(t *testing.T) {
	defer func(v, c string) { version, commit = v, c }(version, commit)
	version, commit = "v9.8.7", "0123456789abcdef0123"
	i := Get()
	if i.Version != "v9.8.7" || i.Commit != "0123456789abcdef0123" {
		t.Fatalf("%+v", i)
	}
	if s := i.String(); !strings.Contains(s, "kura v9.8.7 (commit 0123456789ab") {
		t.Fatalf("String() = %q", s)
	}
}

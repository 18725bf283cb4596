package deploy

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"sigs.k8s.io/yaml"
)

const workflowPath = "../.github/workflows/release.yml"

// The release workflow passes actionlint (syntax, expressions, job
// dependencies, known actions' inputs; shell scripts through shellcheck
// when it is installed).
func TestWorkflowLints(t *testing.T) {
	opts := &actionlint.LinterOptions{}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	} else {
		t.Log("shellcheck not installed: run: scripts are not checked")
	}
	l, err := actionlint.NewLinter(io.Discard, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{workflowPath} {
		errs, err := l.LintFile(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range errs {
			t.Errorf("%s:%d:%d: %s [%s]", filepath.Base(path), e.Line, e.Column, e.Message, e.Kind)
		}
	}
}

type workflow struct {
	// YAML 1.1, which this decoder speaks, reads the key on as true;
	// GitHub reads it as "on".
	On struct {
		Push struct {
			Tags []string `json:"tags"`
		} `json:"push"`
	} `json:"true"`
	Jobs map[string]struct {
		Container struct {
			Image string `json:"image"`
		} `json:"container"`
		Needs    any `json:"needs"`
		If       string
		Strategy struct {
			Matrix map[string][]string `json:"matrix"`
		} `json:"strategy"`
		Steps []struct {
			Name string            `json:"name"`
			Uses string            `json:"uses"`
			Run  string            `json:"run"`
			If   string            `json:"if"`
			With map[string]any    `json:"with"`
			Env  map[string]string `json:"env"`
		} `json:"steps"`
	} `json:"jobs"`
}

// The workflow does what docs/en/docker.md says it does.
func TestWorkflowShape(t *testing.T) {
	src, err := os.ReadFile(workflowPath)
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(src, &w); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(w.On.Push.Tags, "v*.*.*") {
		t.Errorf("not triggered by version tags: %v", w.On.Push.Tags)
	}
	for _, job := range []string{"test", "binaries", "image", "release"} {
		if _, ok := w.Jobs[job]; !ok {
			t.Fatalf("no job %s", job)
		}
	}
	runs := func(job string) string {
		var b strings.Builder
		for _, s := range w.Jobs[job].Steps {
			b.WriteString(s.Run + "\n")
		}
		return b.String()
	}
	if !strings.Contains(runs("test"), "bash .ci/run") {
		t.Error("the test job does not run .ci/run")
	}
	// The tests run on go.mod's Go, like the image and the binaries.
	goMod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(goMod)
	if want := "golang:" + string(goVersion[1]) + "-bookworm"; w.Jobs["test"].Container.Image != want {
		t.Errorf("the test job runs in %q; want %s (go.mod's Go)", w.Jobs["test"].Container.Image, want)
	}
	m := w.Jobs["binaries"].Strategy.Matrix
	if !slices.Equal(m["goos"], []string{"linux", "darwin", "windows"}) || !slices.Equal(m["goarch"], []string{"amd64", "arm64"}) {
		t.Errorf("binaries for %v × %v; want linux, darwin, windows × amd64, arm64", m["goos"], m["goarch"])
	}

	// The binaries are built exactly as the image's.
	df, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	flags := regexp.MustCompile(`go build -trimpath -buildvcs=false\s*\\?\s*-ldflags "([^"]+)"`)
	inImage, inRelease := flags.FindSubmatch(df), flags.FindStringSubmatch(runs("binaries"))
	if inImage == nil || inRelease == nil {
		t.Fatalf("go build -trimpath -buildvcs=false -ldflags \"...\" not found (Dockerfile: %v, workflow: %v)", inImage != nil, inRelease != nil)
	}
	if string(inImage[1]) != inRelease[1] {
		t.Errorf("the image is built with -ldflags %q, the release binaries with %q", inImage[1], inRelease[1])
	}

	var trivy, push map[string]any
	scanned := false
	for _, s := range w.Jobs["image"].Steps {
		switch {
		case strings.HasPrefix(s.Uses, "aquasecurity/trivy-action@"):
			trivy, scanned = s.With, true
		case strings.HasPrefix(s.Uses, "docker/build-push-action@") && s.With["push"] == true:
			push = s.With
			if !scanned {
				t.Error("the image is pushed before Trivy scanned it")
			}
			if !strings.Contains(s.If, "refs/tags/") {
				t.Errorf("the image is pushed when %q; want only on tags", s.If)
			}
		}
	}
	if trivy == nil || trivy["severity"] != "HIGH,CRITICAL" || trivy["exit-code"] != "1" {
		t.Errorf("Trivy step %v; want severity HIGH,CRITICAL and exit-code 1", trivy)
	}
	if push == nil || push["platforms"] != "linux/amd64,linux/arm64" {
		t.Errorf("push step %v; want linux/amd64,linux/arm64", push)
	}
	if !strings.Contains(runs("release"), "SHA256SUMS") || !strings.Contains(w.Jobs["release"].If, "refs/tags/") {
		t.Error("the release job does not publish checksums on tags")
	}
}

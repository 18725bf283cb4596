package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// root is the kura repository, whose files this module checks.
const root = ".."

// parseDockerfile parses ../Dockerfile with BuildKit's own parser and runs
// BuildKit's lint rules (those of `docker build --check` that work on the
// file alone); any warning fails the test.
func parseDockerfile(t *testing.T) []instructions.Stage {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ast, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ast.Warnings {
		t.Errorf("Dockerfile:%d: %s", w.Location.Start.Line, w.Short)
	}
	lint := linter.New(&linter.Config{
		ExperimentalAll: true,
		Warn: func(rule, description, url, msg string, loc []parser.Range) {
			line := 0
			if len(loc) > 0 {
				line = loc[0].Start.Line
			}
			t.Errorf("Dockerfile:%d: lint %s: %s (%s)", line, rule, msg, url)
		},
	})
	stages, _, err := instructions.Parse(ast.AST, lint)
	if err != nil {
		t.Fatal(err)
	}
	return stages
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("%d stages; want a build stage and a final one", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	// The build stage: Go of go.mod's version, a static, stamped, path-free binary.
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(goMod)
	df, _ := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if goVersion == nil || !strings.Contains(string(df), "ARG GO_VERSION="+string(goVersion[1])+"\n") {
		t.Errorf("the Dockerfile's ARG GO_VERSION is not go.mod's go %s", goVersion[1])
	}
	if !strings.HasPrefix(build.BaseName, "golang:${GO_VERSION}") || build.Platform != "$BUILDPLATFORM" {
		t.Errorf("build stage FROM %s (platform %q); want golang:${GO_VERSION}-... on $BUILDPLATFORM (cross-compiling, no emulation)", build.BaseName, build.Platform)
	}
	goBuild := dockerGoBuild(t, build)
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=$TARGETOS", "GOARCH=$TARGETARCH", "-trimpath", "-buildvcs=false",
		"-X github.com/kura-rag/kura/internal/version.version=${VERSION}",
		"-X github.com/kura-rag/kura/internal/version.commit=${COMMIT}", "./cmd/kura"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("the go build in the Dockerfile lacks %q:\n%s", want, goBuild)
		}
	}

	// The final stage: nothing but what was copied in, run as a non-root user.
	if final.BaseName != "scratch" {
		t.Errorf("final stage FROM %s; want scratch", final.BaseName)
	}
	var (
		user, healthcheck, entrypoint, cmd []string
		volumes, labels, env, exposed      []string
	)
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.RunCommand:
			t.Errorf("final stage runs %q: it has no shell", c.String())
		case *instructions.UserCommand:
			user = append(user, c.User)
		case *instructions.HealthCheckCommand:
			healthcheck = c.Health.Test
		case *instructions.EntrypointCommand:
			if c.PrependShell {
				t.Errorf("ENTRYPOINT in shell form: there is no shell")
			}
			entrypoint = c.CmdLine
		case *instructions.CmdCommand:
			if c.PrependShell {
				t.Errorf("CMD in shell form: there is no shell")
			}
			cmd = c.CmdLine
		case *instructions.VolumeCommand:
			volumes = append(volumes, c.Volumes...)
		case *instructions.LabelCommand:
			for _, kv := range c.Labels {
				labels = append(labels, kv.Key)
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env = append(env, kv.Key+"="+kv.Value)
			}
		case *instructions.ExposeCommand:
			exposed = append(exposed, c.Ports...)
		}
	}
	if len(user) != 1 || !regexp.MustCompile(`^[1-9][0-9]*:[1-9][0-9]*$`).MatchString(user[0]) {
		t.Errorf("USER %v; want one numeric non-root uid:gid (Kubernetes' runAsNonRoot checks the number)", user)
	}
	if len(entrypoint) != 1 || !strings.HasSuffix(entrypoint[0], "/kura") {
		t.Errorf("ENTRYPOINT %v; want the kura binary", entrypoint)
	}
	if !slices.Equal(cmd, []string{"serve", "--addr", "0.0.0.0:8080"}) {
		t.Errorf("CMD %v; want serve --addr 0.0.0.0:8080", cmd)
	}
	if len(entrypoint) == 1 && !slices.Equal(healthcheck, []string{"CMD", entrypoint[0], "healthcheck"}) {
		t.Errorf("HEALTHCHECK %v; want [CMD %s healthcheck] (exec form: no shell, no curl)", healthcheck, entrypoint[0])
	}
	if !slices.Equal(volumes, []string{"/data"}) || !slices.Contains(env, "KURA_DATA=/data") {
		t.Errorf("VOLUME %v, ENV %v; want the data directory /data declared and in KURA_DATA", volumes, env)
	}
	if !slices.Contains(exposed, "8080") {
		t.Errorf("EXPOSE %v; want 8080", exposed)
	}
	for _, l := range []string{"title", "description", "source", "version", "revision", "created"} {
		if !slices.Contains(labels, "org.opencontainers.image."+l) {
			t.Errorf("no OCI label org.opencontainers.image.%s", l)
		}
	}

	// Nothing secret goes in: no ADD (remote URLs, archives), no copies
	// of environment files or keys, no secret-looking ARG or ENV.
	secretName := regexp.MustCompile(`(?i)(api[_-]?key|secret|token|passw(or)?d|credential)`)
	for _, s := range stages {
		for _, c := range s.Commands {
			switch c := c.(type) {
			case *instructions.AddCommand:
				t.Errorf("stage %s: %s; use COPY", s.Name, c.String())
			case *instructions.CopyCommand:
				for _, p := range c.SourcePaths {
					if strings.Contains(p, ".env") || strings.Contains(p, "key") || strings.Contains(p, "kura-data") {
						t.Errorf("stage %s copies %s into the image", s.Name, p)
					}
				}
			case *instructions.ArgCommand:
				for _, a := range c.Args {
					if secretName.MatchString(a.Key) {
						t.Errorf("stage %s: ARG %s: build arguments stay in the image's history; use a build secret", s.Name, a.Key)
					}
				}
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					if secretName.MatchString(kv.Key) {
						t.Errorf("stage %s: ENV %s in the image", s.Name, kv.Key)
					}
				}
			}
		}
	}
}

// dockerGoBuild returns the build stage's RUN that calls go build.
func dockerGoBuild(t *testing.T, build instructions.Stage) string {
	t.Helper()
	for _, c := range build.Commands {
		if run, ok := c.(*instructions.RunCommand); ok && strings.Contains(strings.Join(run.CmdLine, " "), "go build") {
			return strings.Join(run.CmdLine, " ")
		}
	}
	t.Fatal("the build stage has no go build")
	return ""
}

// The .dockerignore keeps secrets, data and build output out of the build
// context, and keeps everything the binary is built from in it.
func TestDockerignore(t *testing.T) {
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	excluded := func(path string) bool {
		ok, err := pm.MatchesOrParentMatches(path)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, p := range []string{
		".env", ".env.local", "config/prod.env", "kura-data/collections/kura/rows.db", "sub/kura-data/app/history.db",
		"kura-data-old/x", "keys.txt", "deploy/keys.txt", "api-keys.txt", "tls.key", "certs/server.pem", ".oci/config",
		"backup-2026-11-30.tar.gz", ".git/config", "serve", "kura", ".kube/config",
	} {
		if !excluded(p) {
			t.Errorf(".dockerignore lets %s into the build context", p)
		}
	}
	// Every file the build reads must stay: go.mod, go.sum, kura.go, and
	// the non-test files of cmd/, internal/ and docs/ (built into the binary).
	for _, p := range []string{"go.mod", "go.sum", "kura.go", ".env.example"} {
		if excluded(p) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", p)
		}
	}
	kept := 0
	for _, dir := range []string{"cmd", "internal", "docs"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if strings.HasSuffix(rel, "_test.go") || strings.Contains(rel, "/testdata/") {
				return nil
			}
			if excluded(rel) {
				t.Errorf(".dockerignore leaves out %s, which the build needs", rel)
			}
			kept++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if kept < 100 {
		t.Fatalf("only %d source files found under cmd/, internal/, docs/", kept)
	}
}

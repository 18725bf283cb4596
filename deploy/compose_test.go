package deploy

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"
)

// composeEnv is a filled-in .env for loading compose.yaml.
func composeEnv() types.Mapping {
	return types.Mapping{
		"KURA_API_KEY":                 "test-key-0123456789abcdef",
		"MINIO_ROOT_USER":              "kura",
		"MINIO_ROOT_PASSWORD":          "minio-password-0123",
		"LANGFUSE_POSTGRES_PASSWORD":   "pg",
		"LANGFUSE_CLICKHOUSE_PASSWORD": "ch",
		"LANGFUSE_REDIS_PASSWORD":      "redis",
		"LANGFUSE_NEXTAUTH_SECRET":     "nextauth",
		"LANGFUSE_SALT":                "salt",
		"LANGFUSE_ENCRYPTION_KEY":      strings.Repeat("0", 64),
	}
}

// loadCompose loads ../compose.yaml as `docker compose` does, with the
// given environment and profiles. A .env in the repository is not read:
// the test sees only env.
func loadCompose(t *testing.T, env types.Mapping, profiles []string) (*types.Project, error) {
	t.Helper()
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	details := types.ConfigDetails{
		WorkingDir:  abs,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(abs, "compose.yaml")}},
		Environment: env,
	}
	return loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("kura", true)
		o.Profiles = profiles
		// The kura service's env_file is .env; a developer's own .env must
		// not decide this test.
		o.SkipResolveEnvironment = true
	})
}

func TestCompose(t *testing.T) {
	base, err := loadCompose(t, composeEnv(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for name := range base.Services {
			if !yield(name) {
				return
			}
		}
	}); !slices.Equal(got, []string{"etcd", "kura", "milvus", "minio"}) {
		t.Errorf("services without a profile: %v; want kura, milvus, etcd, minio", got)
	}
	p, err := loadCompose(t, composeEnv(), []string{"langfuse"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Services) != 9 {
		t.Errorf("%d services with the langfuse profile; want 9", len(p.Services))
	}
	for name, s := range p.Services {
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 {
			t.Errorf("service %s has no health check", name)
		}
		for dep, d := range s.DependsOn {
			if d.Condition != types.ServiceConditionHealthy {
				t.Errorf("service %s waits for %s to be %q; want service_healthy", name, dep, d.Condition)
			}
		}
		if name != "kura" && !pinned(s.Image) {
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeVolume && v.Type != types.VolumeTypeTmpfs {
				t.Errorf("service %s mounts %s %s; want named volumes", name, v.Type, v.Source)
			} else if v.Type == types.VolumeTypeVolume {
				if _, ok := p.Volumes[v.Source]; !ok {
					t.Errorf("service %s: volume %s is not declared", name, v.Source)
				}
			}
		}
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("service %s publishes %s on %q; publish on 127.0.0.1 only", name, port.Published, port.HostIP)
			}
		}
	}
	f := func(service, dep string) {
		t.Helper()
		if d, ok := p.Services[service].DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("%s does not wait for %s to be healthy", service, dep)
		}
	}
	f("kura", "milvus")
	f("milvus", "etcd")
	f("milvus", "minio")
	f("langfuse-web", "langfuse-postgres")
	f("langfuse-web", "langfuse-clickhouse")
	f("langfuse-web", "langfuse-redis")
	f("langfuse-worker", "langfuse-redis")

	kura := p.Services["kura"]
	if kura.Build == nil || kura.Build.Context != p.WorkingDir {
		t.Errorf("kura is not built from the repository's Dockerfile: %+v", kura.Build)
	}
	if v := kura.Environment["MILVUS_URI"]; v == nil || *v != "http://milvus:19530" {
		t.Errorf("kura's MILVUS_URI = %v; want http://milvus:19530", v)
	}
	if v := kura.Environment["KURA_API_KEY"]; v == nil || *v != composeEnv()["KURA_API_KEY"] {
		t.Errorf("kura's KURA_API_KEY does not come from the environment (.env)")
	}
	if !kura.ReadOnly || !slices.Contains(kura.CapDrop, "ALL") || len(kura.Tmpfs) == 0 {
		t.Errorf("kura: read_only %v, cap_drop %v, tmpfs %v; want a read-only root, no capabilities, a tmpfs /tmp", kura.ReadOnly, kura.CapDrop, kura.Tmpfs)
	}
	if !slices.Equal(kura.HealthCheck.Test, []string{"CMD", "/usr/local/bin/kura", "healthcheck"}) {
		t.Errorf("kura's health check %v; want the image's own kura healthcheck", kura.HealthCheck.Test)
	}
	if len(kura.Ports) != 1 || kura.Ports[0].Target != 8080 {
		t.Errorf("kura publishes %v; want its port 8080", kura.Ports)
	}
}

// pinned: a tag that names a version (digits), not latest or a bare major.
func pinned(image string) bool {
	if strings.Contains(image, "@sha256:") {
		return true
	}
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return false
	}
	return regexp.MustCompile(`^v?[0-9]+\.[0-9]+`).MatchString(strings.TrimPrefix(image[i+1:], "RELEASE.")) ||
		regexp.MustCompile(`^RELEASE\.[0-9]{4}-`).MatchString(image[i+1:])
}

func TestComposeNeedsItsSecrets(t *testing.T) {
	// Langfuse's secrets are needed only with its profile.
	env := composeEnv()
	for k := range env {
		if strings.HasPrefix(k, "LANGFUSE_") {
			delete(env, k)
		}
	}
	if _, err := loadCompose(t, env, nil); err != nil {
		t.Errorf("without Langfuse's variables and its profile: %v", err)
	}
	// With the profile but without them, the secrets are empty (Postgres
	// and Langfuse then refuse to start), never a default written here.
	p, err := loadCompose(t, env, []string{"langfuse"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"NEXTAUTH_SECRET", "SALT", "ENCRYPTION_KEY", "CLICKHOUSE_PASSWORD", "REDIS_AUTH"} {
		if v := p.Services["langfuse-web"].Environment[k]; v == nil || *v != "" {
			t.Errorf("langfuse-web's %s without .env = %q; want empty", k, deref(v))
		}
	}
	for _, missing := range []string{"KURA_API_KEY", "MINIO_ROOT_PASSWORD"} {
		env := composeEnv()
		delete(env, missing)
		_, err := loadCompose(t, env, nil)
		if err == nil || !strings.Contains(err.Error(), "set "+missing+" in .env") {
			t.Errorf("without %s: %v; want an error that says to set it in .env", missing, err)
		}
	}
}

// compose.yaml holds no secret: every variable whose name says it is one
// takes its value from the environment (.env). Read as plain YAML, before
// any interpolation.
func TestComposeHasNoLiteralSecrets(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Environment map[string]any `json:"environment"`
			Command     any            `json:"command"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	secretName := regexp.MustCompile(`(?i)(key|secret|token|passw|auth|salt|credential)`)
	n := 0
	for name, s := range doc.Services {
		for k, v := range s.Environment {
			if !secretName.MatchString(k) {
				continue
			}
			n++
			if str, _ := v.(string); !strings.Contains(str, "${") {
				t.Errorf("service %s: %s is written into compose.yaml; take it from .env as ${%s}", name, k, k)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d secret-like variables seen; compose.yaml was not read as expected", n)
	}
}

// .env.example lists every variable kura reads and every one compose.yaml
// uses, and nothing else.
func TestEnvExample(t *testing.T) {
	example, err := os.ReadFile(filepath.Join(root, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Z][A-Z0-9_]*)=`).FindAllStringSubmatch(string(example), -1) {
		if listed[m[1]] {
			t.Errorf(".env.example lists %s twice", m[1])
		}
		listed[m[1]] = true
	}

	// Names kura reads, and prefixes it completes at run time
	// ("OTEL_EXPORTER_OTLP_" + "TIMEOUT").
	read, prefixes := map[string]bool{}, []string{}
	envName := regexp.MustCompile(`"((?:KURA|COHERE|CO|OCI|OPENAI|OLLAMA|MILVUS|LANGFUSE|OTEL|GENAI|COMPARTMENT|COLLECTION)_[A-Z0-9_]*)"`)
	for _, dir := range []string{"cmd", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range envName.FindAllSubmatch(src, -1) {
				if name := string(m[1]); strings.HasSuffix(name, "_") {
					prefixes = append(prefixes, name)
				} else {
					read[name] = true
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, seed := range []string{"COHERE_API_KEY", "COMPARTMENT_ID", "GENAI_ENDPOINT", "MILVUS_URI", "COLLECTION_NAME", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "LANGFUSE_HOST"} {
		if !read[seed] {
			t.Errorf("kura no longer reads %s, a variable of the original notebook", seed)
		}
	}
	for name := range read {
		if !listed[name] {
			t.Errorf("kura reads %s, which .env.example does not list; add it with a comment", name)
		}
	}

	compose, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*)`).FindAllStringSubmatch(string(compose), -1) {
		used[m[1]] = true
		if !listed[m[1]] {
			t.Errorf("compose.yaml uses ${%s}, which .env.example does not list", m[1])
		}
	}
	for name := range listed {
		completed := slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) })
		if !read[name] && !used[name] && !completed {
			t.Errorf(".env.example lists %s, which neither kura nor compose.yaml reads", name)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "(unset)"
	}
	return *s
}

package deploy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	policyOnce sync.Once
	policy     *Policy
	policyErr  error
)

func loadPolicy(t *testing.T) *Policy {
	t.Helper()
	policyOnce.Do(func() { policy, policyErr = LoadPolicy(context.Background()) })
	if policyErr != nil {
		t.Fatal(policyErr)
	}
	return policy
}

// check renders dir, decodes every resource strictly and evaluates the
// policies: the first problem it meets is returned, as one message per line.
func check(t *testing.T, dir string) ([]Resource, []string, error) {
	t.Helper()
	res, err := Render(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range res {
		if _, err := DecodeStrict(r.YAML); err != nil {
			return res, nil, &decodeError{id: r.ID, err: err}
		}
	}
	msgs, err := loadPolicy(t).Evaluate(context.Background(), res)
	return res, msgs, err
}

type decodeError struct {
	id  string
	err error
}

func (e *decodeError) Error() string { return e.id + ": " + e.err.Error() }

// The shipped overlays and examples render, decode strictly and pass every
// policy.
func TestManifestsPass(t *testing.T) {
	for _, dir := range []string{
		"kubernetes/overlays/local-store",
		"kubernetes/overlays/milvus",
		"kubernetes/examples/ingress",
	} {
		t.Run(dir, func(t *testing.T) {
			res, msgs, err := check(t, dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) > 0 {
				t.Fatalf("%s breaks the policies:\n  %s", dir, strings.Join(msgs, "\n  "))
			}
			if len(res) < 8 {
				t.Fatalf("%s rendered only %d resources", dir, len(res))
			}
		})
	}
}

func TestPolicyFilesAreTheEmbeddedOnes(t *testing.T) {
	// The policies a user runs with opa/conftest are the files on disk;
	// the tests use the embedded copies. Same directory, so same files.
	entries, err := os.ReadDir("policy")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		disk, _ := os.ReadFile(filepath.Join("policy", e.Name()))
		embedded, err := policyFiles.ReadFile("policy/" + e.Name())
		if err != nil || string(disk) != string(embedded) {
			t.Fatalf("policy/%s differs from the embedded copy", e.Name())
		}
	}
}

// Deliberately broken manifests (testdata/broken/*, each a kustomization
// over a shipped overlay that breaks one thing) must fail, with a message
// that says what is wrong.
func TestBrokenManifestsFail(t *testing.T) {
	cases := []struct {
		dir    string
		decode bool // fails strict decoding rather than a policy
		want   string
	}{
		{"no-readiness-probe", false, "Deployment/kura container kura: no readinessProbe"},
		{"run-as-root", false, "Deployment/kura container kura: runAsNonRoot must be true"},
		{"container-runs-as-root", false, "CronJob/kura-backup init container backup: runAsUser is 0 (root)"},
		{"latest-tag", false, `image ghcr.io/kura-rag/kura:latest uses the moving tag "latest"`},
		{"untagged-image", false, "CronJob/kura-backup container prune: image busybox has no tag"},
		{"secret-literal", false, "env COHERE_API_KEY has a literal value; take it from a Secret"},
		{"secret-in-configmap", false, "key LANGFUSE_SECRET_KEY looks like a secret"},
		{"secret-object", false, "Secret/kura-secrets: a Secret with its values is part of the manifests"},
		{"no-limits", false, "Deployment/kura container kura: resources.limits.memory is not set"},
		{"rolling-update", false, "needs strategy.type: Recreate"},
		{"two-replicas", false, "Deployment/kura: 2 replicas share the ReadWriteOnce claim kura-data"},
		{"typo-field", true, `unknown field "spec.template.spec.containers[0].readinesProbe"`},
		{"service-wrong-namespace", false, "Service/kura-public: selector"},
		{"service-wrong-port", false, "Service/kura: port 80 targets 9090"},
		{"probe-wrong-path", false, "readinessProbe must be an httpGet of /readyz"},
		{"privilege-escalation", false, "CronJob/kura-ingest container crawl: set securityContext.allowPrivilegeEscalation: false"},
		{"no-network-policy", false, "Deployment/kura: no NetworkPolicy selects its pods"},
		{"key-on-command-line", false, "passes --api-key=0123456789abcdef on the command line"},
		{"old-api-version", true, `no kind "CronJob" is registered for version "batch/v1beta1"`},
		{"ingress-without-tls", false, "Ingress/kura: host kura.example.com is served without TLS"},
		{"service-links", false, "Deployment/kura: set enableServiceLinks: false"},
	}
	dirs, err := os.ReadDir("testdata/broken")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) != len(cases) {
		t.Fatalf("testdata/broken has %d cases, the table %d", len(dirs), len(cases))
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			_, msgs, err := check(t, filepath.Join("testdata/broken", c.dir))
			var de *decodeError
			isDecode := errors.As(err, &de)
			switch {
			case err != nil && !isDecode:
				t.Fatalf("does not render: %v", err)
			case c.decode && !isDecode:
				t.Fatalf("decoded strictly; want a decode error with %q (policy messages: %v)", c.want, msgs)
			case c.decode:
				if !strings.Contains(err.Error(), c.want) {
					t.Fatalf("decode error %q; want %q", err, c.want)
				}
			case isDecode:
				t.Fatalf("decode error %v; want the policy message %q", err, c.want)
			default:
				found := false
				for _, m := range msgs {
					found = found || strings.Contains(m, c.want)
				}
				if !found {
					t.Fatalf("passes without %q; messages:\n  %s", c.want, strings.Join(msgs, "\n  "))
				}
			}
		})
	}
}

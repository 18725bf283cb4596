package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// application is the part of Argo CD's Application resource the example
// uses. Argo CD's Go types are a large dependency; strict decoding into
// this mirror still fails on a misspelt or misplaced field among these.
type application struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name       string   `json:"name"`
		Namespace  string   `json:"namespace"`
		Finalizers []string `json:"finalizers"`
	} `json:"metadata"`
	Spec struct {
		Project string `json:"project"`
		Source  struct {
			RepoURL        string `json:"repoURL"`
			TargetRevision string `json:"targetRevision"`
			Path           string `json:"path"`
		} `json:"source"`
		Destination struct {
			Server    string `json:"server"`
			Namespace string `json:"namespace"`
		} `json:"destination"`
		SyncPolicy struct {
			Automated *struct {
				Prune    bool `json:"prune"`
				SelfHeal bool `json:"selfHeal"`
			} `json:"automated"`
			SyncOptions []string `json:"syncOptions"`
			Retry       *struct {
				Limit   int `json:"limit"`
				Backoff struct {
					Duration    string `json:"duration"`
					Factor      int    `json:"factor"`
					MaxDuration string `json:"maxDuration"`
				} `json:"backoff"`
			} `json:"retry"`
		} `json:"syncPolicy"`
	} `json:"spec"`
}

func TestArgoCDApplication(t *testing.T) {
	src, err := os.ReadFile("kubernetes/examples/argocd/application.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var app application
	if err := UnmarshalStrict(src, &app); err != nil {
		t.Fatal(err)
	}
	if app.APIVersion != "argoproj.io/v1alpha1" || app.Kind != "Application" {
		t.Fatalf("%s %s; want an argoproj.io/v1alpha1 Application", app.APIVersion, app.Kind)
	}
	s := app.Spec
	if s.Source.RepoURL != "https://github.com/kura-rag/kura.git" {
		t.Errorf("repoURL %s", s.Source.RepoURL)
	}
	if !regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(s.Source.TargetRevision) {
		t.Errorf("targetRevision %q; want a release tag (vX.Y.Z), not a branch or HEAD", s.Source.TargetRevision)
	}
	if s.SyncPolicy.Automated == nil || !s.SyncPolicy.Automated.Prune || !s.SyncPolicy.Automated.SelfHeal {
		t.Errorf("syncPolicy.automated %+v; want prune and selfHeal", s.SyncPolicy.Automated)
	}
	// The path is an overlay of this repository that passes the checks,
	// and the Application deploys into the overlay's namespace.
	dir := filepath.Join("..", filepath.FromSlash(s.Source.Path))
	if !strings.HasPrefix(s.Source.Path, "deploy/kubernetes/") {
		t.Fatalf("path %s is not under deploy/kubernetes/", s.Source.Path)
	}
	res, msgs, err := check(t, dir)
	if err != nil || len(msgs) > 0 {
		t.Fatalf("the Application's path %s: %v %v", s.Source.Path, err, msgs)
	}
	for _, r := range res {
		if ns, _ := r.Object["metadata"].(map[string]any)["namespace"].(string); ns != "" && ns != s.Destination.Namespace {
			t.Errorf("%s is in namespace %s, the Application deploys to %s", r.ID, ns, s.Destination.Namespace)
		}
	}

	// A misspelt field fails.
	var broken application
	bad := strings.Replace(string(src), "selfHeal:", "selfheal:", 1)
	if err := UnmarshalStrict([]byte(bad), &broken); err == nil || !strings.Contains(err.Error(), "selfheal") {
		t.Errorf("a misspelt selfHeal decoded: %v", err)
	}
}

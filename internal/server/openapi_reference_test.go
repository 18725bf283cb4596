package server_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/kura-rag/kura/internal/server"
)

var updateReference = flag.Bool("update-reference", false, "rewrite docs/reference/openapi.json instead of comparing")

const openAPIReference = "../../docs/reference/openapi.json"

// TestOpenAPIReference keeps the checked-in copy of the OpenAPI document
// (docs/reference/openapi.json, linked from the user guide) equal to what
// the server serves at /api/v1/openapi.json. Regenerate it with
//
//	go generate ./internal/server
//
//go:generate go test -run ^TestOpenAPIReference$ -update-reference .
func TestOpenAPIReference(t *testing.T) {
	e := newEnv(t, server.Config{Version: "reference"})
	resp, body := e.do("GET", "/api/v1/openapi.json", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/openapi.json: %d", resp.StatusCode)
	}
	body = append(bytes.TrimSpace(body), '\n')
	if *updateReference {
		if err := os.WriteFile(openAPIReference, body, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(openAPIReference)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("docs/reference/openapi.json is missing or out of date (%v); regenerate it with: go generate ./internal/server", err)
	}
}

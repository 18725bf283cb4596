package main

import (
	"bytes"
	"os"
	"testing"
)

// The generated field docs match internal/api's comments: after editing
// a comment there, run `go generate ./internal/server`.
func TestGeneratedFileIsCurrent(t *testing.T) {
	docs, err := collect("../../../api")
	if err != nil {
		t.Fatal(err)
	}
	want, err := render(docs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../fielddocs_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("internal/server/fielddocs_gen.go is stale: run go generate ./internal/server")
	}
	if len(docs) < 100 || docs["Answer.Answer"] == "" {
		t.Fatalf("%d docs collected", len(docs))
	}
}

package api

import (
	"testing"

	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/store"
)

// The wire types mirror the internal ones field for field, so the
// application layer converts with a plain conversion; this stops the two
// from drifting apart unnoticed (it does not compile if they do).
func TestConversions(t *testing.T) {
	_ = Hit(store.Hit{})
	_ = Index(store.IndexSpec{})
	_ = IngestSummary(ingest.Summary{})
	_ = Usage(llm.Usage{})
}

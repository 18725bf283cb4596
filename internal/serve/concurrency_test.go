package serve_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/api"
)

// TestSearchDuringIngest: searches in a server are answered while an
// upload into the same collection is being ingested, not after it. The
// test asserts the order of events (searches finished while the job was
// still running); the latencies it logs are for the reader — the figures
// that count come from bench/serve.
func TestSearchDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("a large ingest; skipped in -short mode")
	}
	s := start(t, seed(t), nil)
	// About 20,000 chunks: a few seconds of ingesting on a laptop.
	var doc strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&doc, "段落%d。負荷試験の文書で、検索が取り込みを待たないことを確かめます。トークン tok%dz。\n\n", i, i)
	}
	code, job, raw := s.upload(map[string]string{"load.md": doc.String()}, map[string]string{"chunk_size": "60", "chunk_overlap": "0"})
	if code != 202 {
		t.Fatalf("upload: %d %s", code, raw)
	}
	var during []time.Duration
	var state api.IngestJob
	for {
		began := time.Now()
		var res api.SearchResponse
		s.must(200, "POST", "/api/v1/search", map[string]any{"query": "GitOpsとは何ですか", "k": 3}, &res)
		took := time.Since(began)
		if len(res.Hits) == 0 {
			t.Fatal("no hits during the ingest")
		}
		s.must(200, "GET", "/api/v1/ingest/"+job.JobID, nil, &state)
		if state.State != api.JobRunning {
			break
		}
		during = append(during, took)
		if len(during) == 200 {
			break
		}
	}
	final, _ := s.waitJob(job.JobID)
	if final.State != api.JobDone || final.Summary.Added < 15000 {
		t.Fatalf("job %+v", final.Summary)
	}
	if len(during) < 5 {
		t.Fatalf("only %d searches were answered while the job ran: searches wait for the ingest", len(during))
	}
	slices.Sort(during)
	t.Logf("%d searches answered during an ingest of %d chunks: median %s, max %s",
		len(during), final.Summary.Added, during[len(during)/2], during[len(during)-1])
	// What was ingested is searchable.
	var res api.SearchResponse
	s.must(200, "POST", "/api/v1/search", map[string]any{"query": "tok19999z", "k": 1, "search_type": "bm25"}, &res)
	if len(res.Hits) != 1 || !strings.Contains(res.Hits[0].Entity["text"].(string), "tok19999z") {
		t.Fatalf("the last chunk: %+v", res.Hits)
	}
}

package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/store"
)

// TestCollectionReplacedByAnotherProcess: an App that keeps a collection
// open (kura serve) while another process (a second App on the same data
// directory: the embedded store locks per open file, as between
// processes) drops it reports it missing — never the dropped rows — and
// serves the collection created again under the same name, with its new
// settings, from the next request on.
func TestCollectionReplacedByAnotherProcess(t *testing.T) {
	srv := newApp(t)
	ctx := context.Background()
	other, err := Open(ctx, Options{DataDir: srv.DataDir(), Collection: "docs"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ingest := func(dir, prefix, word string, n int, settings CollectionSettings) {
		t.Helper()
		for i := range n {
			name := filepath.Join(dir, fmt.Sprintf("%s%02d.txt", prefix, i))
			if err := os.WriteFile(name, []byte(fmt.Sprintf("%s number %d is written in the %s collection.", word, i, prefix)), 0o644); err != nil {
				t.Fatal(err)
			}
			// One run a file: many write transactions, so that the new
			// file's transaction ids pass the old one's.
			if _, err := other.Ingest(ctx, IngestRequest{Paths: []string{name}, Settings: settings, Splitter: split.DefaultOptions()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sources := func(searchType, query string) ([]string, error) {
		t.Helper()
		res, err := srv.Search(ctx, "", api.SearchRequest{Query: query, SearchOptions: api.SearchOptions{K: 100, SearchType: searchType, OutputFields: []string{"source"}}})
		var out []string
		for _, h := range res.Hits {
			out = append(out, filepath.Base(h.Entity["source"].(string)))
		}
		return out, err
	}

	// The server has searched (its derived state is built and saved) and
	// caught up with rows another process added.
	ingest(t.TempDir(), "old", "Zebra", 5, CollectionSettings{})
	if got, err := sources("bm25", "Zebra"); err != nil || len(got) != 5 {
		t.Fatalf("before the drop: %v, %v", got, err)
	}

	if err := other.DropCollection(ctx, "docs"); err != nil {
		t.Fatal(err)
	}
	var ae *api.Error
	for _, st := range []string{"dense", "bm25", "hybrid"} {
		got, err := sources(st, "Zebra")
		if !errors.As(err, &ae) || ae.Code != api.CodeNotFound || len(got) != 0 {
			t.Errorf("%s search of a dropped collection: %v, %v; want not_found", st, got, err)
		}
	}
	if _, err := srv.DescribeCollection(ctx, "docs"); !errors.As(err, &ae) || ae.Code != api.CodeNotFound {
		t.Errorf("describe of a dropped collection: %v", err)
	}
	if list, err := srv.ListCollections(ctx); err != nil || len(list.Collections) != 0 {
		t.Errorf("list after the drop: %+v, %v", list, err)
	}

	// Created again, with another metric: the server serves the new one.
	ingest(t.TempDir(), "new", "Flux", 12, CollectionSettings{Metric: "IP"})
	for _, st := range []string{"dense", "bm25", "hybrid"} {
		got, err := sources(st, "Zebra Flux")
		if err != nil || len(got) == 0 {
			t.Errorf("%s search of the new collection: %v, %v", st, got, err)
		}
		for _, s := range got {
			if !strings.HasPrefix(s, "new") {
				t.Errorf("%s search serves %s of the dropped collection: %v", st, s, got)
				break
			}
		}
	}
	info, err := srv.DescribeCollection(ctx, "docs")
	if err != nil || info.Rows != 12 || info.Metric != "IP" {
		t.Errorf("describe of the new collection: rows %d, metric %s, %v", info.Rows, info.Metric, err)
	}
	// Closed and opened again (a restarted server) it still holds
	// nothing of the old collection.
	srv.forget("docs")
	if got, err := sources("bm25", "Zebra"); err != nil || len(got) != 0 {
		t.Errorf("bm25 for a word only the dropped collection had: %v, %v", got, err)
	}
}

// TestCollStateCheck: an operation that finds the collection gone (a drop
// between the open and the first operation) makes the next request open
// it again.
func TestCollStateCheck(t *testing.T) {
	a := newApp(t)
	c, err := a.collection(context.Background(), "docs")
	if err != nil {
		t.Fatal(err)
	}
	if c.replaced() {
		t.Fatal("a collection nobody touched counts as replaced")
	}
	if err := c.check(errors.New("disk full")); err == nil || c.replaced() {
		t.Fatalf("an unrelated error: %v, replaced %v", err, c.replaced())
	}
	gone := fmt.Errorf("search: %w", store.ErrNotFound)
	if err := c.check(gone); err != gone || !c.replaced() {
		t.Fatalf("a gone collection: %v, replaced %v", err, c.replaced())
	}
	again, err := a.collection(context.Background(), "docs")
	if err != nil || again == c {
		t.Fatalf("the next request got the old state again (%v)", err)
	}
}

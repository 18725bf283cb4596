package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/kura-rag/kura/internal/store/milvus/milvusfake"
)

// milvusFake starts a fake Milvus and points MILVUS_URI at it, which is
// how a user selects the Milvus store.
func milvusFake(t *testing.T) *milvusfake.Server {
	t.Helper()
	srv, err := milvusfake.Start(milvusfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	t.Setenv("MILVUS_URI", srv.URI())
	t.Setenv("KURA_STORE", "")
	return srv
}

func kv(p []*commonpb.KeyValuePair) map[string]string {
	m := map[string]string{}
	for _, x := range p {
		m[x.Key] = x.Value
	}
	return m
}

// deletedIDs parses the "chunk_id in [1,2]" expressions of the recorded
// deletes.
func deletedIDs(t *testing.T, srv *milvusfake.Server) []int64 {
	t.Helper()
	var ids []int64
	for _, c := range srv.Calls("Delete") {
		expr := c.Req.(*milvuspb.DeleteRequest).Expr
		list, ok := strings.CutPrefix(expr, "chunk_id in [")
		if !ok || !strings.HasSuffix(list, "]") {
			t.Fatalf("delete expression %q", expr)
		}
		for _, s := range strings.Split(strings.TrimSuffix(list, "]"), ",") {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("delete expression %q", expr)
			}
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// insertedIDs returns the chunk ids of the recorded inserts, by source.
func insertedIDs(srv *milvusfake.Server) map[string][]int64 {
	out := map[string][]int64{}
	for _, c := range srv.Calls("Insert") {
		var ids []int64
		var srcs []string
		for _, fd := range c.Req.(*milvuspb.InsertRequest).FieldsData {
			switch fd.FieldName {
			case "chunk_id":
				ids = fd.GetScalars().GetLongData().GetData()
			case "source":
				srcs = fd.GetScalars().GetStringData().GetData()
			}
		}
		for i := range ids {
			out[srcs[i]] = append(out[srcs[i]], ids[i])
		}
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

func minus(a, b []int64) []int64 {
	var out []int64
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// TestMilvusNotebookSettings: `kura ingest` and `kura search` on Milvus
// with the notebook's settings send the notebook's index and search.
func TestMilvusNotebookSettings(t *testing.T) {
	srv := milvusFake(t)
	dir := corpus(t)
	writeFile(t, filepath.Join(dir, "docs", "meta.jsonl"), []byte(`{"id":"n1","text":"GitOpsはGitを信頼できる情報源にする。","subject":"technology"}`+"\n"))
	first := ingestJSON(t, 0, filepath.Join(dir, "docs"))
	if first.Files != 4 || first.Added == 0 {
		t.Fatalf("ingest: %+v", first)
	}
	var vecIndex map[string]string
	for _, c := range srv.Calls("CreateIndex") {
		if r := c.Req.(*milvuspb.CreateIndexRequest); r.FieldName == "vector" {
			vecIndex = kv(r.ExtraParams)
		}
	}
	if want := map[string]string{"index_type": "IVF_FLAT", "metric_type": "COSINE", "nlist": "128"}; !slicesEqualMap(vecIndex, want) {
		t.Errorf("vector index %v, want the notebook's %v", vecIndex, want)
	}
	if got := srv.Rows("kura"); got != first.Added {
		t.Errorf("%d rows on the server, %d added", got, first.Added)
	}

	srv.Reset()
	out := mustKura(t, "search", "--json", "-k", "3", "--output-fields", "text,subject", "GitOpsとは")
	calls := srv.Calls("Search")
	if len(calls) != 1 {
		t.Fatalf("%d search requests", len(calls))
	}
	sr := calls[0].Req.(*milvuspb.SearchRequest)
	p := kv(sr.SearchParams)
	if p["topk"] != "3" || p["metric_type"] != "COSINE" || p["anns_field"] != "vector" || !slices.Equal(sr.OutputFields, []string{"text", "subject", "chunk_id"}) {
		t.Errorf("search request: params %v, output fields %q", p, sr.OutputFields)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 hits:\n%s", out)
	}
	for _, line := range lines {
		var h struct {
			ID     int64          `json:"id"`
			Score  float64        `json:"score"`
			Entity map[string]any `json:"entity"`
		}
		if err := json.Unmarshal([]byte(line), &h); err != nil || h.ID <= 0 || h.Entity["text"] == nil {
			t.Errorf("hit %s: %v", line, err)
		}
	}
	if !strings.Contains(out, `"subject":"technology"`) {
		t.Errorf("the JSONL subject is not returned:\n%s", out)
	}

	// A filter is passed through.
	srv.Reset()
	mustKura(t, "search", "--json", "--filter", `subject == "technology"`, "--nprobe", "16", "GitOps")
	sr = srv.Calls("Search")[0].Req.(*milvuspb.SearchRequest)
	if sr.Dsl != `subject == "technology"` || kv(sr.SearchParams)["params"] != `{"nprobe":16}` {
		t.Errorf("filter %q, params %s", sr.Dsl, kv(sr.SearchParams)["params"])
	}

	// describe and list read the collection back from the server.
	var d map[string]any
	if err := json.Unmarshal([]byte(mustKura(t, "collection", "describe", "--json")), &d); err != nil {
		t.Fatal(err)
	}
	if d["store"] != "milvus" || d["rows"] != float64(first.Added) || d["embedder"] != "hash" || d["dim"] != float64(1024) || d["text_max_bytes"] != float64(2048) {
		t.Errorf("describe: %v", d)
	}
	if out := mustKura(t, "collection", "list"); !strings.Contains(out, "kura") {
		t.Errorf("list:\n%s", out)
	}
	if _, errs, code := kura(t, "search", "--embedder", "hash", "--dim", "8", "x"); code != exitUsage || !strings.Contains(errs, "embedder") {
		t.Errorf("embedder mismatch on Milvus: exit %d: %s", code, errs)
	}
	mustKura(t, "collection", "drop", "kura")
	if _, errs, code := kura(t, "search", "x"); code != exitFailure || !strings.Contains(errs, "does not exist in Milvus at "+srv.URI()) {
		t.Errorf("search of a dropped collection: exit %d: %s", code, errs)
	}
}

func slicesEqualMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestMilvusReingest: a re-run sends nothing; a changed file sends a
// delete of exactly its stale chunks and inserts exactly its new ones; no
// chunk is ever stored twice; --prune deletes a removed file's chunks.
func TestMilvusReingest(t *testing.T) {
	srv := milvusFake(t)
	dir := corpus(t)
	docs := filepath.Join(dir, "docs")
	first := ingestJSON(t, 0, docs)

	srv.Reset()
	second := ingestJSON(t, 0, docs)
	if second.Added != 0 || second.Removed != 0 {
		t.Fatalf("second run: %+v", second)
	}
	if n := len(srv.Calls("Insert", "Delete")); n != 0 {
		t.Errorf("an unchanged re-run sent %d inserts or deletes", n)
	}

	gitops := filepath.Join(docs, "gitops.md")
	before := srv.SourceChunkIDs("kura", gitops)
	changed := strings.Replace(sampleJa, "同期は自動にも手動にもできます。", "同期の間隔は三分です。", 1)
	writeFile(t, gitops, []byte(changed))
	srv.Reset()
	third := ingestJSON(t, 0, docs)
	after := srv.SourceChunkIDs("kura", gitops)
	if third.Added == 0 || third.Removed == 0 {
		t.Fatalf("changed file: %+v", third)
	}
	if got, want := deletedIDs(t, srv), minus(before, after); !slices.Equal(got, want) {
		t.Errorf("deleted %v, want the stale chunks %v", got, want)
	}
	ins := insertedIDs(srv)
	if len(ins) != 1 || !slices.Equal(ins[gitops], minus(after, before)) {
		t.Errorf("inserted %v, want only the new chunks of %s: %v", ins, gitops, minus(after, before))
	}
	ids := srv.ChunkIDs("kura")
	if u := slices.Compact(slices.Sorted(slices.Values(ids))); len(u) != len(ids) || len(ids) != first.Added-third.Removed+third.Added {
		t.Errorf("%d rows, %d distinct chunk ids; want %d, no duplicates", len(ids), len(u), first.Added-third.Removed+third.Added)
	}

	tekton := filepath.Join(docs, "tekton.txt")
	gone := srv.SourceChunkIDs("kura", tekton)
	if err := os.Remove(tekton); err != nil {
		t.Fatal(err)
	}
	srv.Reset()
	pruned := ingestJSON(t, 0, "--prune", docs)
	slices.Sort(gone)
	if got := deletedIDs(t, srv); pruned.Removed != len(gone) || !slices.Equal(got, gone) {
		t.Errorf("prune deleted %v (summary %+v), want %v", got, pruned, gone)
	}
	if len(srv.SourceChunkIDs("kura", tekton)) != 0 || len(srv.Calls("Insert")) != 0 {
		t.Error("prune left rows or inserted")
	}
}

// TestMilvusOversizedChunk: a chunk over the 2048-byte text field is
// reported and never sent; the others are stored.
func TestMilvusOversizedChunk(t *testing.T) {
	srv := milvusFake(t)
	dir := t.TempDir()
	long := strings.Repeat("長", 800) // 2400 bytes
	writeFile(t, filepath.Join(dir, "long.txt"), []byte("短い行\n"+long+"\n次の行"))
	out, errs, code := kura(t, "ingest", "--json", "--splitter", "character", "--chunk-size", "200", filepath.Join(dir, "long.txt"))
	if code != exitPartial || !strings.Contains(errs, "2400 bytes") || !strings.Contains(errs, "2048") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, c := range srv.Calls() {
		b, _ := json.Marshal(c.Req)
		if strings.Contains(string(b), long) {
			t.Errorf("the oversized chunk was sent in %s", c.Method)
		}
	}
	if srv.Rows("kura") != 2 {
		t.Errorf("%d rows stored, want the 2 short chunks", srv.Rows("kura"))
	}
}

// TestMilvusUnreachable: a server that is not there fails fast with the
// address and how to start one.
func TestMilvusUnreachable(t *testing.T) {
	t.Setenv("KURA_STORE", "")
	t.Setenv("MILVUS_TOKEN", "tok-secret")
	dir := corpus(t)
	_, errs, code := kura(t, "ingest", "--milvus-uri", "http://127.0.0.1:1", filepath.Join(dir, "docs"))
	if code != exitFailure || !strings.Contains(errs, "http://127.0.0.1:1") || !strings.Contains(errs, "is Milvus running?") || strings.Contains(errs, "tok-secret") {
		t.Errorf("exit %d: %s", code, errs)
	}
	_, errs, code = kura(t, "search", "--store", "milvus", "--consistency", "sometimes", "x")
	if code != exitUsage || !strings.Contains(errs, "Strong, Bounded") {
		t.Errorf("bad --consistency: exit %d: %s", code, errs)
	}
}

// TestMilvusMetadataUpdate: a changed --set value re-stores every chunk
// with its stored vector, read back from Milvus; nothing is embedded.
func TestMilvusMetadataUpdate(t *testing.T) {
	srv := milvusFake(t)
	dir := corpus(t)
	docs := filepath.Join(dir, "docs")
	first := ingestFull(t, 0, "--context", "bm25", "--set", "team=alpha", docs)
	srv.Reset()
	second := ingestFull(t, 0, "--set", "team=beta", docs)
	if second.Updated != first.Added || second.Embedded != 0 || second.Added != 0 || second.Removed != 0 {
		t.Fatalf("metadata update on Milvus: %+v (first %+v)", second, first)
	}
	if len(srv.Calls("Insert", "Upsert")) == 0 {
		t.Fatal("no rows were written")
	}
	out := mustKura(t, "search", "--json", "-k", "20", "--filter", `team == "beta"`, "GitOps")
	if n := strings.Count(out, "\n"); n != first.Added {
		t.Fatalf("%d chunks have the new metadata, want %d", n, first.Added)
	}
}

// TestMilvusNoSpuriousUpdates: metadata of every JSON shape reads back
// from Milvus equal, so an unchanged re-ingest sends no writes.
func TestMilvusNoSpuriousUpdates(t *testing.T) {
	srv := milvusFake(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "c.jsonl")
	writeFile(t, p, []byte(`{"id": "a", "title": "<b>&題</b>", "text": "本文その一です。", "big": 9007199254740993, "f": 4.50, "ok": true, "none": null}
{"id": "b", "text": "本文その二です。", "nested": {"k": [1, "two", {"x": null}], "z": 1.0}, "list": [], "obj": {}}
`))
	ingestFull(t, 0, "--set", "team=alpha", "--set", "n=3", p)
	srv.Reset()
	again := ingestFull(t, 0, "--set", "team=alpha", "--set", "n=3", p)
	if again.Updated != 0 || again.Added != 0 || len(srv.Calls("Insert", "Upsert", "Delete")) != 0 {
		t.Fatalf("unchanged re-ingest on Milvus wrote: %+v", again)
	}
}

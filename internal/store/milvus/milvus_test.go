package milvus

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus/client/v2/milvusclient"
	"github.com/milvus-io/milvus/pkg/v2/util/merr"
	"google.golang.org/protobuf/proto"

	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/milvus/milvusfake"
)

// notebook is the reference notebook's collection: Cohere
// embed-multilingual-v3.0 (1024 dimensions), COSINE, IVF_FLAT nlist=128,
// text VARCHAR(2048).
var notebook = store.Schema{
	Dim:      1024,
	Metric:   store.MetricCosine,
	Embedder: store.EmbedderInfo{Name: "cohere", Model: "embed-multilingual-v3.0", Dim: 1024},
	Index:    store.IndexSpec{Type: store.IndexIVFFlat, Params: map[string]int{"nlist": 128}},
}

func kvs(p []*commonpb.KeyValuePair) map[string]string {
	m := map[string]string{}
	for _, kv := range p {
		m[kv.Key] = kv.Value
	}
	return m
}

func only[T proto.Message](t *testing.T, srv *milvusfake.Server, method string) T {
	t.Helper()
	calls := srv.Calls(method)
	if len(calls) != 1 {
		t.Fatalf("%d %s requests, want 1 (requests: %v)", len(calls), method, srv.Methods())
	}
	return calls[0].Req.(T)
}

func vec(dim int, x ...float32) []float32 {
	v := make([]float32, dim)
	copy(v, x)
	return v
}

// TestNotebookCollection: created with the notebook's settings, the schema
// and index requests are the notebook's, plus kura's chunk_id and source,
// and the client waits for the indexes, then loads and waits for the load.
func TestNotebookCollection(t *testing.T) {
	srv := newFake(t, milvusfake.Options{IndexPolls: 2, LoadPolls: 2})
	s := openFake(t, srv, Options{})
	srv.Reset()
	c, err := s.Create(t.Context(), "notebook", notebook)
	if err != nil {
		t.Fatal(err)
	}

	req := only[*milvuspb.CreateCollectionRequest](t, srv, "CreateCollection")
	var sc schemapb.CollectionSchema
	if err := proto.Unmarshal(req.Schema, &sc); err != nil {
		t.Fatal(err)
	}
	if req.CollectionName != "notebook" || sc.Name != "notebook" || !sc.AutoID || !sc.EnableDynamicField {
		t.Errorf("collection %q, schema name %q, auto id %v, dynamic %v; want notebook, auto id, dynamic fields", req.CollectionName, sc.Name, sc.AutoID, sc.EnableDynamicField)
	}
	if req.ConsistencyLevel != commonpb.ConsistencyLevel_Strong {
		t.Errorf("consistency level %v, want Strong", req.ConsistencyLevel)
	}
	type fieldWant struct {
		name        string
		typ         schemapb.DataType
		pk, autoID  bool
		typeParams  map[string]string
		description string
	}
	var got []fieldWant
	for _, f := range sc.Fields {
		got = append(got, fieldWant{f.Name, f.DataType, f.IsPrimaryKey, f.AutoID, kvs(f.TypeParams), ""})
	}
	want := []fieldWant{
		{"id", schemapb.DataType_Int64, true, true, map[string]string{}, ""},
		{"vector", schemapb.DataType_FloatVector, false, false, map[string]string{"dim": "1024"}, ""},
		{"text", schemapb.DataType_VarChar, false, false, map[string]string{"max_length": "2048"}, ""},
		{"chunk_id", schemapb.DataType_Int64, false, false, map[string]string{}, ""},
		{"source", schemapb.DataType_VarChar, false, false, map[string]string{"max_length": "65535"}, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields\n got %+v\nwant %+v", got, want)
	}
	var m meta
	if err := json.Unmarshal([]byte(sc.Description), &m); err != nil || m.Kura != 1 || m.Embedder != notebook.Embedder || m.Metric != "COSINE" {
		t.Errorf("description %q does not hold the kura schema", sc.Description)
	}

	indexes := map[string]map[string]string{}
	for _, call := range srv.Calls("CreateIndex") {
		r := call.Req.(*milvuspb.CreateIndexRequest)
		indexes[r.FieldName] = kvs(r.ExtraParams)
	}
	wantIdx := map[string]map[string]string{
		"vector":   {"index_type": "IVF_FLAT", "metric_type": "COSINE", "nlist": "128"},
		"chunk_id": {"index_type": "INVERTED"},
		"source":   {"index_type": "INVERTED"},
	}
	if !reflect.DeepEqual(indexes, wantIdx) {
		t.Errorf("indexes %v, want %v", indexes, wantIdx)
	}

	// create → indexes → wait until built → load → wait until loaded.
	seq := srv.Methods()
	at := func(m string) int { return slices.Index(seq, m) }
	last := func(m string) int {
		for i := len(seq) - 1; i >= 0; i-- {
			if seq[i] == m {
				return i
			}
		}
		return -1
	}
	if !(at("CreateCollection") < at("CreateIndex") && last("CreateIndex") < at("DescribeIndex") &&
		last("DescribeIndex") < at("LoadCollection") && at("LoadCollection") < at("GetLoadingProgress") &&
		last("GetLoadingProgress") == len(seq)-1) {
		t.Errorf("request sequence %v; want create, indexes, describe until built, load, progress until loaded", seq)
	}
	if n := len(srv.Calls("DescribeIndex")); n < 3*3 {
		t.Errorf("%d DescribeIndex polls; the fake reports 2 in-progress answers per index, so at least 9", n)
	}
	if n := len(srv.Calls("GetLoadingProgress")); n != 3 {
		t.Errorf("%d GetLoadingProgress polls, want 3 (50, 50, 100)", n)
	}

	// The notebook's search: top 3, output fields text and subject.
	if err := c.Upsert(t.Context(), []store.Row{
		{ID: 7, Vector: vec(1024, 1), Text: "GitOpsとは", Fields: map[string]any{"source": "a.txt", "subject": "technology"}},
		{ID: 8, Vector: vec(1024, 0, 1), Text: "Argo CD", Fields: map[string]any{"source": "a.txt"}},
	}); err != nil {
		t.Fatal(err)
	}
	srv.Reset()
	q := vec(1024, 0.5, 0.25)
	hits, err := c.Search(t.Context(), store.SearchRequest{Vector: q, Limit: 3, OutputFields: []string{"text", "subject"}})
	if err != nil {
		t.Fatal(err)
	}
	sr := only[*milvuspb.SearchRequest](t, srv, "Search")
	if sr.CollectionName != "notebook" || sr.Nq != 1 || sr.Dsl != "" {
		t.Errorf("search of %q, nq %d, dsl %q", sr.CollectionName, sr.Nq, sr.Dsl)
	}
	// chunk_id rides along: it is the hit's id (Milvus's own id is an auto id).
	if want := []string{"text", "subject", "chunk_id"}; !slices.Equal(sr.OutputFields, want) {
		t.Errorf("output fields %q, want %q", sr.OutputFields, want)
	}
	wantParams := map[string]string{"anns_field": "vector", "topk": "3", "metric_type": "COSINE", "params": "{}",
		"offset": "0", "round_decimal": "-1", "ignore_growing": "false"}
	if p := kvs(sr.SearchParams); !reflect.DeepEqual(p, wantParams) {
		t.Errorf("search params %v, want %v", p, wantParams)
	}
	if sr.ConsistencyLevel != commonpb.ConsistencyLevel_Strong || sr.UseDefaultConsistency {
		t.Errorf("consistency %v (use default %v), want Strong", sr.ConsistencyLevel, sr.UseDefaultConsistency)
	}
	var phg commonpb.PlaceholderGroup
	if err := proto.Unmarshal(sr.GetPlaceholderGroup(), &phg); err != nil || len(phg.Placeholders) != 1 || len(phg.Placeholders[0].Values) != 1 {
		t.Fatalf("placeholder group %v, %v", &phg, err)
	}
	raw := phg.Placeholders[0].Values[0]
	if phg.Placeholders[0].Type != commonpb.PlaceholderType_FloatVector || len(raw) != 4*1024 ||
		math.Float32frombits(binary.LittleEndian.Uint32(raw)) != 0.5 {
		t.Errorf("query vector not sent as 1024 float32s")
	}
	if len(hits) != 2 || hits[0].ID != 7 || hits[1].ID != 8 {
		t.Fatalf("hits %+v, want chunk ids 7 and 8", hits)
	}
	b, _ := json.Marshal(hits[0])
	if want := `{"id":7,"score":0.8944272,"entity":{"subject":"technology","text":"GitOpsとは"}}`; string(b) != want {
		t.Errorf("hit JSON %s, want %s", b, want)
	}
}

// TestSearchParams: nprobe reaches an IVF_FLAT search, ef an HNSW one, each
// only for its own index; the filter goes through with id renamed.
func TestSearchParams(t *testing.T) {
	srv := newFake(t, milvusfake.Options{})
	s := openFake(t, srv, Options{Consistency: "bounded"})
	ivf, err := s.Create(t.Context(), "ivf", store.Schema{Dim: 2, Metric: "IP", Index: store.IndexSpec{Type: "IVF_FLAT", Params: map[string]int{"nlist": 64}}})
	if err != nil {
		t.Fatal(err)
	}
	hnsw, err := s.Create(t.Context(), "hnsw", store.Schema{Dim: 2, Metric: "L2", Index: store.IndexSpec{Type: "HNSW", Params: map[string]int{"M": 32, "efConstruction": 256}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range srv.Calls("CreateIndex") {
		r := call.Req.(*milvuspb.CreateIndexRequest)
		if r.CollectionName == "hnsw" && r.FieldName == "vector" {
			if p, want := kvs(r.ExtraParams), map[string]string{"index_type": "HNSW", "metric_type": "L2", "M": "32", "efConstruction": "256"}; !reflect.DeepEqual(p, want) {
				t.Errorf("HNSW index params %v, want %v", p, want)
			}
		}
	}
	f := func(c store.Collection, req store.SearchRequest, wantParams, wantDsl string) {
		t.Helper()
		srv.Reset()
		if _, err := c.Search(t.Context(), req); err != nil {
			t.Fatal(err)
		}
		sr := only[*milvuspb.SearchRequest](t, srv, "Search")
		p := kvs(sr.SearchParams)
		if p["params"] != wantParams || sr.Dsl != wantDsl || p["metric_type"] != c.Schema().Metric {
			t.Errorf("%s: params %s, dsl %q, metric %s; want %s, %q, %s", c.Name(), p["params"], sr.Dsl, p["metric_type"], wantParams, wantDsl, c.Schema().Metric)
		}
		if sr.ConsistencyLevel != commonpb.ConsistencyLevel_Bounded {
			t.Errorf("consistency %v, want the configured Bounded", sr.ConsistencyLevel)
		}
	}
	q := []float32{1, 0}
	f(ivf, store.SearchRequest{Vector: q, Limit: 5, Params: map[string]int{"nprobe": 16, "ef": 99}}, `{"nprobe":16}`, "")
	f(hnsw, store.SearchRequest{Vector: q, Limit: 5, Params: map[string]int{"nprobe": 16, "ef": 99}}, `{"ef":99}`, "")
	f(hnsw, store.SearchRequest{Vector: q, Limit: 5}, `{}`, "")
	f(ivf, store.SearchRequest{Vector: q, Limit: 5, Filter: `subject == "technology" and year > 2020`}, `{}`, `subject == "technology" and year > 2020`)
	f(ivf, store.SearchRequest{Vector: q, Limit: 5, Filter: `id in [1, 2] or source like "docs/%"`}, `{}`, `chunk_id in [1, 2] or source like "docs/%"`)

	// A malformed filter, a bad limit or dimension is refused before any request.
	srv.Reset()
	for _, req := range []store.SearchRequest{
		{Vector: q, Limit: 5, Filter: `year = 2020`},
		{Vector: q, Limit: 0},
		{Vector: []float32{1}, Limit: 1},
	} {
		_, err := ivf.Search(t.Context(), req)
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Search(%+v) = %v, want ErrInvalid", req, err)
		}
	}
	if calls := srv.Methods(); len(calls) != 0 {
		t.Errorf("invalid searches sent %v", calls)
	}
}

// TestUpsertRequests: the insert columns, the batch size, the delete of
// replaced rows, and no request at all for a row over the byte limit.
func TestUpsertRequests(t *testing.T) {
	srv := newFake(t, milvusfake.Options{})
	s := openFake(t, srv, Options{InsertBatchRows: 2})
	c, err := s.Create(t.Context(), "up", store.Schema{Dim: 2, Metric: "COSINE", TextMaxBytes: 30})
	if err != nil {
		t.Fatal(err)
	}
	srv.Reset()
	rows := []store.Row{
		{ID: 1, Vector: []float32{1, 0}, Text: "一", Fields: map[string]any{"source": "a.md", "chunk_index": 0, "big": int64(1) << 60}},
		{ID: 2, Vector: []float32{0, 1}, Text: "二", Fields: map[string]any{"source": "a.md", "chunk_index": 1}},
		{ID: 3, Vector: []float32{1, 1}, Text: "三", Fields: map[string]any{"source": "b.md", "chunk_index": 0}},
	}
	if err := c.Upsert(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	if got, want := kuraMethods(srv), []string{"Query", "Insert", "Insert"}; !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v (look up existing ids, insert 2 + 1)", got, want)
	}
	q := srv.Calls("Query")[0].Req.(*milvuspb.QueryRequest)
	if q.Expr != "chunk_id in [1,2,3]" || q.ConsistencyLevel != commonpb.ConsistencyLevel_Strong || !slices.Equal(q.OutputFields, []string{"chunk_id"}) {
		t.Errorf("existence query %q, %v, %q", q.Expr, q.ConsistencyLevel, q.OutputFields)
	}
	ins := srv.Calls("Insert")[0].Req.(*milvuspb.InsertRequest)
	cols := map[string]*schemapb.FieldData{}
	for _, fd := range ins.FieldsData {
		cols[fd.FieldName] = fd
	}
	if len(cols) != 5 || cols["id"] != nil {
		t.Errorf("insert columns %v; want chunk_id, vector, text, source, $meta and no auto id", slices.Collect(mapsKeys(cols)))
	}
	if ins.NumRows != 2 || !slices.Equal(cols["chunk_id"].GetScalars().GetLongData().GetData(), []int64{1, 2}) ||
		!slices.Equal(cols["text"].GetScalars().GetStringData().GetData(), []string{"一", "二"}) ||
		!slices.Equal(cols["source"].GetScalars().GetStringData().GetData(), []string{"a.md", "a.md"}) ||
		cols["vector"].GetVectors().GetDim() != 2 || !slices.Equal(cols["vector"].GetVectors().GetFloatVector().GetData(), []float32{1, 0, 0, 1}) {
		t.Errorf("insert columns: %v", cols)
	}
	metaCol := cols["$meta"]
	if metaCol == nil || !metaCol.IsDynamic || metaCol.Type != schemapb.DataType_JSON {
		t.Fatalf("dynamic column %v", metaCol)
	}
	if got := string(metaCol.GetScalars().GetJsonData().GetData()[0]); got != `{"big":1152921504606846976,"chunk_index":0}` {
		t.Errorf("dynamic JSON %s; want exact int64 and no source (it has its own field)", got)
	}

	// Replacing row 2 deletes the stored one first.
	srv.Reset()
	if err := c.Upsert(t.Context(), []store.Row{{ID: 2, Vector: []float32{0, 1}, Text: "二'", Fields: map[string]any{"source": "a.md"}}}); err != nil {
		t.Fatal(err)
	}
	if got, want := kuraMethods(srv), []string{"Query", "Delete", "Insert"}; !slices.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
	if d := only[*milvuspb.DeleteRequest](t, srv, "Delete"); d.Expr != "chunk_id in [2]" || d.CollectionName != "up" {
		t.Errorf("delete %q on %q", d.Expr, d.CollectionName)
	}
	if ids := srv.ChunkIDs("up"); len(ids) != 3 {
		t.Errorf("stored chunk ids %v, want three distinct", ids)
	}

	// 31 bytes in a 30-byte field: refused, nothing sent, the error says which row.
	srv.Reset()
	err = c.Upsert(t.Context(), []store.Row{
		{ID: 4, Vector: []float32{1, 0}, Text: "ok", Fields: map[string]any{"source": "c.md"}},
		{ID: 5, Vector: []float32{1, 0}, Text: strings.Repeat("蔵", 10) + "x", Fields: map[string]any{"source": "long.md"}},
	})
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "long.md") || !strings.Contains(err.Error(), "31 bytes") {
		t.Errorf("oversized row: %v", err)
	}
	if calls := srv.Methods(); len(calls) != 0 {
		t.Errorf("an oversized row sent %v", calls)
	}
	err = c.Upsert(t.Context(), []store.Row{{ID: 6, Vector: []float32{1, 0}, Fields: map[string]any{"source": "d.jsonl", "chunk_id": 1}}})
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "chunk_id") || len(srv.Methods()) != 0 {
		t.Errorf("metadata named chunk_id: %v, requests %v", err, srv.Methods())
	}
}

// kuraMethods are the recorded requests without the SDK's schema lookups
// (DescribeCollection, cached per client).
func kuraMethods(srv *milvusfake.Server) []string {
	return slices.DeleteFunc(srv.Methods(), func(m string) bool { return m == "DescribeCollection" })
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestPagedReads: SourceIDs, Sources and Stats read every row through the
// query iterator, in pages, with Strong consistency.
func TestPagedReads(t *testing.T) {
	srv := newFake(t, milvusfake.Options{})
	s := openFake(t, srv, Options{})
	cs, err := s.Create(t.Context(), "pages", store.Schema{Dim: 2, Metric: "L2"})
	if err != nil {
		t.Fatal(err)
	}
	c := cs.(*Collection)
	const n = queryBatch*2 + 7
	rows := make([]store.Row, n)
	for i := range rows {
		rows[i] = store.Row{ID: int64(i + 1), Vector: []float32{float32(i), 0}, Fields: map[string]any{"source": fmt.Sprintf("s%d", i%3)}}
	}
	if err := c.Upsert(t.Context(), rows); err != nil {
		t.Fatal(err)
	}
	srv.Reset()
	st, err := c.Stats(t.Context())
	if err != nil || st.Rows != n || st.Sources != 3 || st.DiskBytes != 0 {
		t.Errorf("Stats = %+v, %v", st, err)
	}
	var pages int
	for _, call := range srv.Calls("Query") {
		q := call.Req.(*milvuspb.QueryRequest)
		if q.ConsistencyLevel != commonpb.ConsistencyLevel_Strong {
			t.Errorf("query %q with consistency %v", q.Expr, q.ConsistencyLevel)
		}
		if slices.Contains(q.OutputFields, "source") {
			pages++
		}
	}
	if pages != 4 { // 4096 + 4096 + 7, then an empty page
		t.Errorf("%d pages of sources, want 4", pages)
	}
	ids, err := c.SourceIDs(t.Context(), `s1`)
	if err != nil || len(ids) != (n+1)/3 {
		t.Errorf("SourceIDs(s1) = %d ids, %v", len(ids), err)
	}
	if q := srv.Calls("Query"); !strings.HasPrefix(q[len(q)-1].Req.(*milvuspb.QueryRequest).Expr, `(source == "s1") and id > `) {
		t.Errorf("last page expression %q", q[len(q)-1].Req.(*milvuspb.QueryRequest).Expr)
	}
	if got := quote(`a "b" \ 設計.md`); got != `"a \"b\" \\ 設計.md"` {
		t.Errorf("quote = %s", got)
	}
}

// TestErrors: each failure names the server and the next step, and never
// prints a credential.
func TestErrors(t *testing.T) {
	ctx := t.Context()
	// Nothing listens: fails at once, with the start hint.
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + lis.Addr().String()
	lis.Close()
	start := time.Now()
	_, err := Open(ctx, Options{URI: dead})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), dead) || !strings.Contains(err.Error(), "is Milvus running?") || !strings.Contains(err.Error(), "standalone_embed.sh") {
		t.Errorf("server down: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("server down took %v to report", time.Since(start))
	}

	srv := newFake(t, milvusfake.Options{Token: "root:Milvus", Databases: []string{"team"}})
	_, err = Open(ctx, Options{URI: srv.URI(), Token: "root:wrong-secret"})
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "MILVUS_TOKEN") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("bad token: %v", err)
	}
	uriWithPassword := strings.Replace(srv.URI(), "http://", "http://root:pw-secret@", 1)
	_, err = Open(ctx, Options{URI: uriWithPassword})
	if !errors.Is(err, ErrAuth) || strings.Contains(err.Error(), "pw-secret") {
		t.Errorf("bad password in URI: %v", err)
	}
	if _, err := Open(ctx, Options{URI: uriWithPassword, Token: "root:Milvus"}); err != nil {
		t.Errorf("good token: %v", err)
	}
	_, err = Open(ctx, Options{URI: srv.URI(), Token: "root:Milvus", Database: "nope"})
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "MILVUS_DB") {
		t.Errorf("missing database: %v", err)
	}
	s, err := Open(ctx, Options{Token: "root:Milvus", URI: srv.URI() + "/team"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Create(ctx, "c", store.Schema{Dim: 2, Metric: "IP"}); err != nil {
		t.Fatal(err)
	}
	if db := srv.Calls("CreateCollection")[0].DB; db != "team" {
		t.Errorf("collection created in database %q, want team (from the URI path)", db)
	}

	_, err = s.Open(ctx, "missing")
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing collection: %v", err)
	}
	if err := s.Drop(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("drop of a missing collection: %v", err)
	}
	_, err = s.Create(ctx, "c", store.Schema{Dim: 2, Metric: "IP"})
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("create of an existing collection: %v", err)
	}
	_, err = s.Create(ctx, "sq8", store.Schema{Dim: 2, Metric: "IP", Index: store.IndexSpec{Type: "HNSW", SQ8: true}})
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "SQ8") {
		t.Errorf("SQ8 on Milvus: %v", err)
	}

	// The server dies between requests.
	c, err := s.Open(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext("Search", merr.WrapErrServiceUnavailable("proxy is stopping"))
	_, err = c.Search(ctx, store.SearchRequest{Vector: []float32{1, 0}, Limit: 1})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "is Milvus running?") {
		t.Errorf("unavailable: %v", err)
	}
	// A schema the server refuses.
	srv.FailNext("Insert", merr.WrapErrParameterInvalidMsg("the length (70000) of dynamic field exceeds max length (65536)"))
	err = c.Upsert(ctx, []store.Row{{ID: 1, Vector: []float32{1, 0}, Fields: map[string]any{"source": "x"}}})
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("schema mismatch: %v", err)
	}
	// The collection was dropped behind kura's back.
	srv.FailNext("Search", merr.WrapErrCollectionNotFound("c"))
	_, err = c.Search(ctx, store.SearchRequest{Vector: []float32{1, 0}, Limit: 1})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("collection gone: %v", err)
	}
	// Cancelled: the context's error, not gRPC's.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Search(cctx, store.SearchRequest{Vector: []float32{1, 0}, Limit: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: %v", err)
	}
}

// TestForeignCollections: a collection kura did not create (here the
// notebook's own, made with the SDK's quick setup) is not listed, cannot
// be opened or dropped through kura, and says why.
func TestForeignCollections(t *testing.T) {
	srv := newFake(t, milvusfake.Options{})
	s := openFake(t, srv, Options{})
	cli, _ := s.cli()
	if err := cli.CreateCollection(t.Context(), milvusclient.SimpleCreateCollectionOptions("notebook", 4)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(t.Context(), "mine", store.Schema{Dim: 2, Metric: "IP"}); err != nil {
		t.Fatal(err)
	}
	if names, err := s.List(t.Context()); err != nil || !slices.Equal(names, []string{"mine"}) {
		t.Errorf("List = %q, %v; want only kura's", names, err)
	}
	_, err := s.Open(t.Context(), "notebook")
	if !errors.Is(err, store.ErrMismatch) || !strings.Contains(err.Error(), "not created by kura") {
		t.Errorf("Open(notebook) = %v", err)
	}
	if err := s.Drop(t.Context(), "notebook"); !errors.Is(err, store.ErrMismatch) {
		t.Errorf("Drop(notebook) = %v", err)
	}
	if srv.Rows("notebook") != 0 || len(srv.Calls("DropCollection")) != 0 {
		t.Error("a foreign collection was dropped")
	}
}

// TestOpenLoadsReleased: a released collection is loaded again on Open.
func TestOpenLoadsReleased(t *testing.T) {
	srv := newFake(t, milvusfake.Options{LoadPolls: 1})
	s := openFake(t, srv, Options{})
	if _, err := s.Create(t.Context(), "c", store.Schema{Dim: 2, Metric: "IP"}); err != nil {
		t.Fatal(err)
	}
	srv.Release("c")
	srv.Reset()
	c, err := s.Open(t.Context(), "c")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := srv.Methods(), []string{"DescribeCollection", "GetLoadState", "LoadCollection", "GetLoadingProgress", "GetLoadingProgress"}; !slices.Equal(got, want) {
		t.Errorf("Open of a released collection sent %v, want %v", got, want)
	}
	if _, err := c.Search(t.Context(), store.SearchRequest{Vector: []float32{1, 0}, Limit: 1}); err != nil {
		t.Errorf("search after reload: %v", err)
	}
	srv.Reset()
	if _, err := s.Open(t.Context(), "c"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Methods(); slices.Contains(got, "LoadCollection") {
		t.Errorf("Open of a loaded collection sent %v", got)
	}
}

func TestAddress(t *testing.T) {
	f := func(uri, addr, db, user, pw string) {
		t.Helper()
		a, d, u, p, err := address(uri)
		if err != nil || a != addr || d != db || u != user || p != pw {
			t.Errorf("address(%q) = %q %q %q %q %v", uri, a, d, u, p, err)
		}
	}
	f("http://localhost:19530", "http://localhost:19530", "", "", "")
	f("localhost:19530", "http://localhost:19530", "", "", "")
	f("http://milvus.example", "http://milvus.example:19530", "", "", "")
	f("https://in01.zillizcloud.com/db1", "https://in01.zillizcloud.com:443", "db1", "", "")
	f("http://root:Milvus@10.0.0.5:19530/", "http://10.0.0.5:19530", "", "root", "Milvus")
	for _, bad := range []string{"ftp://x:1", "http://", "://"} {
		if _, _, _, _, err := address(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("address(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if got := RedactURI("http://root:secret@host:19530/db"); got != "http://root@host:19530/db" {
		t.Errorf("RedactURI = %s", got)
	}
	if got := Where("http://root:secret@host:19530/db", ""); got != "Milvus at http://root@host:19530/db (database db)" {
		t.Errorf("Where = %s", got)
	}
}

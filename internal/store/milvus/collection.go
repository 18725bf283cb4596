package milvus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/milvus-io/milvus/client/v2/column"
	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"
	"github.com/milvus-io/milvus/client/v2/milvusclient"

	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/store/filter"
)

// idsPerExpr bounds the ids in one `chunk_id in [...]` expression, so an
// expression stays a few tens of KiB whatever the caller passes.
const idsPerExpr = 1000

// queryBatch is the page size when kura reads every row of a source or of
// the collection; Milvus answers at most 16384 rows per query.
const queryBatch = 4096

// Collection is a kura collection on Milvus. It implements
// [store.Collection].
type Collection struct {
	s      *Store
	name   string
	schema store.Schema
}

var _ store.Collection = (*Collection)(nil)

func (c *Collection) Name() string         { return c.name }
func (c *Collection) Schema() store.Schema { return c.schema }

// Fields describes the collection's Milvus layout (for `collection
// describe`).
func (c *Collection) Fields() []Field { return Fields(c.schema) }

// Close does nothing: the connection belongs to the Store.
func (c *Collection) Close() error { return nil }

// Upsert replaces rows by chunk id: it deletes the stored rows with the
// same chunk ids, then inserts the new ones in batches of
// Options.InsertBatchRows. Every row is checked against the schema (text
// byte limit included) before any request is sent, so an oversized chunk
// costs no round trip and leaves the collection as it was.
//
// Milvus has no transactions, so unlike the embedded store this is not
// atomic: if an insert fails part-way, the rows this call already inserted
// are deleted again (best effort), but replaced rows stay deleted. The
// ingest pipeline tolerates that: the missing chunks are re-inserted by
// the next run, because their ids are no longer stored.
func (c *Collection) Upsert(ctx context.Context, rows []store.Row) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	for _, r := range rows {
		if err := c.schema.CheckRow(r); err != nil {
			return err
		}
		// Milvus refuses a dynamic key named like a schema field.
		for _, k := range []string{fieldChunkID, fieldMeta} {
			if _, ok := r.Fields[k]; ok {
				return store.Errorf(store.ErrInvalid, "row %d (source %q): %q is a field of kura's Milvus schema and cannot be used as metadata; rename it (JSONL: another key)", r.ID, r.Source(), k)
			}
		}
	}
	// The last row with an id wins, as in a sequence of single upserts.
	last := make(map[int64]int, len(rows))
	for i, r := range rows {
		last[r.ID] = i
	}
	if len(last) < len(rows) {
		uniq := make([]store.Row, 0, len(last))
		for i, r := range rows {
			if last[r.ID] == i {
				uniq = append(uniq, r)
			}
		}
		rows = uniq
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	existing, err := c.existing(ctx, ids)
	if err != nil {
		return err
	}
	if err := c.Delete(ctx, existing); err != nil {
		return err
	}
	cli, err := c.s.cli()
	if err != nil {
		return err
	}
	batch := c.s.opts.InsertBatchRows
	for start := 0; start < len(rows); start += batch {
		part := rows[start:min(start+batch, len(rows))]
		err := ctx.Err()
		if err == nil {
			_, err = cli.Insert(ctx, c.insertOption(part))
			err = c.s.wrap(ctx, fmt.Sprintf("insert %d rows into %s", len(part), c.name), err)
		}
		if err != nil {
			if start > 0 {
				_ = c.Delete(context.WithoutCancel(ctx), ids[:start])
			}
			return err
		}
	}
	return nil
}

// insertOption builds the column-based insert: chunk_id, vector, text,
// source, and the remaining fields as one pre-encoded dynamic JSON column,
// so that int64 metadata stays exact (the SDK would go through any).
func (c *Collection) insertOption(rows []store.Row) milvusclient.InsertOption {
	n := len(rows)
	chunkIDs := make([]int64, n)
	vectors := make([][]float32, n)
	texts := make([]string, n)
	sources := make([]string, n)
	metas := make([][]byte, n)
	for i, r := range rows {
		chunkIDs[i] = r.ID
		vectors[i] = r.Vector
		texts[i] = r.Text
		sources[i] = r.Source()
		dyn := make(map[string]any, len(r.Fields))
		for k, v := range r.Fields {
			if k != fieldSource {
				dyn[k] = v
			}
		}
		metas[i], _ = json.Marshal(dyn) // CheckRow proved every value encodes
	}
	return milvusclient.NewColumnBasedInsertOption(c.name,
		column.NewColumnInt64(fieldChunkID, chunkIDs),
		column.NewColumnFloatVector(fieldVector, c.schema.Dim, vectors),
		column.NewColumnVarChar(fieldText, texts),
		column.NewColumnVarChar(fieldSource, sources),
		column.NewColumnJSONBytes(fieldMeta, metas).WithIsDynamic(true),
	)
}

// existing returns which of ids are stored.
func (c *Collection) existing(ctx context.Context, ids []int64) ([]int64, error) {
	var out []int64
	for part := range slices.Chunk(ids, idsPerExpr) {
		rs, err := c.query(ctx, inExpr(fieldChunkID, part), []string{fieldChunkID}, 0)
		if err != nil {
			return nil, err
		}
		got, err := int64s(rs, fieldChunkID)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// Delete removes the rows with these chunk ids, in expressions of at most
// idsPerExpr ids. Milvus resolves a delete by expression to the primary
// keys itself.
func (c *Collection) Delete(ctx context.Context, ids []int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	cli, err := c.s.cli()
	if err != nil {
		return err
	}
	for part := range slices.Chunk(ids, idsPerExpr) {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, err := cli.Delete(ctx, milvusclient.NewDeleteOption(c.name).WithExpr(inExpr(fieldChunkID, part)))
		if err != nil {
			return c.s.wrap(ctx, fmt.Sprintf("delete %d rows from %s", len(part), c.name), err)
		}
	}
	return nil
}

// SourceIDs returns the chunk ids of source, read with Strong consistency.
func (c *Collection) SourceIDs(ctx context.Context, source string) ([]int64, error) {
	ids := []int64{}
	err := c.scan(ctx, fieldSource+" == "+quote(source), fieldChunkID, func(rs milvusclient.ResultSet) error {
		got, err := int64s(rs, fieldChunkID)
		ids = append(ids, got...)
		return err
	})
	return ids, err
}

// Sources returns every distinct source. Milvus has no DISTINCT, so this
// reads the source of every row, in pages.
func (c *Collection) Sources(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	err := c.scan(ctx, "", fieldSource, func(rs milvusclient.ResultSet) error {
		col := rs.GetColumn(fieldSource)
		if col == nil {
			return fmt.Errorf("milvus: the server returned no %s column", fieldSource)
		}
		for i := range col.Len() {
			v, err := col.GetAsString(i)
			if err != nil {
				return err
			}
			seen[v] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

// Stats counts rows with count(*) and sources with [Collection.Sources].
// DiskBytes is 0: Milvus does not report a collection's size on disk.
func (c *Collection) Stats(ctx context.Context) (store.Stats, error) {
	rs, err := c.query(ctx, "", []string{"count(*)"}, 0)
	if err != nil {
		return store.Stats{}, err
	}
	var st store.Stats
	if col := rs.GetColumn("count(*)"); col != nil && col.Len() > 0 {
		st.Rows, err = col.GetAsInt64(0)
		if err != nil {
			return st, err
		}
	}
	srcs, err := c.Sources(ctx)
	st.Sources = int64(len(srcs))
	return st, err
}

// Search runs a top-k search. The filter is checked with kura's parser
// (so a malformed one fails as on the embedded store, before any request)
// and sent as written, except that "id" becomes "chunk_id". The hits carry
// the chunk id as their id, never Milvus's auto id.
func (c *Collection) Search(ctx context.Context, req store.SearchRequest) ([]store.Hit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req.Limit <= 0 {
		return nil, store.Errorf(store.ErrInvalid, "search limit is %d; it must be at least 1", req.Limit)
	}
	if len(req.Vector) != c.schema.Dim {
		return nil, store.Errorf(store.ErrInvalid, "query vector has %d dimensions, collection %s has %d", len(req.Vector), c.name, c.schema.Dim)
	}
	for i, v := range req.Vector {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, store.Errorf(store.ErrInvalid, "query vector[%d] is %v", i, v)
		}
	}
	expr, err := milvusFilter(req.Filter)
	if err != nil {
		return nil, err
	}
	cli, err := c.s.cli()
	if err != nil {
		return nil, err
	}
	opt := milvusclient.NewSearchOption(c.name, req.Limit, []entity.Vector{entity.FloatVector(req.Vector)}).
		WithANNSField(fieldVector).
		WithOutputFields(milvusOutputFields(req.OutputFields)...).
		WithConsistencyLevel(c.s.consistency).
		WithSearchParam("metric_type", c.schema.Metric)
	if expr != "" {
		opt = opt.WithFilter(expr)
	}
	if ap := c.annParam(req.Params); ap != nil {
		opt = opt.WithAnnParam(ap)
	}
	results, err := cli.Search(ctx, opt)
	if err != nil {
		return nil, c.s.wrap(ctx, "search "+c.name, err)
	}
	if len(results) == 0 {
		return []store.Hit{}, nil
	}
	rs := results[0]
	if rs.Err != nil {
		return nil, c.s.wrap(ctx, "search "+c.name, rs.Err)
	}
	hits, err := hitsOf(rs, req.OutputFields)
	if err != nil {
		return nil, err
	}
	for i := range hits {
		hits[i].Score = rs.Scores[i]
	}
	return hits, nil
}

// annParam returns the per-search parameters of the collection's index
// type; parameters of other index types are ignored.
func (c *Collection) annParam(p map[string]int) index.AnnParam {
	switch c.schema.Index.Type {
	case store.IndexIVFFlat:
		if n := p["nprobe"]; n > 0 {
			return index.NewIvfAnnParam(n)
		}
	case store.IndexHNSW:
		if ef := p["ef"]; ef > 0 {
			return index.NewHNSWAnnParam(ef)
		}
	}
	return nil
}

// Get returns the rows with these chunk ids.
func (c *Collection) Get(ctx context.Context, ids []int64, outputFields []string) ([]store.Hit, error) {
	hits := []store.Hit{}
	for part := range slices.Chunk(ids, idsPerExpr) {
		rs, err := c.query(ctx, inExpr(fieldChunkID, part), milvusOutputFields(outputFields), 0)
		if err != nil {
			return nil, err
		}
		h, err := hitsOf(rs, outputFields)
		if err != nil {
			return nil, err
		}
		hits = append(hits, h...)
	}
	return hits, nil
}

// query runs one Strong query.
func (c *Collection) query(ctx context.Context, expr string, fields []string, limit int) (milvusclient.ResultSet, error) {
	if err := ctx.Err(); err != nil {
		return milvusclient.ResultSet{}, err
	}
	cli, err := c.s.cli()
	if err != nil {
		return milvusclient.ResultSet{}, err
	}
	opt := milvusclient.NewQueryOption(c.name).
		WithFilter(expr).
		WithOutputFields(fields...).
		WithConsistencyLevel(entity.ClStrong)
	if limit > 0 {
		opt = opt.WithLimit(limit)
	}
	rs, err := cli.Query(ctx, opt)
	return rs, c.s.wrap(ctx, "query "+c.name, err)
}

// scan reads field from every row matching expr, in pages of queryBatch
// rows, with the SDK's query iterator (which pages by primary key).
func (c *Collection) scan(ctx context.Context, expr, field string, page func(milvusclient.ResultSet) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cli, err := c.s.cli()
	if err != nil {
		return err
	}
	opt := milvusclient.NewQueryIteratorOption(c.name).
		WithBatchSize(queryBatch).
		WithOutputFields(field).
		WithConsistencyLevel(entity.ClStrong)
	if expr != "" {
		opt = opt.WithFilter(expr)
	}
	it, err := cli.QueryIterator(ctx, opt)
	if err != nil {
		return c.s.wrap(ctx, "query "+c.name, err)
	}
	for {
		rs, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return c.s.wrap(ctx, "query "+c.name, err)
		}
		if err := page(rs); err != nil {
			return err
		}
	}
}

// milvusOutputFields maps kura's output field names to Milvus's: "id" is
// chunk_id, the vector is never fetched, and chunk_id is always added
// because it is the hit's id. Other names (text, source, dynamic fields,
// "*") go through as they are.
func milvusOutputFields(fields []string) []string {
	out := make([]string, 0, len(fields)+1)
	for _, f := range fields {
		switch f {
		case "id":
			f = fieldChunkID
		case fieldVector, "":
			continue
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if !slices.Contains(out, fieldChunkID) {
		out = append(out, fieldChunkID)
	}
	return out
}

// hitsOf turns a result set into hits whose entities are exactly what the
// embedded store returns for the same output fields: it rebuilds each row
// (chunk id, text, source, dynamic fields) and lets [store.Row.Entity]
// select from it.
func hitsOf(rs milvusclient.ResultSet, outputFields []string) ([]store.Hit, error) {
	ids, err := int64s(rs, fieldChunkID)
	if err != nil {
		return nil, err
	}
	n := len(ids)
	rows := make([]store.Row, n)
	for i := range rows {
		rows[i] = store.Row{ID: ids[i], Fields: map[string]any{}}
	}
	for _, col := range rs.Fields {
		switch col := col.(type) {
		case *column.ColumnDynamic: // one dynamic key, raw JSON
			for i := 0; i < n && i < col.Len(); i++ {
				raw, err := col.Get(i)
				if err != nil {
					continue // the row has no such key
				}
				if v, ok := decodeJSON([]byte(raw.(string))); ok {
					rows[i].Fields[col.Name()] = v
				}
			}
		case *column.ColumnJSONBytes: // the whole dynamic object ("*")
			if col.Name() != fieldMeta { // the SDK drops the is-dynamic flag; the name is fixed
				continue
			}
			for i := 0; i < n && i < col.Len(); i++ {
				raw, err := col.Value(i)
				if err != nil {
					return nil, err
				}
				v, _ := decodeJSON(raw)
				if m, ok := v.(map[string]any); ok {
					for k, x := range m {
						rows[i].Fields[k] = x
					}
				}
			}
		default:
			switch col.Name() {
			case fieldText:
				for i := 0; i < n && i < col.Len(); i++ {
					rows[i].Text, _ = col.GetAsString(i)
				}
			case fieldSource:
				for i := 0; i < n && i < col.Len(); i++ {
					rows[i].Fields[fieldSource], _ = col.GetAsString(i)
				}
			}
		}
	}
	hits := make([]store.Hit, n)
	for i, r := range rows {
		hits[i] = store.Hit{ID: r.ID, Entity: r.Entity(outputFields)}
	}
	return hits, nil
}

// decodeJSON decodes keeping numbers exact (json.Number), as the embedded
// store does, so an int64 above 2^53 survives.
func decodeJSON(raw []byte) (any, bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

func int64s(rs milvusclient.ResultSet, field string) ([]int64, error) {
	col := rs.GetColumn(field)
	if col == nil {
		if rs.ResultCount == 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("milvus: the server returned no %s column", field)
	}
	out := make([]int64, col.Len())
	for i := range out {
		v, err := col.GetAsInt64(i)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// milvusFilter validates a kura filter and renames kura's "id" to the
// Milvus field that holds it.
func milvusFilter(expr string) (string, error) {
	if strings.TrimSpace(expr) == "" {
		return "", nil
	}
	out, err := filter.RenameFields(expr, func(f string) string {
		if f == "id" {
			return fieldChunkID
		}
		return f
	})
	if err != nil {
		return "", store.Errorf(store.ErrInvalid, "%w", err)
	}
	return out, nil
}

// inExpr is `field in [a,b,c]`.
func inExpr(field string, ids []int64) string {
	var b strings.Builder
	b.WriteString(field)
	b.WriteString(" in [")
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(']')
	return b.String()
}

// quote writes s as a string literal of Milvus's expression grammar, whose
// escapes are C's (\" \\ \n \xHH \uXXXX ...), a superset of what
// strconv.Quote emits.
func quote(s string) string { return strconv.Quote(s) }

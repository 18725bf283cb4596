package store

import (
	"context"
	"slices"
	"strconv"
)

// AnyMatch reports whether some row of coll matches filter (a Milvus
// boolean expression; "" matches every row of a non-empty collection). It
// runs one filtered top-1 search, so it costs a scan of the collection:
// callers use it to explain an empty result, not on every query.
func AnyMatch(ctx context.Context, coll Collection, filter string) (bool, error) {
	dim := coll.Schema().Dim
	if dim <= 0 {
		return false, nil
	}
	probe := make([]float32, dim)
	probe[0] = 1 // any unit vector: only whether something matches counts
	hits, err := coll.Search(ctx, SearchRequest{Vector: probe, Limit: 1, Filter: filter})
	if err != nil {
		return false, err
	}
	return len(hits) > 0, nil
}

// HasField reports whether some row of coll has the field name: a fixed
// field (id, text, source), or a dynamic field with a non-null value on
// at least one row. Like [AnyMatch], it scans.
func HasField(ctx context.Context, coll Collection, name string) (bool, error) {
	switch name {
	case "id", "text", "source", "*":
		return true, nil
	}
	return AnyMatch(ctx, coll, "$meta["+strconv.Quote(name)+"] is not null")
}

// SampleFields returns the names of the fields found on up to n rows of
// coll, sorted: the fixed text and source, and the dynamic fields those
// rows carry. It shows people which fields they can filter on or ask
// for.
func SampleFields(ctx context.Context, coll Collection, n int) ([]string, error) {
	dim := coll.Schema().Dim
	if dim <= 0 || n <= 0 {
		return nil, nil
	}
	probe := make([]float32, dim)
	probe[0] = 1
	hits, err := coll.Search(ctx, SearchRequest{Vector: probe, Limit: n, OutputFields: []string{"*"}})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, h := range hits {
		for k := range h.Entity {
			seen[k] = true
		}
	}
	names := make([]string, 0, len(seen))
	for k := range seen {
		names = append(names, k)
	}
	slices.Sort(names)
	return names, nil
}

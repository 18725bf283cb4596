package store

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// MaxNameLen is the longest collection name Milvus accepts.
const MaxNameLen = 255

// ValidateName reports whether name is a usable collection name. kura uses
// Milvus's rules everywhere (ASCII letters, digits and underscores, starting
// with a letter or underscore, at most 255 bytes) so that a collection can
// move between backends. The error wraps ErrInvalid and states the rule.
func ValidateName(name string) error {
	const rule = "a collection name uses only letters, digits and underscores, starts with a letter or underscore and has at most 255 characters"
	if name == "" {
		return Errorf(ErrInvalid, "empty collection name; %s", rule)
	}
	if len(name) > MaxNameLen {
		return Errorf(ErrInvalid, "collection name is %d characters long; %s", len(name), rule)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (i > 0 && '0' <= c && c <= '9')
		if !ok {
			return Errorf(ErrInvalid, "collection name %q: %s", name, rule)
		}
	}
	return nil
}

// Normalize checks a schema for Create and fills in its defaults: a zero
// TextMaxBytes becomes [DefaultTextMaxBytes], the metric and index type are
// upper-cased, an empty index type becomes FLAT and a zero Embedder.Dim
// becomes Dim. Errors wrap ErrInvalid.
func (s Schema) Normalize() (Schema, error) {
	if s.Dim <= 0 {
		return s, Errorf(ErrInvalid, "schema dimension is %d; it must be positive", s.Dim)
	}
	s.Metric = strings.ToUpper(s.Metric)
	switch s.Metric {
	case MetricCosine, MetricIP, MetricL2:
	default:
		return s, Errorf(ErrInvalid, "metric %q; use %s, %s or %s", s.Metric, MetricCosine, MetricIP, MetricL2)
	}
	if s.TextMaxBytes == 0 {
		s.TextMaxBytes = DefaultTextMaxBytes
	}
	if s.TextMaxBytes < 0 {
		return s, Errorf(ErrInvalid, "text_max_bytes is %d; it must be positive", s.TextMaxBytes)
	}
	if s.Embedder.Dim == 0 {
		s.Embedder.Dim = s.Dim
	}
	if s.Embedder.Dim != s.Dim {
		return s, Errorf(ErrInvalid, "embedder %q produces %d dimensions but the schema has %d", s.Embedder.Name, s.Embedder.Dim, s.Dim)
	}
	if len(s.Index.Params) == 0 {
		s.Index.Params = nil // one spelling of "no parameters", whatever the JSON said
	}
	s.Index.Type = strings.ToUpper(s.Index.Type)
	switch s.Index.Type {
	case "":
		s.Index.Type = IndexFlat
	case IndexFlat, IndexIVFFlat, IndexHNSW:
	default:
		return s, Errorf(ErrInvalid, "index type %q; use %s, %s or %s", s.Index.Type, IndexFlat, IndexIVFFlat, IndexHNSW)
	}
	return s, nil
}

// Reserved names cannot be dynamic fields: they are the fixed fields.
func reservedField(name string) bool {
	return name == "id" || name == "text" || name == "vector"
}

// CheckRow reports why row cannot be stored in a collection with this
// schema: a vector of the wrong dimension or with NaN or infinite values, a
// text longer than TextMaxBytes bytes, a missing or non-string source, a
// source containing a NUL byte, or a dynamic field named like a fixed field
// ("id", "text", "vector") or that cannot be encoded as JSON. The error wraps
// ErrInvalid and names the row by id and source.
func (s Schema) CheckRow(row Row) error {
	src, isString := row.Fields["source"].(string)
	where := fmt.Sprintf("row %d (source %q)", row.ID, src)
	switch {
	case row.Fields["source"] == nil || (isString && src == ""):
		return Errorf(ErrInvalid, "row %d has no source field; every row needs one", row.ID)
	case !isString:
		return Errorf(ErrInvalid, "row %d: source must be a string, not %T", row.ID, row.Fields["source"])
	case strings.IndexByte(src, 0) >= 0:
		return Errorf(ErrInvalid, "%s: source contains a NUL byte", where)
	}
	if len(row.Vector) != s.Dim {
		return Errorf(ErrInvalid, "%s: vector has %d dimensions, the collection has %d", where, len(row.Vector), s.Dim)
	}
	for i, v := range row.Vector {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return Errorf(ErrInvalid, "%s: vector[%d] is %v", where, i, v)
		}
	}
	if len(row.Text) > s.TextMaxBytes {
		return Errorf(ErrInvalid, "%s: text is %d bytes, the collection allows %d", where, len(row.Text), s.TextMaxBytes)
	}
	for k, v := range row.Fields {
		if reservedField(k) {
			return Errorf(ErrInvalid, "%s: %q is a fixed field and cannot be used as metadata", where, k)
		}
		if _, err := json.Marshal(v); err != nil {
			return Errorf(ErrInvalid, "%s: field %q cannot be stored: %v", where, k, err)
		}
	}
	return nil
}

// Entity returns the row's fields selected by outputFields, as they go into
// [Hit.Entity]: "text" is the text, "id" the id, "*" selects the text and
// every dynamic field (including "source"), and any other name selects that
// dynamic field if the row has it. The vector is never included. The result
// is never nil, so it marshals as {} when nothing is selected.
func (r Row) Entity(outputFields []string) map[string]any {
	e := make(map[string]any, len(outputFields))
	for _, f := range outputFields {
		switch f {
		case "*":
			e["text"] = r.Text
			for k, v := range r.Fields {
				e[k] = v
			}
		case "text":
			e["text"] = r.Text
		case "id":
			e["id"] = r.ID
		case "vector":
		default:
			if v, ok := r.Fields[f]; ok {
				e[f] = v
			}
		}
	}
	return e
}

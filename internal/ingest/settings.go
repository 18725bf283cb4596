package ingest

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/store"
)

// Setting names one property of a collection that is fixed when the
// collection is created (its schema), or the embedder that must match it.
type Setting string

// The settings [Run] checks against an existing collection. Index
// parameters use Milvus's names.
const (
	SettingEmbedder       Setting = "embedder" // provider and model
	SettingDim            Setting = "dim"
	SettingMetric         Setting = "metric"
	SettingIndex          Setting = "index" // index type
	SettingNList          Setting = "nlist"
	SettingM              Setting = "M"
	SettingEfConstruction Setting = "efConstruction"
	SettingSQ8            Setting = "sq8"
	SettingTextMaxBytes   Setting = "text_max_bytes"
	SettingAnalyzer       Setting = "analyzer"
	SettingContext        Setting = "context"
)

// SettingError is a run that asked for a collection setting other than
// the one the existing collection was created with. It wraps
// [store.ErrMismatch]. Nothing was written.
type SettingError struct {
	Collection string
	Setting    Setting
	Stored     string // the collection's value, as a person reads it
	Requested  string // what this run asked for
}

func (e *SettingError) Error() string {
	if e.Setting == SettingEmbedder || e.Setting == SettingDim {
		return fmt.Sprintf("collection %s was built with embedder %s but this run uses %s; vectors of different embedders cannot be compared: use the collection's embedder, or ingest into a new collection",
			e.Collection, e.Stored, e.Requested)
	}
	return fmt.Sprintf("collection %s was created with %s %s, not %s; a collection's %s is fixed when it is created: ingest into a new collection, or drop this one and ingest again",
		e.Collection, e.Setting, e.Stored, e.Requested, e.Setting)
}

func (e *SettingError) Unwrap() error { return store.ErrMismatch }

// Context says where each chunk carries its document's title: into its
// BM25 terms, into the text that is embedded, both or neither. The stored
// text is always the chunk alone.
type Context struct {
	BM25  bool
	Embed bool
}

// Contexts are the names of the four contexts, in the CLI's spelling.
var Contexts = []string{"both", "bm25", "embed", "none"}

// ParseContext reads "both", "bm25", "embed" or "none".
func ParseContext(s string) (Context, error) {
	switch s {
	case "both":
		return Context{BM25: true, Embed: true}, nil
	case "bm25":
		return Context{BM25: true}, nil
	case "embed":
		return Context{Embed: true}, nil
	case "none":
		return Context{}, nil
	}
	return Context{}, fmt.Errorf("unknown title context %q (use both, bm25, embed or none)", s)
}

func (c Context) String() string {
	switch {
	case c.BM25 && c.Embed:
		return "both"
	case c.BM25:
		return "bm25"
	case c.Embed:
		return "embed"
	}
	return "none"
}

// StoredContext is the context of a collection as its schema records it.
// known is false when the schema does not say whether titles were
// embedded (a collection made before kura recorded it); Embed is then
// false.
func StoredContext(s store.Schema) (c Context, known bool) {
	c.BM25 = slices.Contains(s.Text.Fields, "title")
	switch s.Embedder.Input {
	case store.EmbedInputTitleText:
		c.Embed = true
		return c, true
	case store.EmbedInputText:
		return c, true
	}
	return c, false
}

// StoredAnalyzer is the full-text analyzer a collection actually uses:
// "none" when it has no text index or its store has no full-text search.
func StoredAnalyzer(coll store.Collection) string {
	if _, ok := coll.(store.TextSearcher); !ok {
		return "none"
	}
	if a := coll.Schema().Text.Analyzer; a != "" {
		return a
	}
	return lexical.DefaultAnalyzer
}

// checkSettings compares the settings a run asked for explicitly with the
// existing collection's.
func checkSettings(coll store.Collection, opts Options) error {
	s := coll.Schema()
	mismatch := func(set Setting, stored, requested string) error {
		return &SettingError{Collection: coll.Name(), Setting: set, Stored: stored, Requested: requested}
	}
	param := func(ix store.IndexSpec, name string) string {
		if v, ok := ix.Params[name]; ok {
			return strconv.Itoa(v)
		}
		return "unset (index " + strings.ToUpper(cmp.Or(ix.Type, store.IndexFlat)) + ")"
	}
	for _, set := range opts.Explicit {
		var stored, requested string
		switch set {
		case SettingMetric:
			stored, requested = s.Metric, strings.ToUpper(cmp.Or(opts.Metric, store.MetricCosine))
		case SettingIndex:
			stored, requested = s.Index.Type, strings.ToUpper(cmp.Or(opts.Index.Type, store.IndexFlat))
		case SettingNList, SettingM, SettingEfConstruction:
			stored, requested = param(s.Index, string(set)), param(opts.Index, string(set))
		case SettingSQ8:
			stored, requested = strconv.FormatBool(s.Index.SQ8), strconv.FormatBool(opts.Index.SQ8)
		case SettingTextMaxBytes:
			stored, requested = strconv.Itoa(s.TextMaxBytes), strconv.Itoa(cmp.Or(opts.TextMaxBytes, store.DefaultTextMaxBytes))
		case SettingAnalyzer:
			stored, requested = StoredAnalyzer(coll), opts.Text.Analyzer
			if requested == "" {
				requested = lexical.DefaultAnalyzer
			}
		case SettingContext:
			c, known := StoredContext(s)
			want := opts.context()
			if !known {
				// Only the BM25 half can be checked; the embedded half
				// is adopted from this run (see Run).
				c.Embed = want.Embed
			}
			if _, ok := coll.(store.TextSearcher); !ok {
				// No text index (Milvus): titles in BM25 terms mean
				// nothing there, so only the embedded half counts.
				c.BM25 = want.BM25
			}
			stored, requested = c.String(), want.String()
		default:
			// Embedder and dimension are checked for every run by
			// CheckEmbedder.
			continue
		}
		if stored != requested {
			return mismatch(set, stored, requested)
		}
	}
	return nil
}

// CheckEmbedder refuses an embedder whose vectors would not be comparable
// with the collection's, with a [*SettingError]. A dimension of 0 (not
// known before the first call) is checked later, against the vectors
// themselves.
func CheckEmbedder(collection string, s store.Schema, info embed.Info) error {
	want := s.Embedder
	set := SettingEmbedder
	switch {
	case want.Name == info.Name && want.Model == info.Model && (info.Dim == 0 || want.Dim == info.Dim):
		return nil
	case want.Name == info.Name && want.Model == info.Model:
		set = SettingDim
	}
	return &SettingError{Setting: set, Collection: collection, Stored: describeEmbedder(want.Name, want.Model, want.Dim), Requested: describeEmbedder(info.Name, info.Model, info.Dim)}
}

func describeEmbedder(name, model string, dim int) string {
	d := "dimension learnt from the model"
	if dim > 0 {
		d = strconv.Itoa(dim) + " dimensions"
	}
	return fmt.Sprintf("%s (model %s, %s)", name, orNone(model), d)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

package split

import (
	"fmt"
	"strings"
)

// Splitter cuts one document's text into chunks, in document order.
//
// Split never returns empty or whitespace-only chunks (except that the
// recursive splitter, like LangChain, passes through an unsplittable piece
// unchanged), is deterministic, and is safe for concurrent use: a Splitter
// holds only its immutable options.
type Splitter interface {
	Split(text string) []string
}

// Kinds of splitter accepted by [Options].Kind.
const (
	KindCharacter = "character"
	KindRecursive = "recursive"
	KindJa        = "ja"
)

// Kinds lists the valid values of [Options].Kind, default first.
var Kinds = []string{KindJa, KindCharacter, KindRecursive}

// Options configures [New]. All lengths are in Unicode code points, the
// unit of Python's len(), so settings carry over from LangChain unchanged.
type Options struct {
	// Kind is "ja" (the default when empty), "character" or "recursive".
	Kind string
	// ChunkSize is the target maximum length of a chunk. It must be > 0.
	// Only the ja splitter guarantees it; see the package documentation.
	ChunkSize int
	// ChunkOverlap is how much text consecutive chunks may share.
	// It must satisfy 0 <= ChunkOverlap < ChunkSize.
	ChunkOverlap int
	// Separator is the literal the character splitter cuts at. The empty
	// string cuts between every code point, as in LangChain; the CLI
	// default is "\n".
	Separator string
	// Separators are the literals the recursive splitter tries in order.
	// Empty means LangChain's default ["\n\n", "\n", " ", ""].
	Separators []string
}

// DefaultOptions returns kura's defaults: the ja splitter with chunks of at
// most 200 code points overlapping by up to 20, and "\n" as the separator
// for the character splitter.
func DefaultOptions() Options {
	return Options{Kind: KindJa, ChunkSize: 200, ChunkOverlap: 20, Separator: "\n"}
}

// DefaultSeparators returns LangChain's default separators for the
// recursive splitter: paragraph, line, space, character.
func DefaultSeparators() []string { return []string{"\n\n", "\n", " ", ""} }

// New validates o and returns the splitter it describes. Errors are
// [*OptionsError] values wrapping [ErrOptions], e.g.
// "chunk_overlap 250 must be smaller than chunk_size 200".
func New(o Options) (Splitter, error) {
	kind := o.Kind
	if kind == "" {
		kind = KindJa
	}
	switch kind {
	case KindJa, KindCharacter, KindRecursive:
	default:
		return nil, &OptionsError{"splitter", fmt.Sprintf("splitter %q is unknown; valid splitters are %s",
			o.Kind, strings.Join(Kinds, ", "))}
	}
	if o.ChunkSize <= 0 {
		return nil, &OptionsError{"chunk_size", fmt.Sprintf("chunk_size %d must be greater than 0", o.ChunkSize)}
	}
	if o.ChunkOverlap < 0 {
		return nil, &OptionsError{"chunk_overlap", fmt.Sprintf("chunk_overlap %d must not be negative", o.ChunkOverlap)}
	}
	if o.ChunkOverlap >= o.ChunkSize {
		return nil, &OptionsError{"chunk_overlap", fmt.Sprintf("chunk_overlap %d must be smaller than chunk_size %d",
			o.ChunkOverlap, o.ChunkSize)}
	}
	switch kind {
	case KindCharacter:
		return &characterSplitter{sep: o.Separator, size: o.ChunkSize, overlap: o.ChunkOverlap}, nil
	case KindRecursive:
		seps := o.Separators
		if len(seps) == 0 {
			seps = DefaultSeparators()
		} else {
			seps = append([]string(nil), seps...)
		}
		return &recursiveSplitter{seps: seps, size: o.ChunkSize, overlap: o.ChunkOverlap}, nil
	default:
		return &jaSplitter{size: o.ChunkSize, overlap: o.ChunkOverlap}, nil
	}
}

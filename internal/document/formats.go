package document

import (
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/text/encoding"
)

// format is one kind of file kura reads: its extensions (lower case, with
// the dot) and its loader. A loader gets the file's content and its
// cleaned, slash-separated name (which becomes Document.Source); it
// returns the documents, problems with single items (a bad JSONL line) or
// [*Warning] notes, and a [*SkipError] without a Path when the whole file
// cannot be used.
type format struct {
	exts []string
	load func(src string, data []byte, opts LoadOptions) ([]Document, []error, error)
}

// formats lists every file type kura reads, in the order messages name
// them. A new format (PDF, Office documents) is one more entry here and a
// loader in a file of its own. (A function, not a variable: loaders
// refer back to Supported, which a variable's initializer cannot allow.)
func formats() []format {
	return []format{
		{[]string{".txt"}, loadText},
		{[]string{".md", ".markdown"}, loadMarkdown},
		{[]string{".html", ".htm"}, loadHTML},
		{[]string{".jsonl"}, loadJSONL},
		{[]string{".pdf"}, func(src string, data []byte, _ LoadOptions) ([]Document, []error, error) {
			return loadPDF(src, data)
		}},
		{[]string{".docx"}, func(src string, data []byte, _ LoadOptions) ([]Document, []error, error) {
			docs, err := loadDOCX(src, data)
			return docs, nil, err
		}},
		{[]string{".pptx"}, func(src string, data []byte, _ LoadOptions) ([]Document, []error, error) {
			docs, err := loadPPTX(src, data)
			return docs, nil, err
		}},
	}
}

// formatOf returns the format that reads path, by its extension
// (case-insensitive: README.TXT is a text file too), or nil.
func formatOf(path string) *format {
	ext := strings.ToLower(filepath.Ext(path))
	for _, f := range formats() {
		if slices.Contains(f.exts, ext) {
			return &f
		}
	}
	return nil
}

// Extensions returns the file extensions kura reads, e.g. ".txt".
func Extensions() []string {
	var out []string
	for _, f := range formats() {
		out = append(out, f.exts...)
	}
	return out
}

// Supported reports whether path has an extension [Load] can read.
func Supported(path string) bool { return formatOf(path) != nil }

// decodeFile decodes a text file's bytes for a loader, turning an
// uncertain encoding guess into a [*Warning].
func decodeFile(src string, data []byte, declared encoding.Encoding, declaredName string) (string, []error, error) {
	d, err := decode(data, declared, declaredName)
	if err != nil {
		return "", nil, err
	}
	if d.unsure != "" {
		return d.text, []error{&Warning{Path: src, Message: unsureWarning(d)}}, nil
	}
	return d.text, nil, nil
}

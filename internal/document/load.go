package document

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// DefaultMaxFileSize is the largest file [Load] reads unless
// [LoadOptions].MaxFileSize says otherwise. A whole file is held in memory
// (twice while it is re-encoded), so the guard protects the process from a
// stray disk image or log dump more than it judges documents.
const DefaultMaxFileSize = 256 << 20

// LoadOptions configures [Load]; the zero value means the documented defaults.
type LoadOptions struct {
	// TextField is the JSONL field holding a document's text; "" means "text".
	TextField string
	// MaxFileSize is the largest file read, in bytes; 0 means
	// DefaultMaxFileSize.
	MaxFileSize int64
}

func (o LoadOptions) textField() string {
	if o.TextField == "" {
		return "text"
	}
	return o.TextField
}

func (o LoadOptions) maxFileSize() int64 {
	if o.MaxFileSize <= 0 {
		return DefaultMaxFileSize
	}
	return o.MaxFileSize
}

// Load reads the file at path and returns its documents.
//
// docs holds one Document for .txt, .md/.markdown and .html/.htm files and one
// per usable line for .jsonl files; every Source is path, cleaned and with
// forward slashes. problems lists [*RecordError] values for JSONL lines that
// were skipped while the rest loaded. err is a [*SkipError] when the file was
// not loaded at all; then docs is empty.
//
// Titles: .txt uses its first non-empty line (at most 100 characters), since
// plain-text notes conventionally start with one; .md uses front matter
// "title:", else the first level-1 heading, else the file name; .html uses
// <title>, else og:title, else the first <h1>, else the file name; .jsonl
// uses the "title" field.
func Load(path string, opts LoadOptions) (docs []Document, problems []error, err error) {
	src := slashClean(path)
	if !Supported(path) {
		return nil, nil, unsupported(src)
	}
	data, err := readFile(path, src, opts.maxFileSize())
	if err != nil {
		return nil, nil, err
	}
	return LoadBytes(path, data, opts)
}

// LoadBytes is [Load] for content already in memory (e.g. fetched over the
// network). path chooses the format by its extension and becomes Source; the
// size limit is not applied.
func LoadBytes(path string, data []byte, opts LoadOptions) (docs []Document, problems []error, err error) {
	src := slashClean(path)
	f := formatOf(path)
	if f == nil {
		return nil, nil, unsupported(src)
	}
	docs, problems, loadErr := f.load(src, data, opts)
	if loadErr != nil {
		var se *SkipError
		if errors.As(loadErr, &se) && se.Path == "" {
			se.Path = src
		}
		return nil, problems, loadErr
	}
	return docs, problems, nil
}

func unsupported(src string) *SkipError {
	ext := filepath.Ext(src)
	what := fmt.Sprintf("unsupported extension %q", ext)
	if ext == "" {
		what = "no file extension"
	}
	return &SkipError{
		Path:   src,
		Reason: fmt.Sprintf("%s (kura reads %s)", what, strings.Join(Extensions(), " ")),
		Err:    ErrUnsupported,
	}
}

func readFile(path, src string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &SkipError{Path: src, Reason: "cannot read: " + unwrapPath(err).Error(), Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &SkipError{Path: src, Reason: "cannot read: " + unwrapPath(err).Error(), Err: err}
	}
	if fi.IsDir() {
		return nil, &SkipError{Path: src, Reason: "is a directory", Err: ErrUnsupported}
	}
	// Reading a FIFO or device could block or never end.
	if !fi.Mode().IsRegular() {
		return nil, &SkipError{Path: src, Reason: "not a regular file", Err: ErrUnsupported}
	}
	if fi.Size() > limit {
		return nil, tooLarge(src, fi.Size(), limit)
	}
	// The file may grow between Stat and Read; never read past the limit.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &SkipError{Path: src, Reason: "cannot read: " + unwrapPath(err).Error(), Err: err}
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(src, int64(len(data)), limit)
	}
	return data, nil
}

func tooLarge(src string, size, limit int64) *SkipError {
	return &SkipError{
		Path:   src,
		Reason: fmt.Sprintf("file is too large (%s, the limit is %s); split it into smaller files", mib(size), mib(limit)),
		Err:    ErrTooLarge,
	}
}

func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// emptyErr distinguishes a zero-byte file from one holding only whitespace
// (or only markup), because the fixes differ.
func emptyErr(what string) *SkipError {
	return &SkipError{Reason: what, Err: ErrEmpty}
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// baseTitle is the fallback title: the file name without its extension.
func baseTitle(src string) string {
	b := path.Base(src)
	return strings.TrimSuffix(b, path.Ext(b))
}

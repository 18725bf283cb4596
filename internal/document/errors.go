package document

import (
	"errors"
	"fmt"
)

// Sentinel errors. A [*SkipError] or [*RecordError] wraps one of them, so
// callers can test the reason with errors.Is without parsing messages.
var (
	// ErrUnsupported: the file's extension is not one kura reads.
	ErrUnsupported = errors.New("unsupported file type")
	// ErrBinary: the content is not text (NUL bytes, many control
	// characters, or the signature of a known binary format).
	ErrBinary = errors.New("binary content")
	// ErrEmpty: nothing but whitespace was left after decoding (and, for
	// HTML and Markdown, after removing markup and front matter).
	ErrEmpty = errors.New("empty document")
	// ErrUndecodable: the bytes are not valid UTF-8, UTF-16 (with BOM),
	// Shift_JIS, EUC-JP or ISO-2022-JP, or decode only to implausible text.
	ErrUndecodable = errors.New("unknown text encoding")
	// ErrTooLarge: the file exceeds [LoadOptions].MaxFileSize.
	ErrTooLarge = errors.New("file too large")
	// ErrNoDocuments: a JSONL file in which every line was skipped.
	ErrNoDocuments = errors.New("no documents")
	// ErrBadRecord: one JSONL line could not become a Document.
	ErrBadRecord = errors.New("bad record")
	// ErrNoTextField: a JSONL line has no field of the text field's name;
	// the problem lists the fields it has, so the caller can say how to
	// choose another.
	ErrNoTextField = errors.New("no text field")
	// ErrNoMatch: a [Collect] argument named nothing loadable.
	ErrNoMatch = errors.New("nothing to read")
	// ErrEncrypted: a PDF or Office file that needs a password.
	ErrEncrypted = errors.New("encrypted document")
	// ErrDamaged: a PDF, .docx or .pptx whose structure cannot be read, or
	// that exceeds a decompression or part-count limit.
	ErrDamaged = errors.New("damaged document")
	// ErrNoText: a PDF page without a text layer (a scanned image).
	ErrNoText = errors.New("no text layer")
)

// Warning is a note about a file that loaded, such as an encoding chosen
// on thin evidence: the text is used, but a person may want to check it.
// Error() is one line, "path: warning: message".
type Warning struct {
	Path    string
	Message string
}

func (w *Warning) Error() string { return w.Path + ": warning: " + w.Message }

// SkipError reports a file that was not loaded at all. Error() is one line:
//
//	photos/a.png: skipped: unsupported extension ".png" (kura reads .txt .md .markdown .html .htm .jsonl)
//
// Err is a sentinel from this package or the underlying I/O error.
type SkipError struct {
	Path   string
	Reason string
	Err    error
}

func (e *SkipError) Error() string {
	if e.Path == "" {
		return "skipped: " + e.Reason
	}
	return e.Path + ": skipped: " + e.Reason
}

func (e *SkipError) Unwrap() error { return e.Err }

// RecordError reports one skipped line of a JSONL file; the rest of the file
// was loaded. Error() reads "path:LINE: skipped: reason", the form editors
// and terminals recognise as a jump target.
type RecordError struct {
	Path   string
	Line   int
	Reason string
	Err    error // underlying cause, e.g. a *json.SyntaxError; may be nil
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%s:%d: skipped: %s", e.Path, e.Line, e.Reason)
}

// Unwrap lets errors.Is match both ErrBadRecord and the cause.
func (e *RecordError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrBadRecord}
	}
	return []error{ErrBadRecord, e.Err}
}

// PageError reports one page (or slide) of a document that yielded
// nothing while the rest loaded: "report.pdf: page 3: skipped: reason".
type PageError struct {
	Path   string
	Page   int
	Reason string
	Err    error
}

func (e *PageError) Error() string {
	return fmt.Sprintf("%s: page %d: skipped: %s", e.Path, e.Page, e.Reason)
}

func (e *PageError) Unwrap() error { return e.Err }

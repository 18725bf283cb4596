// Package document is the first stage of kura's pipeline:
//
//	collect → load → split → embed → store
//
// [Collect] turns command-line arguments (files, directories, globs) into a
// deterministic, de-duplicated list of file paths, and lists the files a
// directory walk passed over because no loader reads their type. [Scope]
// answers the reverse question for --prune: would these arguments collect
// this (now deleted) path? A [Namer] gives each file one source name,
// however its path was typed. [Load] reads one file and returns the
// [Document] values it holds: one for .txt, .md, .html and .docx files, one per
// line for .jsonl files, one per page of a .pdf (metadata "page") and one
// per slide of a .pptx (metadata "slide"), so that no chunk spans two pages. Loaders are registered in one table (formats.go);
// a new format is one entry there. The split stage (internal/split) cuts
// each Document's Text into chunks; nothing here knows about chunks,
// vectors or stores.
//
// # Text is always clean UTF-8
//
// Every Document's Text and Title are valid UTF-8 with "\n" line endings,
// whatever the file used. Japanese documents in the wild are often Shift_JIS
// (really Windows-31J / CP932), EUC-JP or ISO-2022-JP, so [Decode] detects
// those besides UTF-8 and UTF-16 with a byte order mark. Legacy encodings are
// recognised by decoding strictly and, when several decode cleanly, by how
// plausible the result is as Japanese text (kana, punctuation and the most
// frequent kanji count for a reading; private-use characters and stray
// half-width katakana against it); a file no candidate explains is
// skipped rather than loaded as mojibake, because mojibake poisons search
// results silently. When both readings are plausible and the file holds
// little Japanese, the file loads with a [*Warning] naming the other
// encoding ([DecodeDetail] reports it as Unsure).
//
// # Errors
//
// Problems come in two sizes. A [*SkipError] means the whole file was not
// loaded (unsupported extension, binary content, unknown encoding, empty, too
// large); it wraps one of the sentinels in errors.go so callers can count
// reasons with errors.Is. A [*RecordError] means one JSONL line was skipped
// while the rest of the file loaded. Both print as one line that names the
// file (and line) and say what to do, so the CLI can show them as they are.
//
// # PDF, Word and PowerPoint
//
// The container formats are read in pure Go. PDF files are parsed by pdfcpu
// and their text is rebuilt here from the page content (pdf.go, pdftext.go,
// pdffont.go, pdfcmap.go); .docx and .pptx are ZIP packages of XML read
// with the standard library (ooxml.go, docx.go, pptx.go). Decompression and
// part-count limits turn ZIP and stream bombs into [ErrDamaged]; encrypted
// files give [ErrEncrypted]; a PDF page with only images is a [*PageError]
// wrapping [ErrNoText].
//
// # Caveats
//
// HTML main-text extraction is a heuristic: it drops navigation, headers,
// footers, forms and scripts, and prefers <main> or the largest <article>.
// Markdown front matter is read only for simple "key: value" scalars; nested
// YAML is ignored. Detection cannot tell apart encodings on pure ASCII input,
// which does not matter because every candidate decodes ASCII identically.
package document

package document

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// loadJSONL turns each line holding a JSON object into a Document. The whole
// file is decoded first, not line by line, because in Shift_JIS a trail byte
// can be 0x5C (a backslash) or 0x7B ("{"), so JSON structure can only be
// trusted in UTF-8; this also puts no limit on line length.
func loadJSONL(src string, data []byte, opts LoadOptions) ([]Document, []error, error) {
	textField := opts.textField()
	text, problems, err := decodeFile(src, data, nil, "")
	if err != nil {
		return nil, nil, err
	}
	if isBlank(text) {
		return nil, nil, emptyErr("file contains only whitespace")
	}
	var docs []Document
	skipped := 0
	lineNo := 0
	for line := range strings.Lines(text) {
		lineNo++
		line = strings.TrimSpace(strings.TrimPrefix(line, "\uFEFF"))
		if line == "" {
			continue
		}
		doc, reason, cause := parseRecord(line, textField)
		if reason != "" {
			problems = append(problems, &RecordError{Path: src, Line: lineNo, Reason: reason, Err: cause})
			skipped++
			continue
		}
		doc.Source = src
		docs = append(docs, doc)
	}
	if len(docs) == 0 {
		return nil, problems, &SkipError{
			Reason: fmt.Sprintf("no usable lines (%d skipped; each line must be a JSON object with a string %q field)", skipped, textField),
			Err:    ErrNoDocuments,
		}
	}
	return docs, problems, nil
}

// parseRecord returns the document, or a reason (and cause) for skipping the
// line. Numbers stay json.Number so that 64-bit ids and prices survive
// exactly instead of being rounded through float64.
func parseRecord(line, textField string) (Document, string, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return Document{}, "invalid JSON: " + jsonErrText(err) + `; each line must be one JSON object such as {"text": "..."}`, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return Document{}, "invalid JSON: more data after the first value (one object per line)", nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return Document{}, fmt.Sprintf("not a JSON object but %s; each line must be one JSON object such as {%q: \"...\"}", jsonKind(v), textField), nil
	}
	raw, ok := obj[textField]
	if !ok {
		return Document{}, fmt.Sprintf("no %q field (the line has: %s)", textField, fieldList(obj)), ErrNoTextField
	}
	text, ok := raw.(string)
	if !ok {
		return Document{}, fmt.Sprintf("%q is %s, not a string; the text must be a JSON string", textField, jsonKind(raw)), nil
	}
	if isBlank(text) {
		return Document{}, fmt.Sprintf("%q is empty", textField), nil
	}
	doc := Document{Text: normalizeNewlines(text), Meta: map[string]any{}}
	for k, v := range obj {
		switch k {
		case textField:
		case "title":
			switch t := v.(type) {
			case string:
				doc.Title = normalizeNewlines(t)
			case json.Number:
				doc.Title = t.String()
			case nil:
			default:
				doc.Meta[k] = v
			}
		case "id", "doc_id":
			// "id" is the documented field; a "doc_id" field is taken as
			// the id only when there is no "id" to win over it.
			if k == "doc_id" {
				if _, hasID := obj["id"]; hasID {
					continue
				}
			}
			switch id := v.(type) {
			case string:
				doc.Meta["doc_id"] = id
			case json.Number:
				doc.Meta["doc_id"] = id.String()
			case nil:
			default:
				doc.Meta[k] = v // an object or array id is not an id we can use
			}
		default:
			doc.Meta[k] = v
		}
	}
	return doc, "", nil
}

// jsonErrText keeps the decoder's message but drops its "json: " prefix,
// which tells a user nothing.
func jsonErrText(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the line ends in the middle of a value"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func fieldList(obj map[string]any) string {
	if len(obj) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) > 8 {
		keys = append(keys[:8], "…")
	}
	return strings.Join(keys, ", ")
}

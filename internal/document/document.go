package document

// Document is one loaded unit of text, ready to be split.
//
// Source is the file it came from, as the user named it (cleaned, with forward
// slashes). A JSONL file yields one Document per line, all with the same
// Source; their own ids are kept in Meta["doc_id"].
type Document struct {
	Source string
	Title  string
	Text   string
	Meta   map[string]any
}

// DocID is the document's own id inside its source (JSONL "id"), or "".
func (d Document) DocID() string {
	if v, ok := d.Meta["doc_id"]; ok {
		if s, ok := v.(string); ok {
			return s
		}
	}
	return ""
}

package filter

import "strings"

// RenameFields returns expr with every top-level field name for which
// rename returns a different name replaced by that name, and everything
// else (spacing, quoting, keywords, constants) exactly as written. It is
// for backends whose physical field names differ from kura's logical ones:
// the Milvus store keeps kura's chunk identity in a field "chunk_id" because
// Milvus's own "id" is an auto-generated primary key, so a user's
// `id in [1, 2]` must reach Milvus as `chunk_id in [1, 2]`.
//
// Keys inside $meta["..."] and JSON paths are not field names and are left
// alone. The expression is parsed first; a malformed one returns the same
// *[SyntaxError] as [Parse].
func RenameFields(expr string, rename func(field string) string) (string, error) {
	if _, err := Parse(expr); err != nil {
		return "", err
	}
	var b strings.Builder
	last := 0
	for _, t := range lex(expr) {
		if t.kind != tIdent || t.text == "$meta" {
			continue
		}
		to := rename(t.text)
		if to == t.text {
			continue
		}
		b.WriteString(expr[last:t.pos])
		b.WriteString(to)
		last = t.end
	}
	b.WriteString(expr[last:])
	return b.String(), nil
}

package document

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxTitleRunes bounds titles taken from body text: a first "line" of a
// file without line breaks can be the whole document.
const maxTitleRunes = 100

func loadText(src string, data []byte, _ LoadOptions) ([]Document, []error, error) {
	text, warnings, err := decodeFile(src, data, nil, "")
	if err != nil {
		return nil, nil, err
	}
	if isBlank(text) {
		return nil, nil, emptyErr("file contains only whitespace")
	}
	return []Document{{Source: src, Title: firstLineTitle(text), Text: text, Meta: map[string]any{}}}, warnings, nil
}

func firstLineTitle(text string) string {
	for line := range strings.Lines(text) {
		if t := strings.TrimSpace(line); t != "" {
			return truncateRunes(t, maxTitleRunes)
		}
	}
	return ""
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return strings.TrimSpace(s[:k]) + "…"
		}
		i++
	}
	return s
}

func loadMarkdown(src string, data []byte, _ LoadOptions) ([]Document, []error, error) {
	text, warnings, err := decodeFile(src, data, nil, "")
	if err != nil {
		return nil, nil, err
	}
	if isBlank(text) {
		return nil, nil, emptyErr("file contains only whitespace")
	}
	meta, body := splitFrontMatter(text)
	if isBlank(body) {
		return nil, nil, emptyErr("no text after the front matter")
	}
	title := ""
	if t, ok := meta["title"]; ok {
		// Quoted YAML may hold escaped line breaks; a title is one line.
		title = collapse(toString(t))
		delete(meta, "title")
	}
	if title == "" {
		title = markdownHeading(body)
	}
	if title == "" {
		title = baseTitle(src)
	}
	return []Document{{Source: src, Title: title, Text: body, Meta: meta}}, warnings, nil
}

// splitFrontMatter removes a leading YAML front matter block ("---" lines)
// and returns its simple scalars. A block that never closes is not front
// matter: it is more likely a horizontal rule at the top of the text.
func splitFrontMatter(text string) (map[string]any, string) {
	meta := map[string]any{}
	if !strings.HasPrefix(text, "---\n") {
		return meta, text
	}
	rest := text[4:]
	var lines []string
	for pos := 0; pos < len(rest); {
		end := strings.IndexByte(rest[pos:], '\n')
		next := len(rest)
		if end >= 0 {
			next = pos + end + 1
		}
		line := strings.TrimRight(rest[pos:next], "\n")
		if t := strings.TrimRight(line, " \t"); t == "---" || t == "..." {
			for _, l := range lines {
				parseFrontMatterLine(l, meta)
			}
			return meta, strings.TrimLeft(rest[next:], "\n")
		}
		lines = append(lines, line)
		pos = next
	}
	return meta, text
}

// parseFrontMatterLine keeps top-level "key: scalar" pairs. Nested maps,
// lists and block scalars are skipped rather than half-parsed: metadata that
// is subtly wrong is worse than missing metadata.
func parseFrontMatterLine(line string, meta map[string]any) {
	if line == "" || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line[0] == '-' {
		return
	}
	key, val, ok := strings.Cut(line, ":")
	if !ok || !isSimpleKey(key) {
		return
	}
	if val != "" && val[0] != ' ' && val[0] != '\t' {
		return // "a:b" is a plain scalar in YAML, not a key
	}
	val = strings.TrimSpace(val)
	if val == "" {
		return
	}
	switch val[0] {
	case '"':
		if s, err := strconv.Unquote(val); err == nil {
			meta[key] = s
		} else if len(val) >= 2 && strings.HasSuffix(val, `"`) {
			meta[key] = val[1 : len(val)-1]
		}
		return
	case '\'':
		if len(val) >= 2 && strings.HasSuffix(val, "'") {
			meta[key] = strings.ReplaceAll(val[1:len(val)-1], "''", "'")
		}
		return
	case '[', '{', '|', '>', '&', '*', '!':
		return
	}
	if i := strings.Index(val, " #"); i >= 0 {
		val = strings.TrimSpace(val[:i])
	}
	meta[key] = yamlScalar(val)
}

func isSimpleKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// yamlScalar types a plain scalar the way YAML 1.2's core schema would for
// the common cases; dates and everything else stay strings.
func yamlScalar(v string) any {
	switch v {
	case "true", "True", "TRUE":
		return true
	case "false", "False", "FALSE":
		return false
	case "null", "Null", "NULL", "~":
		return nil
	}
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return i
	}
	if strings.ContainsAny(v, "0123456789") && strings.Trim(v, "0123456789.eE+-") == "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return v
}

func toString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// markdownHeading finds the first level-1 heading, ATX ("# Title") or
// setext ("Title" over "==="), outside fenced code blocks, where "#" starts
// shell comments rather than headings.
func markdownHeading(body string) string {
	var fence string
	prev := ""
	for line := range strings.Lines(body) {
		line = strings.TrimRight(line, "\n")
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			prev = ""
			continue
		}
		if indent < 4 && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")) {
			fence = trimmed[:3]
			prev = ""
			continue
		}
		if indent < 4 && (trimmed == "#" || strings.HasPrefix(trimmed, "# ") || strings.HasPrefix(trimmed, "#\t")) {
			t := strings.TrimSpace(trimmed[1:])
			// A closing sequence of #s is decoration, not title.
			if s := strings.TrimRight(t, "#"); s == "" || strings.HasSuffix(s, " ") {
				t = strings.TrimSpace(s)
			}
			if t != "" {
				return truncateRunes(t, maxTitleRunes)
			}
		}
		if indent < 4 && prev != "" && strings.Trim(trimmed, "= ") == "" && strings.Contains(trimmed, "=") {
			return truncateRunes(prev, maxTitleRunes)
		}
		prev = strings.TrimSpace(line)
		if indent >= 4 {
			prev = ""
		}
	}
	return ""
}

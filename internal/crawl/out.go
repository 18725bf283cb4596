package crawl

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/kura-rag/kura/internal/document"
)

// FileName is where [WriteFiles] puts the document with this source: the
// host, then the URL path, as a Markdown file ("example.com/blog/post.md";
// "index.md" for a path ending in "/"). A query string adds a short hash so
// "?page=2" and "?page=3" stay apart.
func FileName(source string) string {
	u, err := url.Parse(source)
	if err != nil || u.Host == "" {
		return "unnamed-" + shortHash(source) + ".md"
	}
	segs := []string{safeSegment(u.Host)}
	p := u.Path
	if p == "" || strings.HasSuffix(p, "/") {
		p += "index"
	}
	for _, s := range strings.Split(strings.Trim(p, "/"), "/") {
		if s == "" || s == "." || s == ".." {
			continue
		}
		segs = append(segs, safeSegment(s))
	}
	last := strings.TrimSuffix(segs[len(segs)-1], path.Ext(segs[len(segs)-1]))
	if last == "" {
		last = "index"
	}
	if u.RawQuery != "" {
		last += "-" + shortHash(u.RawQuery)
	}
	segs[len(segs)-1] = last + ".md"
	return path.Join(segs...)
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// safeSegment keeps letters (Japanese included), digits and ".-_"; every
// other character, path separators and ":" among them, becomes "_".
func safeSegment(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		s = d
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if r := []rune(out); len(r) > 100 {
		out = string(r[:100])
	}
	if out == "" {
		out = "_"
	}
	return out
}

// Markdown renders a document as a Markdown file whose front matter holds
// its title and metadata; kura's Markdown loader reads it back to the same
// title, text and metadata (see the round-trip test).
func Markdown(d document.Document) []byte {
	var b bytes.Buffer
	b.WriteString("---\n")
	fmt.Fprintf(&b, "title: %s\n", strconv.Quote(d.Title))
	keys := make([]string, 0, len(d.Meta))
	for k := range d.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := d.Meta[k].(type) {
		case string:
			fmt.Fprintf(&b, "%s: %s\n", k, strconv.Quote(v))
		case int64, int, bool:
			fmt.Fprintf(&b, "%s: %v\n", k, v)
		}
	}
	b.WriteString("---\n")
	b.WriteString(d.Text)
	b.WriteString("\n")
	return b.Bytes()
}

// WriteReport counts what [WriteFiles] did.
type WriteReport struct {
	Written   int `json:"written"`
	Unchanged int `json:"unchanged"`
	Removed   int `json:"removed"`
}

// WriteFiles writes each document to dir/[FileName] as [Markdown]. A file
// whose content is already the same is left alone (its modification time
// too), so a re-crawl of an unchanged site changes nothing on disk. The
// files of the gone sources are removed.
func WriteFiles(dir string, docs []document.Document, gone []string) (WriteReport, error) {
	var rep WriteReport
	for _, d := range docs {
		name := filepath.Join(dir, filepath.FromSlash(FileName(d.Source)))
		data := Markdown(d)
		if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, data) {
			rep.Unchanged++
			continue
		}
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return rep, err
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return rep, err
		}
		rep.Written++
	}
	for _, src := range gone {
		name := filepath.Join(dir, filepath.FromSlash(FileName(src)))
		err := os.Remove(name)
		if err == nil {
			rep.Removed++
		} else if !errors.Is(err, fs.ErrNotExist) {
			return rep, err
		}
	}
	return rep, nil
}

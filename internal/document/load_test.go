package document

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

// writeFile creates name under dir and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func loadOne(t *testing.T, name string, data []byte) Document {
	t.Helper()
	p := writeFile(t, t.TempDir(), name, data)
	docs, problems, err := Load(p, LoadOptions{})
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	if len(problems) > 0 || len(docs) != 1 {
		t.Fatalf("Load(%s): %d docs, problems %v", name, len(docs), problems)
	}
	if docs[0].Source != filepath.ToSlash(filepath.Clean(p)) {
		t.Fatalf("Source = %q, want %q", docs[0].Source, p)
	}
	return docs[0]
}

func TestLoadText(t *testing.T) {
	f := func(name string, data []byte, wantTitle, wantText string) {
		t.Helper()
		d := loadOne(t, name, data)
		if d.Title != wantTitle || d.Text != wantText {
			t.Fatalf("%s: got title %q text %q\nwant title %q text %q", name, d.Title, d.Text, wantTitle, wantText)
		}
	}
	f("a.txt", []byte("\n\n  会議メモ  \n本文です。\n"), "会議メモ", "\n\n  会議メモ  \n本文です。\n")
	f("crlf.txt", []byte("一行目\r\n二行目\r\n"), "一行目", "一行目\n二行目\n")
	f("upper.TXT", []byte("ok"), "ok", "ok")
	long := strings.Repeat("長", 150)
	f("long.txt", []byte(long), strings.Repeat("長", 100)+"…", long)
	sjis, _ := japanese.ShiftJIS.NewEncoder().Bytes([]byte("表計算ソフトの説明\r\nです。"))
	f("sjis.txt", sjis, "表計算ソフトの説明", "表計算ソフトの説明\nです。")
}

func TestLoadMarkdown(t *testing.T) {
	f := func(name, in, wantTitle, wantText string, wantMeta map[string]any) {
		t.Helper()
		d := loadOne(t, name, []byte(in))
		if d.Title != wantTitle || d.Text != wantText {
			t.Fatalf("%s: got title %q text %q\nwant title %q text %q", name, d.Title, d.Text, wantTitle, wantText)
		}
		if wantMeta == nil {
			wantMeta = map[string]any{}
		}
		if !reflect.DeepEqual(d.Meta, wantMeta) {
			t.Fatalf("%s: meta %#v, want %#v", name, d.Meta, wantMeta)
		}
	}
	f("fm.md", "---\ntitle: \"GitOps 入門\"\nauthor: 佐々木\nyear: 2019\ndraft: false\nscore: 4.5\ntags: [a, b]\nnested:\n  key: v\nempty:\nquoted: 'it''s'\nurl: http://x.example/a#b\n---\n\n# 見出し\n本文\n",
		"GitOps 入門", "# 見出し\n本文\n",
		map[string]any{"author": "佐々木", "year": int64(2019), "draft": false, "score": 4.5, "quoted": "it's", "url": "http://x.example/a#b"})
	f("h1.md", "前置き\n\n```sh\n# not a title\n```\n## sub\n# 本当のタイトル #\n", "本当のタイトル", "前置き\n\n```sh\n# not a title\n```\n## sub\n# 本当のタイトル #\n", nil)
	f("setext.markdown", "Setext Title\n============\n\ntext", "Setext Title", "Setext Title\n============\n\ntext", nil)
	f("no-title.md", "just text\r\nmore", "no-title", "just text\nmore", nil)
	f("unclosed.md", "---\nnot front matter\n", "unclosed", "---\nnot front matter\n", nil)
	f("fm-escaped.md", "---\ntitle: \"a\\r\\nb\\tc\"\n---\nbody", "a b c", "body", nil)
	f("fm-crlf.md", "---\r\ntitle: CRLF\r\n---\r\nbody\r\n", "CRLF", "body\n", nil)
}

func TestLoadSkips(t *testing.T) {
	dir := t.TempDir()
	f := func(name string, data []byte, opts LoadOptions, sentinel error, wantMsg string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if data != nil {
			p = writeFile(t, dir, name, data)
		}
		docs, _, err := Load(p, opts)
		if len(docs) != 0 {
			t.Fatalf("%s: got %d docs with error %v", name, len(docs), err)
		}
		var se *SkipError
		if !errors.As(err, &se) || !errors.Is(err, sentinel) {
			t.Fatalf("%s: err = %#v, want *SkipError wrapping %v", name, err, sentinel)
		}
		want := filepath.ToSlash(p) + ": skipped: " + wantMsg
		if err.Error() != want {
			t.Fatalf("%s:\n got %q\nwant %q", name, err, want)
		}
	}
	f("a.png", []byte("\x89PNG\r\n\x1a\n"), LoadOptions{}, ErrUnsupported,
		`unsupported extension ".png" (kura reads .txt .md .markdown .html .htm .jsonl .pdf .docx .pptx)`)
	f("README", []byte("x"), LoadOptions{}, ErrUnsupported, `no file extension (kura reads .txt .md .markdown .html .htm .jsonl .pdf .docx .pptx)`)
	f("png.txt", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), LoadOptions{}, ErrBinary, "binary content (a PNG image); kura reads text, not images")
	f("nul.txt", []byte("abc\x00"), LoadOptions{}, ErrBinary, "binary content (NUL byte at offset 3); a text file has none: if it is UTF-16 without a byte order mark, save it as UTF-8")
	f("empty.txt", []byte{}, LoadOptions{}, ErrEmpty, "file is empty")
	f("blank.md", []byte(" \r\n\t\n"), LoadOptions{}, ErrEmpty, "file contains only whitespace")
	f("fm-only.md", []byte("---\ntitle: x\n---\n\n"), LoadOptions{}, ErrEmpty, "no text after the front matter")
	f("bad.txt", []byte("ok\xFF\xFF\xFF"), LoadOptions{}, ErrUndecodable,
		"not valid text in UTF-8, Shift_JIS, EUC-JP or ISO-2022-JP (first bad byte at offset 2, reading as UTF-8); convert it to UTF-8, e.g. with iconv or nkf")
	f("big.txt", []byte(strings.Repeat("x", 2<<20+1)), LoadOptions{MaxFileSize: 2 << 20}, ErrTooLarge,
		"file is too large (2.0 MiB, the limit is 2 MiB); split it into smaller files")
	f("missing.txt", nil, LoadOptions{}, fs.ErrNotExist, "cannot read: no such file or directory")
	if err := os.Mkdir(filepath.Join(dir, "dir.md"), 0o755); err != nil {
		t.Fatal(err)
	}
	f("dir.md", nil, LoadOptions{}, ErrUnsupported, "is a directory")
}

func TestLoadBytesMatchesLoad(t *testing.T) {
	data := []byte("# T\r\nbody")
	docs, _, err := LoadBytes("./x//notes.md", data, LoadOptions{})
	if err != nil || len(docs) != 1 || docs[0].Source != "x/notes.md" || docs[0].Title != "T" || docs[0].Text != "# T\nbody" {
		t.Fatalf("got %#v, %v", docs, err)
	}
	_, _, err = LoadBytes("x.xlsx", data, LoadOptions{})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v", err)
	}
}

func TestSupported(t *testing.T) {
	for p, want := range map[string]bool{
		"a.txt": true, "b/c.MD": true, "d.markdown": true, "e.html": true, "f.HTM": true,
		"g.jsonl": true, "h.json": false, "i.pdf": true, "k.xlsx": false, "txt": false, ".txt": true, "j.txt.bak": false,
	} {
		if got := Supported(p); got != want {
			t.Errorf("Supported(%q) = %v", p, got)
		}
	}
}

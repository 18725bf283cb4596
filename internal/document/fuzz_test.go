package document

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
)

// checkDocs asserts what every later pipeline stage relies on.
func checkDocs(t *testing.T, docs []Document, problems []error, err error) {
	t.Helper()
	if err != nil {
		var se *SkipError
		if !errors.As(err, &se) {
			t.Fatalf("fatal error %T is not *SkipError: %v", err, err)
		}
		if len(docs) != 0 {
			t.Fatalf("%d docs returned with fatal error %v", len(docs), err)
		}
	}
	for _, p := range problems {
		if strings.ContainsAny(p.Error(), "\r\n") {
			t.Fatalf("multi-line problem %q", p)
		}
	}
	for _, d := range docs {
		for _, s := range []string{d.Text, d.Title} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8: %q", s)
			}
			if strings.ContainsRune(s, '\r') {
				t.Fatalf("CR in output: %q", s)
			}
		}
		if strings.TrimSpace(d.Text) == "" {
			t.Fatalf("empty document text returned")
		}
	}
}

func sjisBytes(s string) []byte {
	b, _ := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
	return b
}

func FuzzDecode(f *testing.F) {
	for _, s := range samples {
		f.Add([]byte(s))
		f.Add(sjisBytes(s))
		b, _ := japanese.EUCJP.NewEncoder().Bytes([]byte(s))
		f.Add(b)
		b, _ = japanese.ISO2022JP.NewEncoder().Bytes([]byte(s))
		f.Add(b)
	}
	f.Add([]byte("\xFF\xFEa\x00\r\x00\n\x00"))
	f.Add([]byte("\xEF\xBB\xBFa\rb"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		text, enc, err := Decode(data)
		if err != nil {
			var se *SkipError
			if !errors.As(err, &se) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		if enc == "" || !utf8.ValidString(text) || strings.ContainsRune(text, '\r') || strings.HasPrefix(text, "\uFEFF") {
			t.Fatalf("Decode(%q) = %q, %q", data, text, enc)
		}
		// An unsure guess names the other legacy encoding, which must
		// read the data too.
		_, det, _ := DecodeDetail(data)
		if det.Unsure != "" {
			other := map[string]encoding.Encoding{EncShiftJIS: japanese.ShiftJIS, EncEUCJP: japanese.EUCJP}[det.Unsure]
			if other == nil || det.Unsure == det.Encoding {
				t.Fatalf("DecodeDetail(%q) = %+v", data, det)
			}
			if _, bad := decodeStrict(other, data); bad >= 0 {
				t.Fatalf("DecodeDetail(%q) = %+v, but %s does not read it", data, det, det.Unsure)
			}
		}
	})
}

func FuzzLoadHTML(f *testing.F) {
	f.Add([]byte(`<html><head><title>t</title></head><body><nav>n</nav><main><p>a<br>b</p><pre> x
 y</pre></main></body></html>`))
	f.Add([]byte("<meta charset=shift_jis><p>" + string(sjisBytes("日本語\r\nです")) + "</p>"))
	f.Add([]byte(`<article><header><h1>h</h1></header><table><tr><td>1<td>2</table></article><article>x</article>`))
	f.Add([]byte("<p>改行\nまたぎ</p><p hidden>x</p><div aria-hidden=true>y</div>"))
	f.Add([]byte("<meta http-equiv=content-type content='text/html;charset=\"euc-jp\"'>\xa4\xb3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, problems, err := LoadBytes("f.html", data, LoadOptions{})
		checkDocs(t, docs, problems, err)
	})
}

func FuzzLoadJSONL(f *testing.F) {
	f.Add([]byte(`{"id": 1, "title": "t", "text": "a\r\nb", "x": [1, {"y": null}]}` + "\n\n[1]\n{\"text\": 2}\r\n"))
	f.Add([]byte(`{"text": "\ud800 lone surrogate", "id": 1e400}`))
	f.Add(sjisBytes(`{"text": "表示", "title": "ソ"}`))
	f.Add([]byte("{\"text\":\"x\"}\r{\"text\":\"y\"}\r"))
	f.Add([]byte(`{"text": "a"} trailing`))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, problems, err := LoadBytes("f.jsonl", data, LoadOptions{})
		checkDocs(t, docs, problems, err)
		for _, p := range problems {
			var re *RecordError
			var w *Warning
			if !errors.As(p, &w) && (!errors.As(p, &re) || re.Line < 1) {
				t.Fatalf("problem %#v is neither a warning nor a *RecordError with a line", p)
			}
		}
	})
}

func FuzzLoadMarkdown(f *testing.F) {
	f.Add([]byte("---\ntitle: \"a\\x\"\nk: 'q''\n---\n# T #\nbody"))
	f.Add([]byte("Title\n===\n```\n# x\n```"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, problems, err := LoadBytes("f.md", data, LoadOptions{})
		checkDocs(t, docs, problems, err)
	})
}

package document

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

func TestLoadJSONL(t *testing.T) {
	long := strings.Repeat("長い行。", 40000) // ~480 KB, beyond bufio.Scanner's default
	in := strings.Join([]string{
		`{"id": 9007199254740993, "title": "一", "text": "本文1\r\nつづき", "subject": "tech", "year": 2021, "tags": ["a","b"], "nested": {"k": 1.5}}`,
		``,
		`   `,
		`{"id": "doc-2", "text": "` + long + `"}`,
		`not json`,
		`[1, 2]`,
		`{"title": "no text", "body": "x"}`,
		`{"text": 42}`,
		`{"text": "  "}`,
		`{"text": "ok"} {"text": "again"}`,
		`{"text": "truncated`,
		`{"text": "最後", "doc_id": 7}`,
	}, "\r\n")
	docs, problems, err := LoadBytes("data/docs.jsonl", []byte(in), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Document{
		{Source: "data/docs.jsonl", Title: "一", Text: "本文1\nつづき", Meta: map[string]any{
			"doc_id": "9007199254740993", "subject": "tech", "year": json.Number("2021"),
			"tags": []any{"a", "b"}, "nested": map[string]any{"k": json.Number("1.5")}}},
		{Source: "data/docs.jsonl", Text: long, Meta: map[string]any{"doc_id": "doc-2"}},
		{Source: "data/docs.jsonl", Text: "最後", Meta: map[string]any{"doc_id": "7"}},
	}
	if !reflect.DeepEqual(docs, want) {
		t.Fatalf("docs:\n got %#v\nwant %#v", trimDocs(docs), trimDocs(want))
	}
	if docs[0].DocID() != "9007199254740993" {
		t.Errorf("DocID = %q", docs[0].DocID())
	}
	wantProblems := []string{
		`data/docs.jsonl:5: skipped: invalid JSON: invalid character 'o' in literal null (expecting 'u'); each line must be one JSON object such as {"text": "..."}`,
		`data/docs.jsonl:6: skipped: not a JSON object but an array; each line must be one JSON object such as {"text": "..."}`,
		`data/docs.jsonl:7: skipped: no "text" field (the line has: body, title)`,
		`data/docs.jsonl:8: skipped: "text" is a number, not a string; the text must be a JSON string`,
		`data/docs.jsonl:9: skipped: "text" is empty`,
		`data/docs.jsonl:10: skipped: invalid JSON: more data after the first value (one object per line)`,
		`data/docs.jsonl:11: skipped: invalid JSON: the line ends in the middle of a value; each line must be one JSON object such as {"text": "..."}`,
	}
	var got []string
	for _, p := range problems {
		if !errors.Is(p, ErrBadRecord) {
			t.Errorf("%v does not wrap ErrBadRecord", p)
		}
		got = append(got, p.Error())
	}
	if !reflect.DeepEqual(got, wantProblems) {
		t.Fatalf("problems:\n got %q\nwant %q", got, wantProblems)
	}
}

func trimDocs(docs []Document) []Document {
	out := make([]Document, len(docs))
	for i, d := range docs {
		if len(d.Text) > 40 {
			d.Text = d.Text[:40] + "..."
		}
		out[i] = d
	}
	return out
}

func TestLoadJSONLTextField(t *testing.T) {
	docs, problems, err := LoadBytes("a.jsonl", []byte(`{"body": "本文", "text": "other"}`), LoadOptions{TextField: "body"})
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	if docs[0].Text != "本文" || docs[0].Meta["text"] != "other" {
		t.Fatalf("got %#v", docs[0])
	}
}

// In Shift_JIS, 表 and ソ end in 0x5C, a backslash: parsing JSON before
// decoding would corrupt them or fail.
func TestLoadJSONLShiftJIS(t *testing.T) {
	utf := `{"id": 1, "title": "表", "text": "ソフトウェアの表示"}` + "\n"
	data, _ := japanese.ShiftJIS.NewEncoder().Bytes([]byte(utf))
	docs, problems, err := LoadBytes("sjis.jsonl", data, LoadOptions{})
	if err != nil || len(problems) > 0 {
		t.Fatal(err, problems)
	}
	if docs[0].Text != "ソフトウェアの表示" || docs[0].Title != "表" {
		t.Fatalf("got %#v", docs[0])
	}
}

func TestLoadJSONLNoDocuments(t *testing.T) {
	docs, problems, err := LoadBytes("bad.jsonl", []byte("{}\n[]\n"), LoadOptions{})
	if len(docs) != 0 || len(problems) != 2 || !errors.Is(err, ErrNoDocuments) {
		t.Fatalf("docs %v problems %v err %v", docs, problems, err)
	}
	want := `bad.jsonl: skipped: no usable lines (2 skipped; each line must be a JSON object with a string "text" field)`
	if err.Error() != want {
		t.Fatalf("got %q", err)
	}
}

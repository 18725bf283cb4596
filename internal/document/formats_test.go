package document

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// The fixtures in testdata/formats are made by testdata/formats/make.py
// from source.json: the same Japanese report printed by Chromium, written
// by LibreOffice Writer (.docx, and exported to PDF), and as a deck by
// pptxgenjs (.pptx, one slide per chapter with speaker notes).

type reportSource struct {
	Title    string `json:"title"`
	Sections []struct {
		Heading    string     `json:"heading"`
		Paragraphs []string   `json:"paragraphs"`
		Table      [][]string `json:"table"`
	} `json:"sections"`
	Notes []string `json:"notes"`
}

func readSource(t *testing.T) reportSource {
	t.Helper()
	data, err := os.ReadFile("testdata/formats/source.json")
	if err != nil {
		t.Fatal(err)
	}
	var s reportSource
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// sectionText is what chapter i should yield: heading, paragraphs, table.
func (s reportSource) sectionText(i int) string {
	sec := s.Sections[i]
	parts := append([]string{sec.Heading}, sec.Paragraphs...)
	for _, row := range sec.Table {
		parts = append(parts, strings.Join(row, " "))
	}
	return strings.Join(parts, "\n")
}

// recall is the share of the reference's characters (whitespace ignored)
// that the extracted text has, in order: the longest common subsequence
// over the reference's length.
func recall(ref, got string) float64 {
	strip := func(s string) []rune {
		var out []rune
		for _, r := range s {
			if !unicode.IsSpace(r) {
				out = append(out, r)
			}
		}
		return out
	}
	a, b := strip(ref), strip(got)
	if len(a) == 0 {
		return 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				cur[j] = prev[j-1] + 1
			case prev[j] >= cur[j-1]:
				cur[j] = prev[j]
			default:
				cur[j] = cur[j-1]
			}
		}
		prev, cur = cur, prev
	}
	return float64(prev[len(b)]) / float64(len(a))
}

func loadFixture(t *testing.T, name string) ([]Document, []error) {
	t.Helper()
	docs, problems, err := Load(filepath.Join("testdata/formats", name), LoadOptions{})
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return docs, problems
}

func TestPDFJapanese(t *testing.T) {
	src := readSource(t)
	for _, tc := range []struct {
		file  string
		pages int
	}{{"report-chromium.pdf", 3}, {"report-writer.pdf", 1}} {
		t.Run(tc.file, func(t *testing.T) {
			docs, problems := loadFixture(t, tc.file)
			if len(problems) > 0 {
				t.Errorf("problems: %v", problems)
			}
			if len(docs) < tc.pages {
				t.Fatalf("%d documents, want at least %d (one per page)", len(docs), tc.pages)
			}
			var all []string
			for i, d := range docs {
				if d.Meta["page"] != int64(i+1) {
					t.Errorf("document %d has page %v", i, d.Meta["page"])
				}
				if d.Title != src.Title {
					t.Errorf("title %q, want %q", d.Title, src.Title)
				}
				all = append(all, d.Text)
			}
			got := strings.Join(all, "\n")
			want := src.Title
			for i := range src.Sections {
				want += "\n" + src.sectionText(i)
			}
			r := recall(want, got)
			t.Logf("%s: character recall %.4f over %d pages", tc.file, r, len(docs))
			if r < 0.99 {
				t.Errorf("recall %.4f < 0.99; text:\n%s", r, got)
			}
			if tc.pages == 3 {
				// Chromium put each chapter on its own page.
				for i := range src.Sections {
					if !strings.Contains(docs[i].Text, src.Sections[i].Paragraphs[1]) {
						t.Errorf("page %d lacks its chapter's second paragraph:\n%s", i+1, docs[i].Text)
					}
				}
			}
			// Japanese lines wrapped by the layout are joined again.
			for _, sec := range src.Sections {
				for _, p := range sec.Paragraphs {
					if !strings.Contains(got, p) && !strings.HasPrefix(p, "English") {
						t.Errorf("paragraph not found intact: %s", p)
					}
				}
			}
		})
	}
}

func TestPDFScannedPageReported(t *testing.T) {
	docs, problems := loadFixture(t, "scanned.pdf")
	if len(docs) != 1 || docs[0].Meta["page"] != int64(2) || !strings.Contains(docs[0].Text, "二ページ目には文字があります。") {
		t.Fatalf("docs = %+v", docs)
	}
	var pe *PageError
	if len(problems) != 1 || !errors.As(problems[0], &pe) || pe.Page != 1 || !errors.Is(pe, ErrNoText) {
		t.Fatalf("problems = %v, want page 1 without a text layer", problems)
	}
	if !strings.Contains(pe.Error(), "scanned.pdf: page 1: skipped:") || !strings.Contains(pe.Error(), "OCR") {
		t.Errorf("message %q", pe.Error())
	}
}

// TestPDFPermissionsOnly: encrypted with an owner password and an empty
// user password (restrictions only), a PDF opens like any other.
func TestPDFPermissionsOnly(t *testing.T) {
	docs, _ := loadFixture(t, "permissions.pdf")
	if len(docs) != 1 || !strings.Contains(docs[0].Text, "二ページ目には文字があります。") {
		t.Fatalf("docs = %+v", docs)
	}
}

func TestPDFEncryptedAndDamaged(t *testing.T) {
	f := func(name string, sentinel error, words string) {
		t.Helper()
		_, _, err := Load(filepath.Join("testdata/formats", name), LoadOptions{})
		var se *SkipError
		if !errors.As(err, &se) || !errors.Is(err, sentinel) || !strings.Contains(err.Error(), words) {
			t.Errorf("%s: err = %v, want a SkipError with %v mentioning %q", name, err, sentinel, words)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: the reason is not one line: %q", name, err)
		}
	}
	f("encrypted.pdf", ErrEncrypted, "password")
	f("damaged.pdf", ErrDamaged, "damaged")
	dir := t.TempDir()
	notPDF := filepath.Join(dir, "notes.pdf")
	os.WriteFile(notPDF, []byte("just text, named .pdf"), 0o644)
	if _, _, err := Load(notPDF, LoadOptions{}); !errors.Is(err, ErrDamaged) {
		t.Errorf("text file named .pdf: %v", err)
	}
}

func TestDOCX(t *testing.T) {
	src := readSource(t)
	docs, problems := loadFixture(t, "report-writer.docx")
	if len(docs) != 1 || len(problems) > 0 {
		t.Fatalf("docs %d problems %v", len(docs), problems)
	}
	d := docs[0]
	if d.Title != src.Title {
		t.Errorf("title %q", d.Title)
	}
	want := src.Title
	for i := range src.Sections {
		want += "\n" + src.sectionText(i)
	}
	r := recall(want, d.Text)
	t.Logf("report-writer.docx: character recall %.4f", r)
	if r < 0.999 {
		t.Errorf("recall %.4f; text:\n%s", r, d.Text)
	}
	for _, want := range []string{
		"\n\n" + src.Sections[1].Heading + "\n\n", // headings stand apart
		"指標 | 導入前 | 導入後\nデプロイ頻度 | 週1回 | 1日4回",     // tables row by row
	} {
		if !strings.Contains(d.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, d.Text)
		}
	}
	// Order: chapter 1 before the table before chapter 3.
	if i, j, k := strings.Index(d.Text, "第一章"), strings.Index(d.Text, "平均復旧時間 | 42分"), strings.Index(d.Text, "第三章"); !(i < j && j < k) {
		t.Errorf("order wrong: %d %d %d", i, j, k)
	}
}

func TestPPTX(t *testing.T) {
	src := readSource(t)
	docs, problems := loadFixture(t, "report-pptxgenjs.pptx")
	if len(docs) != len(src.Sections) || len(problems) > 0 {
		t.Fatalf("%d documents, problems %v", len(docs), problems)
	}
	for i, d := range docs {
		if d.Meta["slide"] != int64(i+1) || d.Title != src.Title {
			t.Errorf("slide %d: meta %v title %q", i+1, d.Meta, d.Title)
		}
		want := src.sectionText(i) + "\n" + src.Notes[i]
		r := recall(want, d.Text)
		t.Logf("slide %d: character recall %.4f", i+1, r)
		if r < 0.999 {
			t.Errorf("slide %d recall %.4f:\n%s", i+1, r, d.Text)
		}
		if !strings.HasPrefix(d.Text, src.Sections[i].Heading) {
			t.Errorf("slide %d does not start with its title:\n%s", i+1, d.Text)
		}
		if !strings.HasSuffix(d.Text, src.Notes[i]) {
			t.Errorf("slide %d does not end with its notes:\n%s", i+1, d.Text)
		}
	}
}

// zipOf builds a ZIP file from name/content pairs.
func zipOf(t testing.TB, files ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.Create(files[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	zw.Close()
	return buf.Bytes()
}

const minimalDocx = `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>見出し</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">本文の </w:t></w:r><w:r><w:delText>削除</w:delText><w:t>段落</w:t></w:r><w:r><w:tab/><w:t>タブ</w:t></w:r></w:p>
</w:body></w:document>`

const minimalStyles = `<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style></w:styles>`

const docxRels = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`

const docxDocRels = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`

func TestDOCXMinimal(t *testing.T) {
	data := zipOf(t, "_rels/.rels", docxRels, "word/_rels/document.xml.rels", docxDocRels, "word/document.xml", minimalDocx, "word/styles.xml", minimalStyles)
	docs, _, err := LoadBytes("m.docx", data, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := docs[0].Text, "見出し\n\n本文の 段落\tタブ"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	if docs[0].Title != "見出し" {
		t.Errorf("title %q", docs[0].Title)
	}
}

func TestOfficeBombsAndDamage(t *testing.T) {
	f := func(name string, data []byte, sentinel error, words string) {
		t.Helper()
		_, _, err := LoadBytes(name, data, LoadOptions{})
		if !errors.Is(err, sentinel) || !strings.Contains(err.Error(), words) {
			t.Errorf("%s: err = %v, want %v mentioning %q", name, err, sentinel, words)
		}
	}
	// A part that inflates past the per-part limit (64 MiB of one byte
	// compresses to about 64 KiB).
	big := strings.Repeat("a", maxPartBytes+1)
	f("bomb.docx", zipOf(t, "_rels/.rels", docxRels, "word/document.xml", big), ErrDamaged, "more than")
	// Too many entries.
	var many []string
	for i := 0; i <= maxZipEntries; i++ {
		many = append(many, fmt.Sprintf("x/%d", i), "")
	}
	f("many.pptx", zipOf(t, many...), ErrDamaged, "parts")
	f("plain.docx", []byte("not a zip"), ErrDamaged, "ZIP")
	cfb := append(append([]byte{}, cfbSignature...), utf16le("EncryptedPackage")...)
	f("locked.docx", cfb, ErrEncrypted, "password")
	f("old.ppt.pptx", append([]byte{}, cfbSignature...), ErrDamaged, "legacy")
	f("nomain.docx", zipOf(t, "_rels/.rels", docxRels), ErrDamaged, "main document")
	f("nopres.pptx", zipOf(t, "x", "y"), ErrDamaged, "presentation")
}

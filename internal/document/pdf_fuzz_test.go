package document

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"os"
	"strings"
	"testing"
)

// buildPDF writes a one-page PDF with the given content stream and font
// objects (each "N 0 obj ... endobj" body given without its number; the
// first font is object 5, /F1 in the page resources). Offsets are exact,
// so pdfcpu reads it without repair.
func buildPDF(content []byte, compress bool, fonts ...string) []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(body string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), body)
	}
	b.WriteString("%PDF-1.7\n")
	fontRes := ""
	for i := range fonts {
		fontRes += fmt.Sprintf("/F%d %d 0 R ", i+1, 5+i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << " + fontRes + ">> >> >>")
	stream, filter := content, ""
	if compress {
		var z bytes.Buffer
		w := zlib.NewWriter(&z)
		w.Write(content)
		w.Close()
		stream, filter = z.Bytes(), " /Filter /FlateDecode"
	}
	offs = append(offs, b.Len())
	fmt.Fprintf(&b, "4 0 obj\n<< /Length %d%s >>\nstream\n", len(stream), filter)
	b.Write(stream)
	b.WriteString("\nendstream\nendobj\n")
	for _, f := range fonts {
		obj(f)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

const helvetica = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"

func TestPDFTextOperators(t *testing.T) {
	f := func(content, want string) {
		t.Helper()
		docs, problems, err := LoadBytes("t.pdf", buildPDF([]byte(content), true, helvetica), LoadOptions{})
		if err != nil || len(problems) > 0 {
			t.Fatalf("%q: err %v problems %v", content, err, problems)
		}
		if got := docs[0].Text; got != want {
			t.Errorf("%q:\n got %q\nwant %q", content, got, want)
		}
	}
	f("BT /F1 12 Tf 72 700 Td (Hello) Tj ( world) Tj ET", "Hello world")
	f("BT /F1 12 Tf 72 700 Td (Hello) Tj 0 -14 Td (next line) Tj ET", "Hello\nnext line")
	f("BT /F1 12 Tf 72 700 Td (para) Tj 0 -40 Td (graph) Tj ET", "para\n\ngraph")
	f("BT /F1 12 Tf 72 700 Td [(Kern)-20(ing) -600 (gap)] TJ ET", "Kerning gap")
	f("BT /F1 12 Tf 14 TL 72 700 Td (a) Tj T* (b) Tj (c) ' ET", "a\nb\nc")
	f("q 1 0 0 1 100 0 cm BT /F1 12 Tf 0 700 Td (moved) Tj ET Q", "moved")
	f("BT /F1 12 Tf 72 700 Td (\\050esc\\051 \\101) Tj ET", "(esc) A")
	f("BI /W 1 /H 1 /BPC 8 /CS /G ID \x01\x02 EI BT /F1 12 Tf 72 700 Td (after image) Tj ET", "after image")
}

func TestPDFToUnicodeIdentityH(t *testing.T) {
	cmap := "/CIDInit /ProcSet findresource begin 12 dict begin begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange " +
		"2 beginbfchar <0001> <65E5> <0002> <672C> endbfchar 1 beginbfrange <0010> <0012> <8A9E> endbfrange endcmap end end"
	var b bytes.Buffer
	fmt.Fprintf(&b, "<< /Length %d >>\nstream\n%s\nendstream", len(cmap), cmap)
	font := "<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /ToUnicode 6 0 R /DescendantFonts [7 0 R] >>"
	cid := "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /DW 1000 /W [1 [1000 1000]] >>"
	data := buildPDF([]byte("BT /F1 10 Tf 72 700 Td <000100020010> Tj ET"), false, font, b.String(), cid)
	docs, _, err := LoadBytes("ja.pdf", data, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := docs[0].Text; got != "日本語" {
		t.Errorf("text %q, want 日本語", got)
	}
}

// A font whose ToUnicode map gives the ligature ﬁ for one glyph: the page
// reads "file", so a search for "file" finds it.
func TestPDFLigaturesSpelledOut(t *testing.T) {
	cmap := "/CIDInit /ProcSet findresource begin 12 dict begin begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange " +
		"3 beginbfchar <0001> <FB01> <0002> <006C> <0003> <0065> endbfchar endcmap end end"
	var b bytes.Buffer
	fmt.Fprintf(&b, "<< /Length %d >>\nstream\n%s\nendstream", len(cmap), cmap)
	font := "<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /ToUnicode 6 0 R /DescendantFonts [7 0 R] >>"
	cid := "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /DW 500 >>"
	data := buildPDF([]byte("BT /F1 10 Tf 72 700 Td <000100020003> Tj ET"), false, font, b.String(), cid)
	docs, _, err := LoadBytes("lig.pdf", data, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := docs[0].Text; got != "file" {
		t.Errorf("text %q, want file", got)
	}
}

// TestPDFStreamBomb: a content stream that inflates past the per-stream
// limit makes the page unreadable, not the process run out of memory.
func TestPDFStreamBomb(t *testing.T) {
	content := bytes.Repeat([]byte(" "), maxPDFStreamBytes+1)
	_, problems, err := LoadBytes("bomb.pdf", buildPDF(content, true, helvetica), LoadOptions{})
	if err == nil && len(problems) == 0 {
		t.Fatal("a stream past the limit was read")
	}
	t.Logf("err %v problems %v", err, problems)
}

func FuzzPDF(f *testing.F) {
	f.Add(buildPDF([]byte("BT /F1 12 Tf 72 700 Td (Hello) Tj ET"), true, helvetica))
	f.Add(buildPDF([]byte("BT /F1 12 Tf [(a) 100 (b)] TJ 0 -20 Td (c) ' ET q 2 0 0 2 0 0 cm /X Do Q"), false, helvetica))
	for _, name := range []string{"scanned.pdf", "damaged.pdf"} {
		if data, err := os.ReadFile("testdata/formats/" + name); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, problems, err := LoadBytes("fuzz.pdf", data, LoadOptions{})
		checkDocs(t, docs, problems, err)
	})
}

func FuzzPDFContent(f *testing.F) {
	f.Add("BT /F1 12 Tf 72 700 Td (Hello) Tj ET")
	f.Add("BT /F1 12 Tf [(a)-300(b)] TJ 14 TL T* (c) ' 1 2 (d) \" ET")
	f.Add("q 1 0 0 1 5 5 cm << /MCID 0 >> BDC BT /F1 9 Tf (x) Tj ET EMC Q BI /W 1 ID xx EI")
	f.Add("BT /F1 12 Tf <48656c6c6f> Tj ET [[[ ]] (unbalanced")
	f.Fuzz(func(t *testing.T, content string) {
		docs, problems, err := LoadBytes("fuzz.pdf", buildPDF([]byte(content), false, helvetica), LoadOptions{})
		checkDocs(t, docs, problems, err)
	})
}

func FuzzCMap(f *testing.F) {
	f.Add("1 begincodespacerange <00> <FF> endcodespacerange 1 beginbfchar <41> <0042> endbfchar", []byte("A"))
	f.Add("begincodespacerange <0000> <FFFF> endcodespacerange beginbfrange <0000> <00FF> [<0041> <0042>] <0100> <01FF> <D83DDE00> endbfrange", []byte{0, 1, 1, 5})
	f.Fuzz(func(t *testing.T, cmapText string, code []byte) {
		m := parseCMap([]byte(cmapText))
		for len(code) > 0 {
			n := m.codeLen(code)
			if n == 0 {
				n = 1
			}
			if n > len(code) {
				t.Fatalf("codeLen %d past the input", n)
			}
			if s := m.lookup(code[:n]); strings.ContainsRune(s, 0) {
				t.Fatalf("NUL in mapped text")
			}
			code = code[n:]
		}
	})
}

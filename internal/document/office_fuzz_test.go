package document

import (
	"os"
	"testing"
)

func FuzzDOCX(f *testing.F) {
	f.Add(zipOf(f, "_rels/.rels", docxRels, "word/_rels/document.xml.rels", docxDocRels, "word/document.xml", minimalDocx, "word/styles.xml", minimalStyles))
	if data, err := os.ReadFile("testdata/formats/report-writer.docx"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, problems, err := LoadBytes("fuzz.docx", data, LoadOptions{})
		checkDocs(t, docs, problems, err)
	})
}

// FuzzDOCXBody fuzzes the document XML alone, inside a valid package, so
// the fuzzer spends its time in the XML walker rather than in ZIP headers.
func FuzzDOCXBody(f *testing.F) {
	f.Add(minimalDocx)
	f.Add(`<w:document><w:body><w:tbl><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>b</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:tc></w:tr></w:tbl></w:body></w:document>`)
	f.Fuzz(func(t *testing.T, body string) {
		data := zipOf(t, "_rels/.rels", docxRels, "word/document.xml", body)
		docs, problems, err := LoadBytes("fuzz.docx", data, LoadOptions{})
		checkDocs(t, docs, problems, err)
	})
}

const pptxRels = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="ppt/presentation.xml"/></Relationships>`
const pptxPres = `<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst></p:presentation>`
const pptxPresRels = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide1.xml"/></Relationships>`
const pptxSlide = `<p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:sp><p:nvSpPr><p:nvPr><p:ph type="body"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>本文</a:t></a:r></a:p></p:txBody></p:sp><p:sp><p:nvSpPr><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>題名</a:t></a:r><a:br/><a:r><a:t>二行目</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`

func TestPPTXMinimal(t *testing.T) {
	data := zipOf(t, "_rels/.rels", pptxRels, "ppt/presentation.xml", pptxPres, "ppt/_rels/presentation.xml.rels", pptxPresRels, "ppt/slides/slide1.xml", pptxSlide)
	docs, _, err := LoadBytes("m.pptx", data, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := docs[0].Text, "題名\n二行目\n\n本文"; got != want {
		t.Errorf("text %q, want %q (title placeholder first)", got, want)
	}
	if docs[0].Title != "題名 二行目" || docs[0].Meta["slide"] != int64(1) {
		t.Errorf("title %q meta %v", docs[0].Title, docs[0].Meta)
	}
}

func FuzzPPTXSlide(f *testing.F) {
	f.Add(pptxSlide)
	f.Add(`<p:sld><p:graphicFrame><a:tbl><a:tr><a:tc><a:txBody><a:p><a:r><a:t>x</a:t></a:r></a:p></a:txBody></a:tc></a:tr></a:tbl></p:graphicFrame></p:sld>`)
	f.Fuzz(func(t *testing.T, slide string) {
		data := zipOf(t, "_rels/.rels", pptxRels, "ppt/presentation.xml", pptxPres, "ppt/_rels/presentation.xml.rels", pptxPresRels, "ppt/slides/slide1.xml", slide)
		docs, problems, err := LoadBytes("fuzz.pptx", data, LoadOptions{})
		checkDocs(t, docs, problems, err)
	})
}

func FuzzPPTX(f *testing.F) {
	f.Add(zipOf(f, "_rels/.rels", pptxRels, "ppt/presentation.xml", pptxPres, "ppt/_rels/presentation.xml.rels", pptxPresRels, "ppt/slides/slide1.xml", pptxSlide))
	if data, err := os.ReadFile("testdata/formats/report-pptxgenjs.pptx"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, problems, err := LoadBytes("fuzz.pptx", data, LoadOptions{})
		checkDocs(t, docs, problems, err)
	})
}

package document

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
)

// loadDOCX reads a Word document (.docx): its body's paragraphs and tables
// in document order. Headings stay as paragraphs of their own with a blank
// line around them; table rows become lines with cells separated by " | ".
// Text boxes are read where they are anchored. Not read: headers and
// footers, footnotes and endnotes, comments, deleted (tracked) text, field
// codes, images and embedded objects.
func loadDOCX(src string, data []byte) ([]Document, error) {
	pkg, err := openPackage(data, ".docx")
	if err != nil {
		return nil, err
	}
	main, err := pkg.mainPart("word/document.xml", "main document")
	if err != nil {
		return nil, err
	}
	styles, err := pkg.optionalPart(main.relsByType["styles"])
	if err != nil {
		return nil, err
	}
	w := &docxWalker{styles: headingStyles(styles)}
	if err := w.walk(xml.NewDecoder(bytes.NewReader(main.data))); err != nil {
		return nil, damaged("%s: %v", main.name, err)
	}
	text := w.text()
	if isBlank(text) {
		return nil, emptyErr("the document has no text")
	}
	title := pkg.coreTitle()
	if title == "" {
		title = w.title
	}
	if title == "" {
		title = baseTitle(src)
	}
	return []Document{{Source: src, Title: truncateRunes(title, maxTitleRunes), Text: text, Meta: map[string]any{}}}, nil
}

// headingStyles maps paragraph style ids to heading levels: 0 for the
// Title style, 1-9 for headings. Styles are recognised by their
// language-independent name ("heading 1", "Title") or outline level,
// because localised Word writes ids such as "1" for 見出し 1. A document
// without a styles part (nil data) has none.
func headingStyles(data []byte) map[string]int {
	var doc struct {
		Styles []struct {
			ID   string `xml:"styleId,attr"`
			Name struct {
				Val string `xml:"val,attr"`
			} `xml:"name"`
			Outline *struct {
				Val string `xml:"val,attr"`
			} `xml:"pPr>outlineLvl"`
		} `xml:"style"`
	}
	out := map[string]int{}
	if xml.Unmarshal(data, &doc) != nil {
		return out
	}
	for _, s := range doc.Styles {
		name := strings.ToLower(s.Name.Val)
		switch {
		case name == "title":
			out[s.ID] = 0
		case strings.HasPrefix(name, "heading "):
			if n, err := strconv.Atoi(strings.TrimPrefix(name, "heading ")); err == nil && n >= 1 && n <= 9 {
				out[s.ID] = n
			}
		case s.Outline != nil:
			if n, err := strconv.Atoi(s.Outline.Val); err == nil && n >= 0 && n <= 8 {
				out[s.ID] = n + 1
			}
		}
	}
	return out
}

type docxBlock struct {
	text    string
	heading bool
	table   bool
}

type docxWalker struct {
	styles map[string]int
	blocks []docxBlock
	title  string
	depth  int // element nesting, against hostile documents
}

const maxXMLDepth = 256

func (w *docxWalker) walk(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "p":
			text, level, err := w.paragraph(d)
			if err != nil {
				return err
			}
			w.add(text, level)
		case "tbl":
			var b strings.Builder
			if err := w.table(d, &b); err != nil {
				return err
			}
			if t := strings.TrimSpace(b.String()); t != "" {
				w.blocks = append(w.blocks, docxBlock{text: t, table: true})
			}
		case "Fallback", "sectPr":
			if err := d.Skip(); err != nil {
				return err
			}
		}
	}
}

func (w *docxWalker) add(text string, level int) {
	text = strings.TrimRight(text, " \t\n")
	if level >= 0 && strings.TrimSpace(text) != "" {
		if w.title == "" && level <= 1 {
			w.title = collapse(text)
		}
		w.blocks = append(w.blocks, docxBlock{text: strings.TrimSpace(text), heading: true})
		return
	}
	w.blocks = append(w.blocks, docxBlock{text: text})
}

// paragraph reads a w:p; level is the heading level or -1.
func (w *docxWalker) paragraph(d *xml.Decoder) (string, int, error) {
	level := -1
	var b strings.Builder
	err := w.inline(d, &b, func(se xml.StartElement) {
		switch se.Name.Local {
		case "pStyle":
			if l, ok := w.styles[attrVal(se, "val")]; ok {
				level = l
			}
		case "outlineLvl":
			if n, err := strconv.Atoi(attrVal(se, "val")); err == nil && n >= 0 && n <= 8 {
				level = n + 1
			}
		}
	})
	return b.String(), level, err
}

// inline collects the text of the element being read, up to its end.
// props sees the elements of paragraph properties (style, outline level).
func (w *docxWalker) inline(d *xml.Decoder, b *strings.Builder, props func(xml.StartElement)) error {
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > maxXMLDepth {
		return errors.New("elements nested too deeply")
	}
	return readRuns(d, b, func(t xml.StartElement) error {
		switch t.Name.Local {
		case "tab", "ptab":
			b.WriteByte('\t')
			return d.Skip()
		case "br", "cr":
			b.WriteByte('\n')
			return d.Skip()
		case "noBreakHyphen":
			b.WriteByte('-')
			return d.Skip()
		case "delText", "instrText", "Fallback", "rPr", "fldData", "footnoteReference", "endnoteReference":
			return d.Skip()
		case "pPr":
			return eachChild(d, func(se xml.StartElement) error {
				if props != nil {
					props(se)
				}
				return d.Skip()
			})
		case "p": // a paragraph in a text box
			b.WriteByte('\n')
			if err := w.inline(d, b, nil); err != nil {
				return err
			}
			b.WriteByte('\n')
		case "tbl":
			b.WriteByte('\n')
			if err := w.table(d, b); err != nil {
				return err
			}
			b.WriteByte('\n')
		default:
			return w.inline(d, b, props)
		}
		return nil
	})
}

// table writes a w:tbl as lines of cells separated by " | ".
func (w *docxWalker) table(d *xml.Decoder, b *strings.Builder) error {
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > maxXMLDepth {
		return errors.New("tables nested too deeply")
	}
	return eachChild(d, func(se xml.StartElement) error {
		if se.Name.Local != "tr" {
			return d.Skip()
		}
		return readTableRow(d, b, func(cell *strings.Builder) error { return w.inline(d, cell, nil) })
	})
}

// text joins the blocks: paragraphs on lines of their own, a blank line
// around headings and tables and where the author left an empty paragraph.
func (w *docxWalker) text() string {
	var b strings.Builder
	gap := false
	for _, bl := range w.blocks {
		if strings.TrimSpace(bl.text) == "" {
			gap = true
			continue
		}
		if b.Len() > 0 {
			if gap || bl.heading || bl.table {
				b.WriteString("\n\n")
			} else {
				b.WriteByte('\n')
			}
		}
		b.WriteString(bl.text)
		gap = bl.heading || bl.table
	}
	return b.String()
}

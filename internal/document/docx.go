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
	_, rootRels, err := pkg.rels("")
	if err != nil {
		return nil, err
	}
	main := rootRels["officeDocument"]
	if main == "" {
		main = "word/document.xml"
	}
	_, docRels, err := pkg.rels(main)
	if err != nil {
		return nil, err
	}
	styles := map[string]int{}
	if name := docRels["styles"]; name != "" {
		if sdata, err := pkg.part(name); err == nil {
			styles = headingStyles(sdata)
		} else if !errors.Is(err, errNoPart) {
			return nil, err
		}
	}
	body, err := pkg.part(main)
	if errors.Is(err, errNoPart) {
		return nil, damaged("the package has no main document part (%s)", main)
	}
	if err != nil {
		return nil, err
	}
	w := &docxWalker{styles: styles}
	if err := w.walk(xml.NewDecoder(bytes.NewReader(body))); err != nil {
		return nil, damaged("%s: %v", main, err)
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
// because localised Word writes ids such as "1" for 見出し 1.
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
	inText := false
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if inText {
				b.Write(t)
			}
		case xml.EndElement:
			if t.Name.Local == "t" && inText {
				inText = false
				continue
			}
			return nil
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inText = true
			case "tab", "ptab":
				b.WriteByte('\t')
				d.Skip()
			case "br", "cr":
				b.WriteByte('\n')
				d.Skip()
			case "noBreakHyphen":
				b.WriteByte('-')
				d.Skip()
			case "delText", "instrText", "Fallback", "rPr", "fldData", "footnoteReference", "endnoteReference":
				if err := d.Skip(); err != nil {
					return err
				}
			case "pPr":
				if err := w.props(d, props); err != nil {
					return err
				}
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
				if err := w.inline(d, b, props); err != nil {
					return err
				}
			}
		}
	}
}

func (w *docxWalker) props(d *xml.Decoder, props func(xml.StartElement)) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if props != nil {
				props(t)
			}
			if err := d.Skip(); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// table writes a w:tbl as lines of cells separated by " | ".
func (w *docxWalker) table(d *xml.Decoder, b *strings.Builder) error {
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > maxXMLDepth {
		return errors.New("tables nested too deeply")
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if t.Name.Local != "tr" {
				if err := d.Skip(); err != nil {
					return err
				}
				continue
			}
			var cells []string
			if err := w.row(d, &cells); err != nil {
				return err
			}
			if strings.TrimSpace(strings.Join(cells, "")) != "" {
				b.WriteString(strings.Join(cells, " | "))
				b.WriteByte('\n')
			}
		}
	}
}

func (w *docxWalker) row(d *xml.Decoder, cells *[]string) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if t.Name.Local != "tc" {
				if err := d.Skip(); err != nil {
					return err
				}
				continue
			}
			var b strings.Builder
			if err := w.inline(d, &b, nil); err != nil {
				return err
			}
			*cells = append(*cells, strings.Join(strings.Fields(b.String()), " "))
		}
	}
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

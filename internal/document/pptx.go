package document

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxSlides bounds the slides read from one presentation.
const maxSlides = 5000

const relNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

// loadPPTX reads a PowerPoint presentation (.pptx): one Document per
// slide, in the presentation's slide order, with the slide number as
// metadata "slide" so every chunk says where it came from. A slide's text
// is its title first, then its other text boxes and tables in the order
// they are drawn, then its speaker notes. Slides without any text are left
// out. Not read: text inside images and charts, SmartArt drawings,
// comments, slide masters and layouts.
func loadPPTX(src string, data []byte) ([]Document, error) {
	pkg, err := openPackage(data, ".pptx")
	if err != nil {
		return nil, err
	}
	main, err := pkg.mainPart("ppt/presentation.xml", "presentation")
	if err != nil {
		return nil, err
	}
	var order struct {
		IDs []struct {
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sldIdLst>sldId"`
	}
	if err := xml.Unmarshal(main.data, &order); err != nil {
		return nil, damaged("%s: %v", main.name, err)
	}
	if len(order.IDs) > maxSlides {
		return nil, damaged("the presentation has %d slides, more than the limit of %d", len(order.IDs), maxSlides)
	}
	title := pkg.coreTitle()
	var docs []Document
	for i, id := range order.IDs {
		var rid string
		for _, a := range id.Attrs {
			if a.Name.Local == "id" && a.Name.Space == relNS {
				rid = a.Value
			}
		}
		name := main.relsByID[rid]
		if name == "" {
			return nil, damaged("slide %d: its relationship %q names no part", i+1, rid)
		}
		slide, err := pkg.part(name)
		if err != nil {
			if errors.Is(err, errNoPart) {
				return nil, damaged("slide %d: part %s is missing", i+1, name)
			}
			return nil, err
		}
		shapes, err := slideShapes(slide)
		if err != nil {
			return nil, damaged("slide %d (%s): %v", i+1, name, err)
		}
		var parts []string
		slideTitle := ""
		for _, s := range shapes {
			if s.title && slideTitle == "" {
				slideTitle = collapse(s.text)
			}
			parts = append(parts, s.text)
		}
		_, slideRels, err := pkg.rels(name)
		if err != nil {
			return nil, err
		}
		notes, err := pkg.optionalPart(slideRels["notesSlide"])
		if err != nil {
			return nil, err
		}
		noteShapes, err := slideShapes(notes)
		if err != nil {
			return nil, damaged("notes of slide %d: %v", i+1, err)
		}
		for _, s := range noteShapes {
			if s.notesBody {
				parts = append(parts, s.text)
			}
		}
		text := strings.TrimSpace(strings.Join(parts, "\n\n"))
		if text == "" {
			continue
		}
		if title == "" {
			title = slideTitle
		}
		docs = append(docs, Document{Source: src, Text: text, Meta: map[string]any{"slide": int64(i + 1)}})
	}
	if len(docs) == 0 {
		return nil, emptyErr(fmt.Sprintf("none of the %d slides has text", len(order.IDs)))
	}
	if title == "" {
		title = baseTitle(src)
	}
	for i := range docs {
		docs[i].Title = truncateRunes(title, maxTitleRunes)
	}
	return docs, nil
}

type slideShape struct {
	text      string
	title     bool // a title placeholder
	notesBody bool // the notes text of a notes slide
}

// slideShapes returns the text of a slide's (or notes slide's) shapes and
// tables in drawing order, title placeholders first.
func slideShapes(data []byte) ([]slideShape, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var titles, rest []slideShape
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			depth--
		case xml.StartElement:
			depth++
			if depth > maxXMLDepth {
				return nil, errors.New("elements nested too deeply")
			}
			switch t.Name.Local {
			case "sp":
				s, err := readShape(d)
				if err != nil {
					return nil, err
				}
				depth--
				if strings.TrimSpace(s.text) == "" {
					continue
				}
				if s.title {
					titles = append(titles, s)
				} else {
					rest = append(rest, s)
				}
			case "graphicFrame":
				var b strings.Builder
				if err := readDrawingText(d, &b, 0); err != nil {
					return nil, err
				}
				depth--
				if t := strings.TrimSpace(b.String()); t != "" {
					rest = append(rest, slideShape{text: t})
				}
			case "pic", "Fallback":
				if err := d.Skip(); err != nil {
					return nil, err
				}
				depth--
			}
		}
	}
	return append(titles, rest...), nil
}

// readShape reads a p:sp: its placeholder type and its text body.
func readShape(d *xml.Decoder) (slideShape, error) {
	ph, hasPh := "", false
	var b strings.Builder
	err := eachChild(d, func(t xml.StartElement) error {
		switch t.Name.Local {
		case "nvSpPr":
			return readPlaceholder(d, &ph, &hasPh)
		case "txBody":
			return readDrawingText(d, &b, 0)
		default:
			return d.Skip()
		}
	})
	if err != nil {
		return slideShape{}, err
	}
	return slideShape{
		text:  strings.TrimSpace(b.String()),
		title: ph == "title" || ph == "ctrTitle",
		// In a notes slide the notes are the body placeholder; the
		// others are the slide image, number, header and footer.
		notesBody: hasPh && (ph == "body" || ph == ""),
	}, nil
}

func readPlaceholder(d *xml.Decoder, ph *string, has *bool) error {
	depth := 1
	for depth > 0 {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if t.Name.Local == "ph" {
				*has = true
				*ph = attrVal(t, "type")
			}
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// readDrawingText writes the DrawingML text of the current element: a:p
// paragraphs on lines of their own, a:br as a line break, table rows
// (a:tr) as lines of cells joined by " | ".
func readDrawingText(d *xml.Decoder, b *strings.Builder, nest int) error {
	if nest > maxXMLDepth {
		return errors.New("elements nested too deeply")
	}
	return readRuns(d, b, func(t xml.StartElement) error {
		switch t.Name.Local {
		case "br":
			b.WriteByte('\n')
			return d.Skip()
		case "rPr", "pPr", "endParaRPr", "spPr", "Fallback", "bodyPr", "lstStyle":
			return d.Skip()
		case "p":
			if err := readDrawingText(d, b, nest+1); err != nil {
				return err
			}
			b.WriteByte('\n')
			return nil
		case "tr":
			return readTableRow(d, b, func(cell *strings.Builder) error { return readDrawingText(d, cell, nest+2) })
		default:
			return readDrawingText(d, b, nest+1)
		}
	})
}

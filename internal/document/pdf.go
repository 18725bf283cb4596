package document

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Limits against PDF bombs: a small file whose streams inflate to
// gigabytes, or whose forms draw each other millions of times.
const (
	maxPDFStreamBytes = 64 << 20  // one decoded stream
	maxPDFDocBytes    = 512 << 20 // all content decoded for one document
	maxPDFPages       = 20000
	maxPDFGlyphs      = 2 << 20 // glyphs on one page
	maxFormDepth      = 8       // forms drawing forms
)

var disablePDFConfig sync.Once

// loadPDF reads the text layer of a PDF: one Document per page that has
// text, with the page number as metadata "page", so a chunk never spans
// two pages and every hit says where it is. Text is decoded through the
// fonts' ToUnicode CMaps, the predefined Japanese CMaps and simple font
// encodings, and laid out in drawing order (see layout). A page that draws
// images but has no text, a scanned page, is reported as a problem; an
// empty page is not. Encrypted PDFs open when the user password is empty
// (permissions only); others are skipped.
//
// Not read: text inside images (no OCR), annotations and form fields,
// fonts without any Unicode information (Identity-H without ToUnicode).
func loadPDF(src string, data []byte) (docs []Document, problems []error, err error) {
	disablePDFConfig.Do(func() { model.ConfigPath = "disable" }) // pdfcpu would write a config dir otherwise
	defer func() {
		if r := recover(); r != nil {
			docs, problems = nil, nil
			err = damaged("cannot parse the PDF (%v)", r)
		}
	}()
	if !bytes.HasPrefix(bytes.TrimLeft(data[:min(len(data), 1024)], "\x00\t\n\r "), []byte("%PDF-")) && !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return nil, nil, damaged("no %%PDF- header; this is not a PDF file")
	}
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.Limits.MaxDecodeBytes = maxPDFStreamBytes
	conf.Limits.MaxStreamBytes = int64(len(data)) + 1
	ctx, err := pdfcpu.Read(bytes.NewReader(data), conf)
	if err != nil {
		if errors.Is(err, pdfcpu.ErrWrongPassword) || strings.Contains(err.Error(), "password") {
			return nil, nil, &SkipError{Reason: "the PDF is encrypted with a password; save an unprotected copy to ingest it", Err: ErrEncrypted}
		}
		return nil, nil, damaged("%s", pdfReason(err))
	}
	if err := ctx.EnsurePageCount(); err != nil {
		return nil, nil, damaged("cannot count the pages (%s)", pdfReason(err))
	}
	if ctx.PageCount > maxPDFPages {
		return nil, nil, damaged("%d pages, more than the limit of %d", ctx.PageCount, maxPDFPages)
	}
	title := pdfTitle(ctx)
	x := &pdfExtractor{xref: ctx.XRefTable, budget: maxPDFDocBytes, fonts: map[int]*pdfFont{}, forms: map[int][]byte{}}
	scanned := 0
	var firstErr error
	for n := 1; n <= ctx.PageCount; n++ {
		text, images, err := x.page(n)
		if err != nil {
			if errors.Is(err, errPDFBudget) {
				return nil, nil, damaged("its content inflates to more than %d MiB (a decompression bomb?)", maxPDFDocBytes>>20)
			}
			problems = append(problems, &PageError{Path: src, Page: n, Reason: "cannot read the page: " + pdfReason(err), Err: ErrDamaged})
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if strings.TrimSpace(text) == "" {
			if images {
				scanned++
				problems = append(problems, &PageError{Path: src, Page: n, Reason: "no text layer, only images (a scanned page?); run OCR on the PDF to make it searchable", Err: ErrNoText})
			}
			continue
		}
		docs = append(docs, Document{Source: src, Title: title, Text: text, Meta: map[string]any{"page": int64(n)}})
	}
	if len(docs) == 0 && firstErr != nil {
		return nil, nil, damaged("no page could be read (%s)", pdfReason(firstErr))
	}
	if len(docs) == 0 {
		reason := fmt.Sprintf("none of its %d pages has text", ctx.PageCount)
		if scanned > 0 {
			reason += fmt.Sprintf(" (%d are images only: a scanned document? run OCR first)", scanned)
		}
		return nil, nil, &SkipError{Reason: reason, Err: ErrNoText}
	}
	if title == "" {
		title = baseTitle(src)
		for i := range docs {
			docs[i].Title = title
		}
	}
	return docs, problems, nil
}

// pdfReason shortens pdfcpu's messages ("pdfcpu: ...") to their point.
func pdfReason(err error) string {
	return strings.TrimPrefix(err.Error(), "pdfcpu: ")
}

// pdfTitle is the document information dictionary's Title, if any.
func pdfTitle(ctx *model.Context) string {
	if ctx.Info == nil {
		return ""
	}
	info, err := ctx.DereferenceDict(*ctx.Info)
	if err != nil || info == nil {
		return ""
	}
	o, ok := info.Find("Title")
	if !ok {
		return ""
	}
	t, err := ctx.DereferenceText(o)
	if err != nil {
		return ""
	}
	return truncateRunes(collapse(normalizeRadicals(strings.ToValidUTF8(t, ""))), maxTitleRunes)
}

var errPDFBudget = errors.New("decoded content over the limit")

type pdfExtractor struct {
	xref   *model.XRefTable
	budget int64
	fonts  map[int]*pdfFont // by object number
	forms  map[int][]byte   // decoded form XObjects, by object number

	glyphs []placed
	images bool
}

// page returns the text of page n and whether it draws images.
func (x *pdfExtractor) page(n int) (string, bool, error) {
	// Resources are looked up here rather than consolidated by pdfcpu,
	// which parses the content stream to do it and gives up on the page
	// at the first operator it dislikes.
	d, _, _, err := x.xref.PageDict(n, false)
	if err != nil {
		return "", false, err
	}
	if d == nil {
		return "", false, nil
	}
	res := x.inheritedResources(d)
	content, err := x.contents(d)
	if err != nil {
		return "", false, err
	}
	x.glyphs, x.images = x.glyphs[:0], false
	if err := x.run(content, res, identity, 0); err != nil {
		return "", false, err
	}
	return ligatures.Replace(layout(x.glyphs)), x.images, nil
}

// ligatures spells out the Latin typographic ligatures fonts map glyphs
// to (ﬁ in "ﬁle"), so that a search for "file" finds the page. Only these
// are rewritten: a full NFKC would also turn full-width letters and
// Japanese punctuation into something the author did not write.
var ligatures = strings.NewReplacer("ﬀ", "ff", "ﬁ", "fi", "ﬂ", "fl", "ﬃ", "ffi", "ﬄ", "ffl", "ﬅ", "st", "ﬆ", "st")

// inheritedResources returns the page's Resources, or the nearest
// ancestor's in the page tree (ISO 32000-1, 7.7.3.4).
func (x *pdfExtractor) inheritedResources(d types.Dict) types.Dict {
	for range 32 {
		if res := x.dict(d, "Resources"); res != nil {
			return res
		}
		if d = x.dict(d, "Parent"); d == nil {
			return nil
		}
	}
	return nil
}

func (x *pdfExtractor) contents(page types.Dict) ([]byte, error) {
	o, found := page.Find("Contents")
	if !found || o == nil {
		return nil, nil
	}
	o, err := x.xref.Dereference(o)
	if err != nil {
		return nil, err
	}
	var parts []types.Object
	switch v := o.(type) {
	case types.StreamDict:
		return x.decode(&v)
	case types.Array:
		parts = v
	default:
		return nil, nil
	}
	var out []byte
	for _, p := range parts {
		sd, _, err := x.xref.DereferenceStreamDict(p)
		if err != nil || sd == nil {
			continue
		}
		b, err := x.decode(sd)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
		out = append(out, '\n')
	}
	return out, nil
}

// decode inflates a stream within the per-stream and per-document limits.
func (x *pdfExtractor) decode(sd *types.StreamDict) ([]byte, error) {
	b, err := sd.DecodeLengthWithLimit(-1, min(maxPDFStreamBytes, x.budget))
	if err != nil {
		if x.budget < maxPDFStreamBytes {
			return nil, errPDFBudget
		}
		return nil, err
	}
	x.budget -= int64(len(b))
	if x.budget < 0 {
		return nil, errPDFBudget
	}
	return b, nil
}

type textState struct {
	font                 *pdfFont
	size, tc, tw, th, tl float64
	rise                 float64
}

// run interprets a content stream: the text operators (ISO 32000-1, 9.4),
// the graphics state stack and form XObjects. Everything else is skipped.
func (x *pdfExtractor) run(content []byte, res types.Dict, ctm matrix, depth int) error {
	l := &psLexer{b: content}
	type gstate struct {
		ctm matrix
		ts  textState
	}
	ts := textState{th: 1}
	var stack []gstate
	var tm, tlm matrix = identity, identity
	var ops []psToken
	var arrays [][]psToken // nested arrays being read
	var lastArr []psToken  // the last complete top-level array (TJ's operand)
	dictDepth := 0
	show := func(s string) error {
		if ts.font == nil {
			return nil
		}
		for _, g := range ts.font.decode(s) {
			trm := matrix{ts.size * ts.th, 0, 0, ts.size, 0, ts.rise}.mul(tm).mul(ctm)
			adv := (g.width*ts.size + ts.tc) * ts.th
			if g.space {
				adv += ts.tw * ts.th
			}
			if ts.font.vertical {
				adv = 0
			}
			tm = matrix{1, 0, 0, 1, adv, 0}.mul(tm)
			end := matrix{ts.size * ts.th, 0, 0, ts.size, 0, ts.rise}.mul(tm).mul(ctm)
			if len(x.glyphs) >= maxPDFGlyphs {
				continue
			}
			size := math.Hypot(trm[2], trm[3])
			x.glyphs = append(x.glyphs, placed{
				text: g.text, x: trm[4], y: trm[5], endX: end[4], size: size,
				dir: math.Atan2(trm[1], trm[0]),
			})
		}
		return nil
	}
	num := func(i int) float64 {
		if i < len(ops) && ops[i].kind == psNumber {
			return ops[i].num
		}
		return 0
	}
	for {
		t := l.next()
		if t.kind == psEOF {
			return nil
		}
		switch {
		case t.kind == psDelim && t.str == "[":
			arrays = append(arrays, nil)
			continue
		case t.kind == psDelim && t.str == "]":
			if len(arrays) > 0 {
				arr := arrays[len(arrays)-1]
				arrays = arrays[:len(arrays)-1]
				if len(arrays) == 0 {
					ops = append(ops, psToken{kind: psDelim, str: "array"})
					lastArr = arr
				}
			}
			continue
		case t.kind == psDelim && t.str == "<<":
			dictDepth++
			continue
		case t.kind == psDelim && t.str == ">>":
			dictDepth = max(0, dictDepth-1)
			continue
		case dictDepth > 0:
			continue
		case len(arrays) > 0:
			arrays[len(arrays)-1] = append(arrays[len(arrays)-1], t)
			continue
		case t.kind != psKeyword:
			ops = append(ops, t)
			if len(ops) > 64 {
				ops = ops[len(ops)-64:]
			}
			continue
		}
		switch t.str {
		case "q":
			if len(stack) < 256 {
				stack = append(stack, gstate{ctm, ts})
			}
		case "Q":
			if n := len(stack); n > 0 {
				ctm, ts = stack[n-1].ctm, stack[n-1].ts
				stack = stack[:n-1]
			}
		case "cm":
			if len(ops) >= 6 {
				ctm = matrix{num(0), num(1), num(2), num(3), num(4), num(5)}.mul(ctm)
			}
		case "BT":
			tm, tlm = identity, identity
		case "Tf":
			if len(ops) >= 2 && ops[0].kind == psName {
				ts.font = x.font(res, ops[0].str)
				ts.size = num(1)
			}
		case "Tc":
			ts.tc = num(0)
		case "Tw":
			ts.tw = num(0)
		case "Tz":
			ts.th = num(0) / 100
		case "TL":
			ts.tl = num(0)
		case "Ts":
			ts.rise = num(0)
		case "Td":
			tlm = matrix{1, 0, 0, 1, num(0), num(1)}.mul(tlm)
			tm = tlm
		case "TD":
			ts.tl = -num(1)
			tlm = matrix{1, 0, 0, 1, num(0), num(1)}.mul(tlm)
			tm = tlm
		case "Tm":
			if len(ops) >= 6 {
				tlm = matrix{num(0), num(1), num(2), num(3), num(4), num(5)}
				tm = tlm
			}
		case "T*":
			tlm = matrix{1, 0, 0, 1, 0, -ts.tl}.mul(tlm)
			tm = tlm
		case "Tj", "'", "\"":
			if t.str != "Tj" {
				tlm = matrix{1, 0, 0, 1, 0, -ts.tl}.mul(tlm)
				tm = tlm
			}
			if t.str == "\"" && len(ops) >= 3 {
				ts.tw, ts.tc = num(0), num(1)
			}
			if n := len(ops); n > 0 && ops[n-1].kind == psString {
				show(ops[n-1].str)
			}
		case "TJ":
			for _, e := range lastArr {
				switch e.kind {
				case psString:
					show(e.str)
				case psNumber:
					tm = matrix{1, 0, 0, 1, -e.num / 1000 * ts.size * ts.th, 0}.mul(tm)
				}
			}
			lastArr = nil
		case "Do":
			if len(ops) >= 1 && ops[0].kind == psName {
				if err := x.do(res, ops[0].str, ctm, depth); err != nil {
					return err
				}
			}
		case "BI":
			x.images = true
		case "ID":
			l.skipInlineImage()
		}
		ops = ops[:0]
	}
}

// do draws an XObject: a form is interpreted with its own resources and
// matrix; an image only marks the page as having images.
func (x *pdfExtractor) do(res types.Dict, name string, ctm matrix, depth int) error {
	xobjs := x.dict(res, "XObject")
	if xobjs == nil {
		return nil
	}
	o, ok := xobjs.Find(name)
	if !ok {
		return nil
	}
	ref, isRef := o.(types.IndirectRef)
	sd, _, err := x.xref.DereferenceStreamDict(o)
	if err != nil || sd == nil {
		return nil
	}
	switch st := sd.Dict.Subtype(); {
	case st != nil && *st == "Image":
		x.images = true
		return nil
	case st == nil || *st != "Form" || depth >= maxFormDepth:
		return nil
	}
	var content []byte
	if isRef {
		content, ok = x.forms[int(ref.ObjectNumber)]
	}
	if !ok {
		if content, err = x.decode(sd); err != nil {
			return err
		}
		if isRef {
			x.forms[int(ref.ObjectNumber)] = content
		}
	} else if x.budget -= int64(len(content)); x.budget < 0 {
		// Drawing a cached form again still costs interpretation time.
		return errPDFBudget
	}
	m := identity
	if arr := x.array(sd.Dict, "Matrix"); len(arr) == 6 {
		for i := range m {
			m[i] = x.number(arr[i])
		}
	}
	formRes := x.dict(sd.Dict, "Resources")
	if formRes == nil {
		formRes = res
	}
	return x.run(content, formRes, m.mul(ctm), depth+1)
}

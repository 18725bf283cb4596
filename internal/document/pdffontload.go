package document

import (
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Helpers that read pdfcpu objects leniently: a wrong type reads as
// absent, because a damaged font should cost its text, not the page.

func (x *pdfExtractor) dict(d types.Dict, key string) types.Dict {
	if d == nil {
		return nil
	}
	o, ok := d.Find(key)
	if !ok {
		return nil
	}
	dd, err := x.xref.DereferenceDict(o)
	if err != nil {
		return nil
	}
	return dd
}

func (x *pdfExtractor) array(d types.Dict, key string) types.Array {
	if d == nil {
		return nil
	}
	o, ok := d.Find(key)
	if !ok {
		return nil
	}
	a, err := x.xref.DereferenceArray(o)
	if err != nil {
		return nil
	}
	return a
}

func (x *pdfExtractor) number(o types.Object) float64 {
	f, err := x.xref.DereferenceNumber(o)
	if err != nil {
		return 0
	}
	return f
}

func (x *pdfExtractor) name(d types.Dict, key string) string {
	if d == nil {
		return ""
	}
	o, ok := d.Find(key)
	if !ok {
		return ""
	}
	o, err := x.xref.Dereference(o)
	if err != nil {
		return ""
	}
	if n, ok := o.(types.Name); ok {
		return string(n)
	}
	return ""
}

// stream decodes the stream at d[key], or returns nil.
func (x *pdfExtractor) stream(d types.Dict, key string) []byte {
	o, ok := d.Find(key)
	if !ok {
		return nil
	}
	sd, _, err := x.xref.DereferenceStreamDict(o)
	if err != nil || sd == nil {
		return nil
	}
	b, err := x.decode(sd)
	if err != nil {
		return nil
	}
	return b
}

// font returns the font named in the resources, loading it once.
func (x *pdfExtractor) font(res types.Dict, name string) *pdfFont {
	fonts := x.dict(res, "Font")
	if fonts == nil {
		return nil
	}
	o, ok := fonts.Find(name)
	if !ok {
		return nil
	}
	key := -1
	if ref, ok := o.(types.IndirectRef); ok {
		key = int(ref.ObjectNumber)
		if f, ok := x.fonts[key]; ok {
			return f
		}
	}
	fd, err := x.xref.DereferenceDict(o)
	if err != nil || fd == nil {
		return nil
	}
	f := x.loadFont(fd)
	if key >= 0 {
		x.fonts[key] = f
	}
	return f
}

func (x *pdfExtractor) loadFont(fd types.Dict) *pdfFont {
	f := &pdfFont{widths: map[int]float64{}, scale: 0.001}
	if b := x.stream(fd, "ToUnicode"); b != nil {
		f.toUnicode = parseCMap(b)
	}
	subtype := x.name(fd, "Subtype")
	if subtype == "Type0" {
		f.composite = true
		encName := x.name(fd, "Encoding")
		if encName == "" {
			// An embedded CMap stream: its name says what it encodes.
			if enc := x.dict(fd, "Encoding"); enc != nil {
				encName = x.name(enc, "CMapName")
			}
		}
		f.legacy = legacyFromCMapName(encName)
		f.vertical = len(encName) > 2 && encName[len(encName)-2:] == "-V"
		f.dw = 1000
		if desc := x.array(fd, "DescendantFonts"); len(desc) > 0 {
			if cid, err := x.xref.DereferenceDict(desc[0]); err == nil && cid != nil {
				if o, ok := cid.Find("DW"); ok {
					f.dw = x.number(o)
				}
				x.cidWidths(f, x.array(cid, "W"))
			}
		}
		return f
	}
	// Simple fonts: Type1, MMType1, TrueType, Type3.
	var base string
	var diffs []psToken
	if o, ok := fd.Find("Encoding"); ok {
		if obj, err := x.xref.Dereference(o); err == nil {
			switch v := obj.(type) {
			case types.Name:
				base = string(v)
			case types.Dict:
				base = x.name(v, "BaseEncoding")
				for _, e := range x.array(v, "Differences") {
					e, _ = x.xref.Dereference(e)
					switch d := e.(type) {
					case types.Integer:
						diffs = append(diffs, psToken{kind: psNumber, num: float64(d)})
					case types.Float:
						diffs = append(diffs, psToken{kind: psNumber, num: float64(d)})
					case types.Name:
						diffs = append(diffs, psToken{kind: psName, str: string(d)})
					}
				}
			}
		}
	}
	if base == "" && x.name(fd, "BaseFont") == "Symbol" {
		base = "Symbol"
	}
	f.simple = simpleEncoding(base, diffs)
	first := 0
	if o, ok := fd.Find("FirstChar"); ok {
		first = int(x.number(o))
	}
	for i, w := range x.array(fd, "Widths") {
		if i > 255 {
			break
		}
		f.widths[first+i] = x.number(w)
	}
	f.dw = 500 // an unknown width: half an em keeps spacing plausible
	if desc := x.dict(fd, "FontDescriptor"); desc != nil {
		if o, ok := desc.Find("MissingWidth"); ok {
			if w := x.number(o); w > 0 {
				f.dw = w
			}
		}
	}
	if subtype == "Type3" {
		if m := x.array(fd, "FontMatrix"); len(m) == 6 {
			if s := x.number(m[0]); s != 0 {
				f.scale = s
				f.dw = 0.5 / s
			}
		}
	}
	return f
}

// cidWidths reads a CIDFont's W array: "c [w1 w2 ...]" and
// "cfirst clast w" entries.
func (x *pdfExtractor) cidWidths(f *pdfFont, w types.Array) {
	const maxEntries = 1 << 18
	for i := 0; i < len(w) && len(f.widths) < maxEntries; {
		c := int(x.number(w[i]))
		if i+1 >= len(w) {
			return
		}
		next, _ := x.xref.Dereference(w[i+1])
		if arr, ok := next.(types.Array); ok {
			for j, v := range arr {
				f.widths[c+j] = x.number(v)
			}
			i += 2
			continue
		}
		if i+2 >= len(w) {
			return
		}
		last := int(x.number(w[i+1]))
		width := x.number(w[i+2])
		for cid := c; cid <= last && cid-c < maxEntries; cid++ {
			f.widths[cid] = width
		}
		i += 3
	}
}

package document

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
)

// pdfFont turns the bytes of a shown string into Unicode text and glyph
// widths. The Unicode comes, in order of trust, from the font's ToUnicode
// CMap, from a predefined CJK encoding (UniJIS-UCS2, 90ms-RKSJ, EUC) or
// from a simple font's encoding and glyph names.
type pdfFont struct {
	toUnicode *cmap
	composite bool           // Type0: multi-byte codes, CID widths
	legacy    legacyEncoding // predefined CMap of a composite font without ToUnicode
	simple    [256]string    // simple fonts: code -> text from the encoding
	widths    map[int]float64
	dw        float64 // default width (glyph units)
	scale     float64 // glyph units -> text space: 1/1000, or a Type3 FontMatrix
	vertical  bool
}

type legacyEncoding uint8

const (
	legacyNone legacyEncoding = iota
	legacyIdentity
	legacyUCS2
	legacySJIS
	legacyEUC
)

// pdfGlyph is one decoded character code.
type pdfGlyph struct {
	text  string
	width float64 // in text space units per unit font size
	space bool    // a single-byte code 32, which word spacing applies to
}

// decode splits s into character codes and returns their glyphs.
func (f *pdfFont) decode(s string) []pdfGlyph {
	var out []pdfGlyph
	b := []byte(s)
	for len(b) > 0 {
		n := f.codeLen(b)
		code := 0
		for _, c := range b[:n] {
			code = code<<8 | int(c)
		}
		g := pdfGlyph{space: n == 1 && code == 32}
		if f.toUnicode != nil {
			g.text = f.toUnicode.lookup(b[:n])
		}
		if g.text == "" {
			g.text = f.fallbackText(b[:n], code)
		}
		w, ok := f.widths[code]
		if !ok {
			w = f.dw
		}
		g.width = w * f.scale
		out = append(out, g)
		b = b[n:]
	}
	return out
}

func (f *pdfFont) codeLen(b []byte) int {
	if f.toUnicode != nil && len(f.toUnicode.space) > 0 && f.legacy != legacySJIS && f.legacy != legacyEUC {
		if n := f.toUnicode.codeLen(b); n > 0 {
			return n
		}
	}
	switch {
	case !f.composite:
		return 1
	case f.legacy == legacySJIS:
		if c := b[0]; (c >= 0x81 && c <= 0x9F || c >= 0xE0 && c <= 0xFC) && len(b) >= 2 {
			return 2
		}
		return 1
	case f.legacy == legacyEUC:
		if c := b[0]; c >= 0x8E && len(b) >= 2 {
			if c == 0x8F && len(b) >= 3 {
				return 3
			}
			return 2
		}
		return 1
	}
	return min(2, len(b))
}

var (
	sjisDecoder = japanese.ShiftJIS
	eucDecoder  = japanese.EUCJP
)

func (f *pdfFont) fallbackText(b []byte, code int) string {
	if !f.composite {
		return f.simple[code&0xFF]
	}
	switch f.legacy {
	case legacyUCS2:
		if len(b) == 2 {
			r := rune(code)
			if r >= 0x20 && !(r >= 0xD800 && r <= 0xDFFF) {
				return string(r)
			}
		}
	case legacySJIS:
		return decodeWith(sjisDecoder, b)
	case legacyEUC:
		return decodeWith(eucDecoder, b)
	}
	// Identity-H without ToUnicode: CIDs are font-internal glyph numbers;
	// there is no text to recover without the font's own tables.
	return ""
}

func decodeWith(enc encoding.Encoding, b []byte) string {
	s, err := enc.NewDecoder().Bytes(b)
	if err != nil || strings.ContainsRune(string(s), '\uFFFD') {
		return ""
	}
	return string(s)
}

// legacyFromCMapName recognises the predefined CMaps Japanese PDFs use.
func legacyFromCMapName(name string) legacyEncoding {
	switch {
	case strings.HasPrefix(name, "Identity"):
		return legacyIdentity
	case strings.Contains(name, "UCS2"), strings.Contains(name, "UTF16"):
		return legacyUCS2
	case strings.Contains(name, "RKSJ"):
		return legacySJIS
	case strings.Contains(name, "EUC"):
		return legacyEUC
	}
	return legacyNone
}

// simpleEncoding fills a simple font's code -> text table from a base
// encoding name and a Differences array (code, /name, /name, code, ...).
func simpleEncoding(base string, diffs []psToken) [256]string {
	var t [256]string
	var cm *charmap.Charmap
	switch base {
	case "MacRomanEncoding":
		cm = charmap.Macintosh
	case "StandardEncoding", "Symbol":
		cm = nil
	default: // WinAnsiEncoding, and the usual choice for fonts that name none
		cm = charmap.Windows1252
	}
	for c := 0; c < 256; c++ {
		switch {
		case c >= 0x20 && c < 0x7F:
			t[c] = string(rune(c))
		case c >= 0x80 && cm != nil:
			if r := cm.DecodeByte(byte(c)); r != '\uFFFD' && !unicode.IsControl(r) {
				t[c] = string(r)
			}
		}
	}
	if base == "StandardEncoding" {
		t['\''], t['`'] = "’", "‘"
	}
	code := 0
	for _, d := range diffs {
		switch d.kind {
		case psNumber:
			code = int(d.num)
		case psName:
			if code >= 0 && code < 256 {
				t[code] = glyphNameText(d.str)
			}
			code++
		}
	}
	return t
}

// glyphNameText maps a glyph name to text following the Adobe Glyph List
// conventions: uniXXXX sequences, uXXXX[XX], single characters and the
// common named glyphs. Unknown names (g12, cid34) give "".
func glyphNameText(name string) string {
	if i := strings.IndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	if strings.Contains(name, "_") { // ligature of components: f_i
		var b strings.Builder
		for _, part := range strings.Split(name, "_") {
			b.WriteString(glyphNameText(part))
		}
		return b.String()
	}
	if strings.HasPrefix(name, "uni") && len(name) >= 7 && (len(name)-3)%4 == 0 {
		var units []uint16
		for i := 3; i+4 <= len(name); i += 4 {
			v, err := strconv.ParseUint(name[i:i+4], 16, 16)
			if err != nil {
				return ""
			}
			units = append(units, uint16(v))
		}
		return string(utf16.Decode(units))
	}
	if strings.HasPrefix(name, "u") && len(name) >= 5 && len(name) <= 7 {
		if v, err := strconv.ParseUint(name[1:], 16, 32); err == nil && v <= 0x10FFFF {
			return string(rune(v))
		}
	}
	if len(name) == 1 && (name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z') {
		return name
	}
	return glyphNames[name]
}

var glyphNames = map[string]string{
	"space": " ", "exclam": "!", "quotedbl": "\"", "numbersign": "#", "dollar": "$", "percent": "%",
	"ampersand": "&", "quotesingle": "'", "parenleft": "(", "parenright": ")", "asterisk": "*",
	"plus": "+", "comma": ",", "hyphen": "-", "period": ".", "slash": "/", "zero": "0", "one": "1",
	"two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
	"nine": "9", "colon": ":", "semicolon": ";", "less": "<", "equal": "=", "greater": ">",
	"question": "?", "at": "@", "bracketleft": "[", "backslash": "\\", "bracketright": "]",
	"asciicircum": "^", "underscore": "_", "grave": "`", "braceleft": "{", "bar": "|",
	"braceright": "}", "asciitilde": "~", "quoteleft": "‘", "quoteright": "’", "quotedblleft": "“",
	"quotedblright": "”", "quotesinglbase": "‚", "quotedblbase": "„", "endash": "–", "emdash": "—",
	"bullet": "•", "ellipsis": "…", "fi": "fi", "fl": "fl", "ff": "ff", "ffi": "ffi", "ffl": "ffl",
	"copyright": "©", "registered": "®", "trademark": "™", "degree": "°", "section": "§",
	"paragraph": "¶", "dagger": "†", "daggerdbl": "‡", "Euro": "€", "nbspace": "\u00a0",
	"minus": "−", "multiply": "×", "divide": "÷", "periodcentered": "·", "guillemotleft": "«",
	"guillemotright": "»", "sterling": "£", "yen": "¥", "cent": "¢", "plusminus": "±",
	"eacute": "é", "egrave": "è", "agrave": "à", "udieresis": "ü", "odieresis": "ö", "adieresis": "ä",
	"germandbls": "ß", "ccedilla": "ç", "dotlessi": "ı",
}

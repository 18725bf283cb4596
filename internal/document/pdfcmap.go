package document

import (
	"unicode/utf16"
)

// cmap is the part of a ToUnicode CMap (Adobe technical note #5411) that
// text extraction needs: the codespace ranges, which say how many bytes
// each character code has, and the bfchar/bfrange mappings to UTF-16.
type cmap struct {
	space  []codespace
	single map[string]string
	ranges []bfRange
}

type codespace struct {
	lo, hi []byte
}

type bfRange struct {
	lo, hi []byte
	dst    []uint16 // first destination; the last unit increments
	list   []string // or one destination per code
}

// maxCMapEntries bounds a CMap against hostile files.
const maxCMapEntries = 1 << 20

func parseCMap(data []byte) *cmap {
	m := &cmap{single: map[string]string{}}
	l := &psLexer{b: data}
	var stack []psToken
	entries := 0
	for {
		t := l.next()
		if t.kind == psEOF {
			return m
		}
		if t.kind != psKeyword {
			if t.kind == psDelim && t.str == "[" {
				stack = append(stack, psToken{kind: psDelim, str: "["})
				continue
			}
			if t.kind == psDelim && t.str == "]" {
				// Fold the array into one token holding its strings.
				i := len(stack) - 1
				for i >= 0 && !(stack[i].kind == psDelim && stack[i].str == "[") {
					i--
				}
				if i < 0 {
					continue
				}
				var parts []string
				for _, s := range stack[i+1:] {
					if s.kind == psString {
						parts = append(parts, s.str)
					}
				}
				stack = append(stack[:i], psToken{kind: psDelim, str: "array", num: float64(len(parts))})
				stack = append(stack, stringsTokens(parts)...)
				continue
			}
			stack = append(stack, t)
			if len(stack) > 3*maxCMapEntries {
				return m
			}
			continue
		}
		switch t.str {
		case "endcodespacerange":
			for i := 0; i+1 < len(stack); i += 2 {
				if stack[i].kind == psString && stack[i+1].kind == psString && len(stack[i].str) == len(stack[i+1].str) && len(stack[i].str) > 0 && len(stack[i].str) <= 4 {
					m.space = append(m.space, codespace{lo: []byte(stack[i].str), hi: []byte(stack[i+1].str)})
				}
			}
		case "endbfchar":
			for i := 0; i+1 < len(stack) && entries < maxCMapEntries; i += 2 {
				if stack[i].kind == psString {
					switch stack[i+1].kind {
					case psString:
						m.single[stack[i].str] = utf16BE(stack[i+1].str)
					case psName:
						m.single[stack[i].str] = glyphNameText(stack[i+1].str)
					}
					entries++
				}
			}
		case "endbfrange":
			for i := 0; i+2 < len(stack) && entries < maxCMapEntries; {
				lo, hi, dst := stack[i], stack[i+1], stack[i+2]
				if lo.kind != psString || hi.kind != psString || len(lo.str) != len(hi.str) {
					i++
					continue
				}
				r := bfRange{lo: []byte(lo.str), hi: []byte(hi.str)}
				switch {
				case dst.kind == psString:
					r.dst = bytesToUnits(dst.str)
					i += 3
				case dst.kind == psDelim && dst.str == "array":
					n := int(dst.num)
					for j := 0; j < n && i+3+j < len(stack); j++ {
						r.list = append(r.list, utf16BE(stack[i+3+j].str))
					}
					i += 3 + n
				default:
					i += 3
					continue
				}
				m.ranges = append(m.ranges, r)
				entries++
			}
		}
		if t.str != "def" && t.str != "begin" && t.str != "dict" && t.str != "findresource" && t.str != "usecmap" {
			stack = stack[:0]
		}
		if t.str == "begincodespacerange" || t.str == "beginbfchar" || t.str == "beginbfrange" {
			stack = stack[:0]
		}
	}
}

func stringsTokens(parts []string) []psToken {
	out := make([]psToken, len(parts))
	for i, p := range parts {
		out[i] = psToken{kind: psString, str: p}
	}
	return out
}

func bytesToUnits(s string) []uint16 {
	b := []byte(s)
	units := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		units = append(units, uint16(b[i])<<8|uint16(b[i+1]))
	}
	if len(b)%2 == 1 { // a one-byte destination: Latin-1
		units = append(units, uint16(b[len(b)-1]))
	}
	return units
}

func utf16BE(s string) string {
	return cleanMapped(string(utf16.Decode(bytesToUnits(s))))
}

// cleanMapped drops mappings to control characters and NUL, which some
// producers use for glyphs without a meaning.
func cleanMapped(s string) string {
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0xFFFD || r == 0xFFFF {
			return ""
		}
	}
	return s
}

// codeLen is the length of the code at the start of b by the codespace
// ranges, or 0 if none matches.
func (m *cmap) codeLen(b []byte) int {
	for n := 1; n <= 4 && n <= len(b); n++ {
		for _, cs := range m.space {
			if len(cs.lo) != n {
				continue
			}
			in := true
			for i := 0; i < n; i++ {
				if b[i] < cs.lo[i] || b[i] > cs.hi[i] {
					in = false
					break
				}
			}
			if in {
				return n
			}
		}
	}
	return 0
}

func (m *cmap) lookup(code []byte) string {
	if s, ok := m.single[string(code)]; ok {
		return s
	}
	for _, r := range m.ranges {
		if len(r.lo) != len(code) || string(code) < string(r.lo) || string(code) > string(r.hi) {
			continue
		}
		off := 0
		for i := range code {
			off = off<<8 | int(code[i])
		}
		lo := 0
		for i := range r.lo {
			lo = lo<<8 | int(r.lo[i])
		}
		off -= lo
		if r.list != nil {
			if off < len(r.list) {
				return r.list[off]
			}
			return ""
		}
		if len(r.dst) == 0 {
			return ""
		}
		units := append([]uint16(nil), r.dst...)
		units[len(units)-1] += uint16(off)
		return cleanMapped(string(utf16.Decode(units)))
	}
	return ""
}

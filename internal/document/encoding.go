package document

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Names of the encodings [Decode] recognises.
const (
	EncUTF8      = "UTF-8"
	EncUTF16LE   = "UTF-16LE"
	EncUTF16BE   = "UTF-16BE"
	EncShiftJIS  = "Shift_JIS" // decoded as Windows-31J (CP932), its common superset
	EncEUCJP     = "EUC-JP"
	EncISO2022JP = "ISO-2022-JP"
)

// sniffLen is how much of a file the binary check looks at; like git and
// file(1), a text file is expected to show no NUL within its first block.
const sniffLen = 8 << 10

// maxControlShare is the share of control bytes in the sniffed block above
// which content is called binary. Real text, even scraped, has almost none.
const maxControlShare = 0.10

// Decode converts data to UTF-8 text with "\n" line endings, detecting the
// encoding. It returns the text and the name of the encoding it chose (one of
// the Enc* constants). A failure is a [*SkipError] without a Path wrapping
// [ErrBinary], [ErrEmpty] or [ErrUndecodable].
//
// Order of evidence: a byte order mark; binary signatures; ISO-2022-JP escape
// sequences in 7-bit data; valid UTF-8; then Shift_JIS and EUC-JP decoded
// strictly and ranked by how plausible the result is as Japanese text.
func Decode(data []byte) (text string, enc string, err error) {
	return decode(data, nil, "")
}

// decode is Decode with an optional declared charset (from HTML) that is
// tried, strictly, after UTF-8 and before guessing. Valid UTF-8 wins over a
// declaration because pages re-saved as UTF-8 often keep a stale
// <meta charset=Shift_JIS>, and legacy text is practically never valid UTF-8.
func decode(data []byte, declared encoding.Encoding, declaredName string) (string, string, error) {
	if len(data) == 0 {
		return "", "", skip(ErrEmpty, "file is empty")
	}
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		body := data[3:]
		if !utf8.Valid(body) {
			return "", "", skip(ErrUndecodable, fmt.Sprintf(
				"starts with a UTF-8 byte order mark but is not valid UTF-8 (first bad byte at offset %d); fix or re-save the file as UTF-8",
				3+firstBadUTF8(body)))
		}
		return finishText(string(body), EncUTF8)
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return decodeUTF16(data, false)
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return decodeUTF16(data, true)
	}
	if err := sniffBinary(data); err != nil {
		return "", "", err
	}
	if looksISO2022JP(data) {
		if s, bad := decodeStrict(japanese.ISO2022JP, data); bad < 0 {
			return finishText(s, EncISO2022JP)
		}
	}
	if utf8.Valid(data) {
		return finishText(string(data), EncUTF8)
	}
	if declared != nil {
		if s, bad := decodeStrict(declared, data); bad < 0 {
			return finishText(s, declaredName)
		}
	}

	sj, sjBad := decodeStrict(japanese.ShiftJIS, data)
	eu, euBad := decodeStrict(japanese.EUCJP, data)
	switch {
	case sjBad < 0 && euBad < 0:
		// Both decode cleanly: EUC-JP kana read as Shift_JIS become
		// half-width katakana, and Shift_JIS text rarely survives EUC-JP at
		// all, so the more plausible reading is almost always right.
		sjScore, euScore := scoreShiftJIS(data), scoreEUCJP(data)
		if euScore > sjScore {
			return acceptLegacy(eu, EncEUCJP, euScore)
		}
		return acceptLegacy(sj, EncShiftJIS, sjScore)
	case sjBad < 0:
		return acceptLegacy(sj, EncShiftJIS, scoreShiftJIS(data))
	case euBad < 0:
		return acceptLegacy(eu, EncEUCJP, scoreEUCJP(data))
	}

	// Report the reading that got furthest: a Shift_JIS file with one
	// corrupt byte deep inside is better described by that byte's offset
	// than by where UTF-8 gave up.
	off, name := firstBadUTF8(data), EncUTF8
	if sjBad > off {
		off, name = sjBad, EncShiftJIS
	}
	if euBad > off {
		off, name = euBad, EncEUCJP
	}
	return "", "", skip(ErrUndecodable, fmt.Sprintf(
		"not valid text in UTF-8, Shift_JIS, EUC-JP or ISO-2022-JP (first bad byte at offset %d, reading as %s); convert it to UTF-8, e.g. with iconv or nkf",
		off, name))
}

func skip(sentinel error, reason string) *SkipError {
	return &SkipError{Reason: reason, Err: sentinel}
}

// acceptLegacy guards against text that decodes without errors but is not
// Japanese (Latin-1 prose can form valid Shift_JIS pairs): loading it would
// store mojibake that no query ever matches.
func acceptLegacy(s, name string, score float64) (string, string, error) {
	if score < 0 {
		return "", "", skip(ErrUndecodable,
			"not valid UTF-8, and reading it as Shift_JIS or EUC-JP gives implausible text; convert it to UTF-8, e.g. with iconv or nkf")
	}
	return finishText(s, name)
}

// finishText applies what every format needs: no BOM, "\n" line endings.
func finishText(s, enc string) (string, string, error) {
	s = strings.TrimPrefix(s, "\uFEFF")
	return normalizeNewlines(s), enc, nil
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

func decodeUTF16(data []byte, bigEndian bool) (string, string, error) {
	name, endian := EncUTF16LE, unicode.LittleEndian
	if bigEndian {
		name, endian = EncUTF16BE, unicode.BigEndian
	}
	// x/text turns broken surrogates into U+FFFD, which could also be a
	// genuine character, so validate the code units ourselves first.
	if bad := badUTF16(data[2:], bigEndian); bad >= 0 {
		return "", "", skip(ErrUndecodable, fmt.Sprintf(
			"starts with a %s byte order mark but is not valid %s (first bad byte at offset %d); re-save the file as UTF-8",
			name, name, 2+bad))
	}
	out, err := unicode.UTF16(endian, unicode.ExpectBOM).NewDecoder().Bytes(data)
	if err != nil {
		return "", "", skip(ErrUndecodable, fmt.Sprintf("cannot decode %s: %v; re-save the file as UTF-8", name, err))
	}
	// A NUL code unit in UTF-16 is as un-textlike as a NUL byte elsewhere.
	if i := bytes.IndexByte(out, 0); i >= 0 {
		return "", "", skip(ErrBinary, fmt.Sprintf("binary content (NUL character in %s text)", name))
	}
	return finishText(string(out), name)
}

func badUTF16(b []byte, bigEndian bool) int {
	unit := func(i int) uint16 {
		if bigEndian {
			return uint16(b[i])<<8 | uint16(b[i+1])
		}
		return uint16(b[i+1])<<8 | uint16(b[i])
	}
	i := 0
	for ; i+1 < len(b); i += 2 {
		u := unit(i)
		switch {
		case u >= 0xD800 && u < 0xDC00:
			if i+3 < len(b) {
				if v := unit(i + 2); v >= 0xDC00 && v < 0xE000 {
					i += 2
					continue
				}
			}
			return i
		case u >= 0xDC00 && u < 0xE000:
			return i
		}
	}
	if i < len(b) {
		return i // odd trailing byte
	}
	return -1
}

var signatures = []struct {
	magic string
	what  string
}{
	{"\x89PNG\r\n\x1a\n", "a PNG image"},
	{"\xFF\xD8\xFF", "a JPEG image"},
	{"GIF87a", "a GIF image"},
	{"GIF89a", "a GIF image"},
	{"%PDF-", "a PDF document; kura does not read PDF, extract its text first"},
	{"PK\x03\x04", "a ZIP archive or Office document; export it as text or HTML first"},
	{"\x1f\x8b", "gzip-compressed data; decompress it first"},
}

func sniffBinary(data []byte) error {
	for _, s := range signatures {
		if bytes.HasPrefix(data, []byte(s.magic)) {
			return skip(ErrBinary, "binary content ("+s.what+")")
		}
	}
	head := data[:min(len(data), sniffLen)]
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return skip(ErrBinary, fmt.Sprintf("binary content (NUL byte at offset %d)", i))
	}
	ctl := 0
	for _, c := range head {
		if isControlByte(c) {
			ctl++
		}
	}
	if share := float64(ctl) / float64(len(head)); share > maxControlShare {
		return skip(ErrBinary, fmt.Sprintf("binary content (%.0f%% control characters in the first %d bytes)", share*100, len(head)))
	}
	return nil
}

// isControlByte excludes whitespace controls and ESC, which ISO-2022-JP
// uses for every switch between ASCII and kanji.
func isControlByte(c byte) bool {
	switch c {
	case '\t', '\n', '\v', '\f', '\r', 0x1b:
		return false
	}
	return c < 0x20 || c == 0x7f
}

func looksISO2022JP(data []byte) bool {
	for _, c := range data {
		if c >= 0x80 {
			return false
		}
	}
	for _, esc := range []string{"\x1b$B", "\x1b$@", "\x1b(J", "\x1b(I", "\x1b$(D"} {
		if bytes.Contains(data, []byte(esc)) {
			return true
		}
	}
	return false
}

// decodeStrict decodes data and returns the text, or the offset of the first
// byte the encoding cannot explain. The x/text decoders substitute U+FFFD
// for invalid input instead of failing; legacy encodings cannot encode
// U+FFFD, so its presence in the output always means invalid input.
func decodeStrict(enc encoding.Encoding, data []byte) (string, int) {
	out, err := enc.NewDecoder().Bytes(data)
	if err == nil && !bytes.ContainsRune(out, utf8.RuneError) {
		return string(out), -1
	}
	return "", firstBad(enc, data)
}

// firstBad re-decodes with an output buffer too small for more than one
// non-ASCII rune, so when U+FFFD appears it is alone and the input position
// is that of the offending sequence. It is only used on the error path.
func firstBad(enc encoding.Encoding, data []byte) int {
	dec := enc.NewDecoder()
	var buf [utf8.UTFMax]byte
	pos := 0
	for pos < len(data) {
		nDst, nSrc, err := dec.Transform(buf[:3], data[pos:], true)
		if nDst == 0 && nSrc == 0 && err == transform.ErrShortDst {
			nDst, nSrc, _ = dec.Transform(buf[:], data[pos:], true)
		}
		if nDst == 0 && nSrc == 0 {
			return pos
		}
		if bytes.ContainsRune(buf[:nDst], utf8.RuneError) {
			return pos
		}
		pos += nSrc
	}
	return len(data) // invalid only as a whole (should not happen)
}

func firstBadUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// Plausibility scores: the mean, over non-ASCII characters, of a weight by
// JIS X 0208 row. Kana and punctuation are what real Japanese text is made
// of; level-1 kanji are the common ones; half-width katakana, unassigned
// rows and user-defined areas are what a wrong reading produces.
const (
	wKana    = 3
	wCommon  = 2 // punctuation, symbols, level-1 kanji
	wRare    = 0 // level-2 kanji, Greek, Cyrillic, box drawing, NEC specials
	wOdd     = -1
	wInvalid = -3
)

func scoreShiftJIS(b []byte) float64 {
	sum, n := 0, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x80 {
			continue
		}
		n++
		switch {
		case c >= 0xA1 && c <= 0xDF:
			sum += wOdd // half-width katakana
			continue
		case c == 0x80 || c == 0xA0 || c >= 0xFD:
			sum += wInvalid
			continue
		}
		i++ // two-byte character; decodeStrict already checked the trail byte
		switch {
		case c == 0x82 || c == 0x83:
			sum += wKana
		case c == 0x81 || (c >= 0x88 && c <= 0x98):
			sum += wCommon
		case c == 0x84 || c == 0x87 || (c >= 0x99 && c <= 0x9F) || (c >= 0xE0 && c <= 0xEA):
			sum += wRare
		case c == 0xED || c == 0xEE || c >= 0xFA:
			sum += wOdd // IBM extensions
		default:
			sum += wInvalid // unassigned rows, user-defined area
		}
	}
	return mean(sum, n)
}

func scoreEUCJP(b []byte) float64 {
	sum, n := 0, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x80 {
			continue
		}
		n++
		switch {
		case c == 0x8E:
			sum += wOdd // half-width katakana
			i++
			continue
		case c == 0x8F:
			sum += wOdd // JIS X 0212 supplementary kanji
			i += 2
			continue
		case c < 0xA1 || c == 0xFF:
			sum += wInvalid
			continue
		}
		i++
		switch row := int(c) - 0xA0; {
		case row == 4 || row == 5:
			sum += wKana
		case row <= 3 || (row >= 16 && row <= 47):
			sum += wCommon
		case row <= 8 || row == 13 || (row >= 48 && row <= 84):
			sum += wRare
		default:
			sum += wInvalid
		}
	}
	return mean(sum, n)
}

func mean(sum, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(sum) / float64(n)
}

package document

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"sync"
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
// [DecodeDetail] also says when that ranking was a close call.
func Decode(data []byte) (text string, enc string, err error) {
	d, err := decode(data, nil, "")
	return d.text, d.enc, err
}

// Detection is the outcome of [DecodeDetail].
type Detection struct {
	Encoding string // one of the Enc* constants
	// Unsure is set when another encoding also reads the data and the
	// choice rests on thin evidence (little Japanese text, or readings
	// of similar plausibility); it names that other encoding.
	Unsure string
}

// DecodeDetail is [Decode] that also reports how sure the detection is.
func DecodeDetail(data []byte) (string, Detection, error) {
	d, err := decode(data, nil, "")
	return d.text, Detection{Encoding: d.enc, Unsure: d.unsure}, err
}

// unsureWarning is the message of the [Warning] a loader returns for an
// uncertain detection.
func unsureWarning(d decoded) string {
	return fmt.Sprintf("the text encoding was guessed as %s, but it also reads as %s and there is too little Japanese text to be sure; if the text looks wrong, convert the file to UTF-8 (e.g. with iconv or nkf)", d.enc, d.unsure)
}

type decoded struct {
	text, enc string
	unsure    string // the close runner-up, if the choice was uncertain
}

// decode is Decode with an optional declared charset (from HTML) that is
// tried, strictly, after UTF-8 and before guessing. Valid UTF-8 wins over a
// declaration because pages re-saved as UTF-8 often keep a stale
// <meta charset=Shift_JIS>, and legacy text is practically never valid UTF-8.
func decode(data []byte, declared encoding.Encoding, declaredName string) (decoded, error) {
	text, enc, err := decodeSure(data, declared, declaredName)
	switch {
	case err != nil:
		return decoded{}, err
	case enc != "":
		return decoded{text: text, enc: enc}, nil
	}
	return decodeLegacy(data)
}

// decodeSure handles everything but the Shift_JIS / EUC-JP guess; it
// returns an empty encoding and a nil error when that guess is needed.
func decodeSure(data []byte, declared encoding.Encoding, declaredName string) (string, string, error) {
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
	return "", "", nil
}

// minPlausible is the plausibility below which a reading is refused as
// not Japanese (real text scores above 1, half-width katakana alone 1):
// Latin-1 prose can form valid Shift_JIS, and loading it would store
// mojibake that no query ever matches.
const minPlausible = 0

// An uncertain choice: both readings are clean and their plausibility
// differs by less than unsureMargin + unsureEvidence/bytes, where bytes
// counts the non-ASCII bytes; a few bytes need a wide margin to be
// convincing, a page of text only a small one.
const (
	unsureMargin   = 0.3
	unsureEvidence = 3.0
)

// decodeLegacy chooses between Shift_JIS and EUC-JP.
func decodeLegacy(data []byte) (decoded, error) {
	sj, sjBad := decodeStrict(japanese.ShiftJIS, data)
	eu, euBad := decodeStrict(japanese.EUCJP, data)
	n := nonASCII(data)
	accept := func(s, enc string, score float64) (decoded, error) {
		if score < minPlausible {
			return decoded{}, skip(ErrUndecodable,
				"not valid UTF-8, and reading it as Shift_JIS or EUC-JP gives implausible text; convert it to UTF-8, e.g. with iconv or nkf")
		}
		text, enc, _ := finishText(s, enc)
		return decoded{text: text, enc: enc}, nil
	}
	switch {
	case sjBad < 0 && euBad < 0:
		sjScore, euScore := plausibility(sj, n, EncShiftJIS), plausibility(eu, n, EncEUCJP)
		d, err := accept(sj, EncShiftJIS, sjScore)
		other, otherScore := EncEUCJP, euScore
		if euScore > sjScore {
			d, err = accept(eu, EncEUCJP, euScore)
			other, otherScore = EncShiftJIS, sjScore
		}
		if err == nil && otherScore >= minPlausible && math.Abs(sjScore-euScore) < unsureMargin+unsureEvidence/float64(n) {
			d.unsure = other
		}
		return d, err
	case sjBad < 0:
		return accept(sj, EncShiftJIS, plausibility(sj, n, EncShiftJIS))
	case euBad < 0:
		return accept(eu, EncEUCJP, plausibility(eu, n, EncEUCJP))
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
	return decoded{}, skip(ErrUndecodable, fmt.Sprintf(
		"not valid text in UTF-8, Shift_JIS, EUC-JP or ISO-2022-JP (first bad byte at offset %d, reading as %s); convert it to UTF-8, e.g. with iconv or nkf",
		off, name))
}

func skip(sentinel error, reason string) *SkipError {
	return &SkipError{Reason: reason, Err: sentinel}
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
	ext   string // the extension of a loader that reads it, if kura has one
	fix   string // what to do otherwise
}{
	{"\x89PNG\r\n\x1a\n", "a PNG image", "", "kura reads text, not images"},
	{"\xFF\xD8\xFF", "a JPEG image", "", "kura reads text, not images"},
	{"GIF87a", "a GIF image", "", "kura reads text, not images"},
	{"GIF89a", "a GIF image", "", "kura reads text, not images"},
	{"%PDF-", "a PDF document", ".pdf", "extract its text first"},
	{"PK\x03\x04", "a ZIP archive or Office document", "", "export it as text or HTML first"},
	{"\x1f\x8b", "gzip-compressed data", "", "decompress it first"},
}

func sniffBinary(data []byte) error {
	for _, s := range signatures {
		if bytes.HasPrefix(data, []byte(s.magic)) {
			fix := s.fix
			if s.ext != "" && Supported(s.ext) {
				fix = "give it the " + s.ext + " extension to have it read as such"
			}
			return skip(ErrBinary, "binary content ("+s.what+"); "+fix)
		}
	}
	head := data[:min(len(data), sniffLen)]
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return skip(ErrBinary, fmt.Sprintf("binary content (NUL byte at offset %d); a text file has none: if it is UTF-16 without a byte order mark, save it as UTF-8", i))
	}
	ctl := 0
	for _, c := range head {
		if isControlByte(c) {
			ctl++
		}
	}
	if share := float64(ctl) / float64(len(head)); share > maxControlShare {
		return skip(ErrBinary, fmt.Sprintf("binary content (%.0f%% control characters in the first %d bytes); not a text file", share*100, len(head)))
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

// plausibility scores a decoded reading as Japanese text: the sum of a
// weight per non-ASCII character, divided by the number of non-ASCII bytes
// it came from (the same for every reading of the data, so readings that
// cut the bytes into characters differently compare fairly). Kana,
// Japanese punctuation and frequent kanji are what real text is made of;
// rare kanji, private-use characters and stray half-width katakana are
// what a wrong reading produces. Real Japanese scores about 1.2 to 1.5,
// text in half-width katakana 1, a wrong reading usually below 0.8.
func plausibility(text string, nonASCIIBytes int, enc string) float64 {
	if nonASCIIBytes == 0 {
		return 0
	}
	sum := 0.0
	prev := rune(' ')
	runes := []rune(text)
	for i, r := range runes {
		if r < 0x80 {
			prev = r
			continue
		}
		next := ' '
		if i+1 < len(runes) {
			next = runes[i+1]
		}
		sum += runeWeight(r, enc, prev, next)
		prev = r
	}
	return sum / float64(nonASCIIBytes)
}

func runeWeight(r rune, enc string, prev, next rune) float64 {
	switch {
	case r >= 0x3041 && r <= 0x30FF, r >= 0x3000 && r <= 0x303F:
		return 3 // kana, Japanese punctuation
	case isFrequentKanji(r):
		return 2.5
	case r >= 0x4E00 && r <= 0x9FFF:
		return 0.5 // other kanji: a wrong reading yields them at random
	case r >= 0xFF01 && r <= 0xFF5E:
		return 2 // full-width letters and digits
	case r >= 0xFF61 && r <= 0xFF9F:
		// Half-width katakana. In EUC-JP each takes two bytes (0x8E and
		// the code), a sequence nothing else produces, so it is as good
		// as kana there. In Shift_JIS it is one byte, which is also what
		// the lead bytes of EUC-JP kana and kanji read as; a letter on
		// its own between ASCII letters ("Straße" in Latin-1) is noise.
		if enc == EncEUCJP {
			return 3
		}
		if r <= 0xFF65 {
			return 0 // ｡｢｣､･: the lead bytes of EUC-JP punctuation and kana
		}
		if isASCIIAlnum(prev) || isASCIIAlnum(next) {
			if !isHalfwidthKatakana(prev) && !isHalfwidthKatakana(next) {
				return -1
			}
		}
		return 1
	case r >= 0xE000 && r <= 0xF8FF:
		return -3 // private use: user-defined rows
	case r >= 0x00A0 && r <= 0x017F && enc == EncEUCJP:
		return 0.5 // ©, accented letters: JIS X 0212, three bytes in EUC-JP
	case r >= 0x0370 && r <= 0x04FF, r >= 0x2500 && r <= 0x257F:
		return 0 // Greek, Cyrillic, box drawing
	case r >= 0x2000 && r <= 0x33FF, r >= 0xFFE0 && r <= 0xFFEF:
		return 1 // symbols, circled numbers, ㈱, ￥
	}
	return -1
}

func isHalfwidthKatakana(r rune) bool { return r >= 0xFF66 && r <= 0xFF9F }

func isASCIIAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

var frequentKanjiSet = sync.OnceValue(func() map[rune]bool {
	m := make(map[rune]bool, utf8.RuneCountInString(frequentKanji))
	for _, r := range frequentKanji {
		m[r] = true
	}
	return m
})

func isFrequentKanji(r rune) bool { return frequentKanjiSet()[r] }

func nonASCII(b []byte) int {
	n := 0
	for _, c := range b {
		if c >= 0x80 {
			n++
		}
	}
	return n
}

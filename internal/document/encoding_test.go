package document

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/width"
)

// seedDir holds real scraped Japanese documents shared by the project; tests
// that use it skip when it is not there (e.g. in a bare checkout).
const seedDir = "../../../shared/corpus/seeds"

var samples = []string{
	"こんにちは",
	"東京",
	"吾輩は猫である。名前はまだ無い。\nどこで生れたかとんと見当がつかぬ。",
	"GitOps で Kubernetes のマニフェストを管理する。CI/CD パイプライン（GitHub Actions）を使います。",
	"第1章　はじめに\n\n本書では「検索拡張生成」（RAG）について説明します。①②③、ｶﾀｶﾅ混じり、全角ＡＢＣ１２３。\n",
	"ソフトウェア開発の表示機能と能力、予定表。", // trail byte 0x5C in Shift_JIS
	"漢字ばかりの文書でも正しく判定されるべきです。鬱蒼とした森。",
}

// representable keeps the runes of s that survive a round trip through enc;
// real text holds emoji, © and the like that legacy encodings lack, and a few
// characters (e.g. U+2212) are mapped to look-alikes by the WHATWG tables.
func representable(t *testing.T, enc encoding.Encoding, s string) string {
	t.Helper()
	var b strings.Builder
	for _, r := range s {
		e, err := enc.NewEncoder().String(string(r))
		if err != nil {
			continue
		}
		d, err := enc.NewDecoder().String(e)
		if err != nil || d != string(r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func seedTexts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i, s := range samples {
		out["sample"+string(rune('0'+i))] = s
	}
	entries, err := os.ReadDir(seedDir)
	if err != nil {
		t.Logf("no seed corpus at %s; using built-in samples only", seedDir)
		return out
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(seedDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func TestDecodeRoundTrip(t *testing.T) {
	encs := []struct {
		name string
		enc  encoding.Encoding
	}{
		{EncShiftJIS, japanese.ShiftJIS},
		{EncEUCJP, japanese.EUCJP},
		{EncISO2022JP, japanese.ISO2022JP},
	}
	for name, text := range seedTexts(t) {
		for _, e := range encs {
			t.Run(name+"/"+e.name, func(t *testing.T) {
				want := normalizeNewlines(representable(t, e.enc, text))
				data, err := e.enc.NewEncoder().Bytes([]byte(want))
				if err != nil {
					t.Fatal(err)
				}
				got, enc, err := Decode(data)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if got != want {
					t.Fatalf("decoded text differs from the original (detected %s)\n got: %.200q\nwant: %.200q", enc, got, want)
				}
				// Pure ASCII is the same in every encoding; only insist
				// on the name when there is something to tell apart.
				if !isASCII(want) && enc != e.name {
					t.Errorf("detected %s, want %s", enc, e.name)
				}
			})
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestDecodeUnicode(t *testing.T) {
	const text = "kura は蔵です。\n絵文字も 😀 通ります。\n"
	utf16 := func(e unicode.Endianness) []byte {
		b, err := unicode.UTF16(e, unicode.UseBOM).NewEncoder().Bytes([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	f := func(name string, data []byte, wantEnc string) {
		t.Helper()
		got, enc, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != text || enc != wantEnc {
			t.Fatalf("%s: got %q (%s), want %q (%s)", name, got, enc, text, wantEnc)
		}
	}
	f("utf-8", []byte(text), EncUTF8)
	f("utf-8 bom", append([]byte("\xEF\xBB\xBF"), text...), EncUTF8)
	f("utf-16le bom", utf16(unicode.LittleEndian), EncUTF16LE)
	f("utf-16be bom", utf16(unicode.BigEndian), EncUTF16BE)
	f("crlf", []byte(strings.ReplaceAll(text, "\n", "\r\n")), EncUTF8)
	f("cr", []byte(strings.ReplaceAll(text, "\n", "\r")), EncUTF8)
}

// EUC-JP kana are byte pairs in 0xA1-0xDF, which Shift_JIS reads as
// valid half-width katakana: both decoders succeed and only the plausibility
// score can choose.
func TestDecodeAmbiguousPrefersPlausible(t *testing.T) {
	for _, s := range []string{"こんにちは", "これはテストです", "ひらがなだけ"} {
		data, _ := japanese.EUCJP.NewEncoder().Bytes([]byte(s))
		if _, bad := decodeStrict(japanese.ShiftJIS, data); bad >= 0 {
			t.Logf("%q: not ambiguous after all (Shift_JIS fails at %d)", s, bad)
		}
		got, enc, err := Decode(data)
		if err != nil || got != s || enc != EncEUCJP {
			t.Errorf("Decode(EUC-JP %q) = %q, %s, %v", s, got, enc, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	sjis, _ := japanese.ShiftJIS.NewEncoder().Bytes([]byte("日本語の文章です。ここまでは正しい。"))
	corrupt := append(append([]byte{}, sjis...), 0x82, 0x20, 0xFF, 0xFE, 0xFD)

	f := func(name string, data []byte, sentinel error, wantInMsg string) {
		t.Helper()
		_, _, err := Decode(data)
		if !errors.Is(err, sentinel) {
			t.Fatalf("%s: err = %v, want %v", name, err, sentinel)
		}
		var se *SkipError
		if !errors.As(err, &se) {
			t.Fatalf("%s: %T is not *SkipError", name, err)
		}
		if !strings.Contains(err.Error(), wantInMsg) {
			t.Fatalf("%s: message %q does not contain %q", name, err, wantInMsg)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s: message spans lines: %q", name, err)
		}
	}
	f("empty", nil, ErrEmpty, "file is empty")
	f("png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ErrBinary, "PNG image")
	f("nul", append(bytes.Repeat([]byte("text "), 10), 0, 'x'), ErrBinary, "NUL byte at offset 50")
	f("controls", bytes.Repeat([]byte{1, 2, 3, 'a'}, 100), ErrBinary, "control characters")
	f("pdf", []byte("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"), ErrBinary, "PDF")
	f("invalid", []byte("abc\xFF\xFE\xFDdef"), ErrUndecodable, "first bad byte at offset 3")
	f("corrupt sjis", corrupt, ErrUndecodable, "offset "+strconv.Itoa(len(sjis))+", reading as Shift_JIS")
	f("bad utf-8 after bom", []byte("\xEF\xBB\xBFok\xC3"), ErrUndecodable, "offset 5")
	f("odd utf-16", []byte("\xFF\xFEa\x00b"), ErrUndecodable, "offset 4")
	f("lone surrogate", []byte("\xFF\xFEa\x00\x00\xD8b\x00"), ErrUndecodable, "offset 4")
	f("utf-16 nul", []byte("\xFF\xFEa\x00\x00\x00"), ErrBinary, "NUL")
}

func TestDecodeISO2022JPStrayEscape(t *testing.T) {
	// ESC sequences that are not valid ISO-2022-JP leave plain UTF-8 text.
	in := "color: \x1b[31mred\x1b[0m and \x1b$B"
	got, enc, err := Decode([]byte(in))
	if err != nil || enc != EncUTF8 || got != in {
		t.Fatalf("got %q, %s, %v", got, enc, err)
	}
}

func TestDecodeOutputAlwaysClean(t *testing.T) {
	for _, in := range []string{"a\r\nb\rc", "\xEF\xBB\xBF\r\n", "\x82\xa0\r\n"} {
		got, _, err := Decode([]byte(in))
		if err != nil {
			continue
		}
		if !utf8.ValidString(got) || strings.ContainsRune(got, '\r') || strings.HasPrefix(got, "\uFEFF") {
			t.Errorf("Decode(%q) = %q", in, got)
		}
	}
}

// TestDecodeHalfwidthKatakana: half-width katakana is legal in both
// legacy encodings. In EUC-JP it is 0x8E plus the code, which Shift_JIS
// reads as kanji (ｺﾒﾝﾄ became 室者爵柴); in Shift_JIS it is one byte each,
// which used to be scored as noise and the file refused.
func TestDecodeHalfwidthKatakana(t *testing.T) {
	f := func(text string, e encoding.Encoding, wantEnc string) {
		t.Helper()
		data, err := e.NewEncoder().Bytes([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		got, enc, err := Decode(data)
		if err != nil || got != text || enc != wantEnc {
			t.Errorf("Decode(%s %q) = %q, %s, %v", wantEnc, text, got, enc, err)
		}
	}
	for _, s := range []string{
		"ｺﾒﾝﾄ: ﾃｽﾄ",
		"ｺﾒﾝﾄ: ﾃｽﾄ\n",
		"ｶﾀｶﾅ",
		"ﾃﾞｰﾀﾍﾞｰｽ ｼｽﾃﾑ ﾌｧｲﾙ",
		"ﾔﾏﾀﾞ ﾀﾛｳ様 ｺﾞ入金ありがとうございます。",
		"品名: ﾎﾞｰﾙﾍﾟﾝ 数量: 3",
	} {
		f(s, japanese.EUCJP, EncEUCJP)
		f(s, japanese.ShiftJIS, EncShiftJIS)
	}
}

// TestDecodeHalfwidthCorpus converts real text to half-width katakana
// (where a half-width form exists) and checks every line of it, in both
// encodings: decoded right, or flagged as unsure.
func TestDecodeHalfwidthCorpus(t *testing.T) {
	lines, wrong, unsure := 0, 0, 0
	for name, text := range seedTexts(t) {
		for line := range strings.Lines(text) {
			line = strings.TrimSpace(line)
			if isASCII(line) || utf8.RuneCountInString(line) < 4 {
				continue
			}
			for _, variant := range []string{line, width.Narrow.String(line)} {
				for _, e := range []struct {
					name string
					enc  encoding.Encoding
				}{{EncShiftJIS, japanese.ShiftJIS}, {EncEUCJP, japanese.EUCJP}} {
					want := representable(t, e.enc, variant)
					data, _ := e.enc.NewEncoder().Bytes([]byte(want))
					if isASCII(want) {
						continue
					}
					lines++
					got, det, err := DecodeDetail(data)
					switch {
					case err == nil && got == want && det.Encoding == e.name:
						if det.Unsure != "" {
							unsure++
						}
					case err == nil && det.Unsure != "":
						unsure++ // wrong, but said so
					default:
						wrong++
						if wrong <= 40 {
							t.Errorf("%s: %s line %.60q: got %.60q (%s), err %v", name, e.name, want, got, det.Encoding, err)
						}
					}
				}
			}
		}
	}
	t.Logf("%d lines: %d wrong without a warning, %d flagged unsure", lines, wrong, unsure)
	if unsure*10 > lines {
		t.Errorf("%d of %d lines flagged unsure; detection is too timid", unsure, lines)
	}
}

func TestDecodeDetailSaysWhenUnsure(t *testing.T) {
	f := func(text string, e encoding.Encoding, wantUnsure bool) {
		t.Helper()
		data, _ := e.NewEncoder().Bytes([]byte(text))
		_, det, err := DecodeDetail(data)
		if err != nil || (det.Unsure != "") != wantUnsure {
			t.Errorf("DecodeDetail(%q) = %+v, %v; want unsure %v", text, det, err, wantUnsure)
		}
	}
	// Two half-width letters in Shift_JIS also read as one EUC-JP kanji.
	f("ｶﾀ", japanese.ShiftJIS, true)
	// A real sentence is not in doubt.
	f("これは日本語の文章です。文字コードの判定は確実にできるはずです。", japanese.EUCJP, false)
	f("ｺﾒﾝﾄ: ﾃｽﾄ", japanese.ShiftJIS, false) // EUC-JP cannot read it at all
}

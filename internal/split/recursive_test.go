package split

import "testing"

func TestRecursive(t *testing.T) {
	f := func(seps []string, size, overlap int, in string, want ...string) {
		t.Helper()
		splitWith(t, Options{Kind: "recursive", Separators: seps, ChunkSize: size, ChunkOverlap: overlap}, in, want...)
	}
	// Cases shared with LangChain's golden edge cases.
	f(nil, 10, 2, "あああああああああああああああああああああああああ",
		"ああああああああああ", "ああああああああああ", "あああああああああ")
	f([]string{"。", ""}, 8, 0, "一文目。二文目。三文目。四文目。", "一文目。二文目", "。三文目。四文目", "。")
	f(nil, 15, 4, "段落一の文。\n\n段落二の文です。とても長い段落になります。\n\n段落三。",
		"段落一の文。", "段落二の文です。とても長い段", "も長い段落になります。", "段落三。")

	// A piece still too long when no separator is left is passed through
	// as is, not even stripped: LangChain's behaviour, kept for conformance.
	f([]string{"。"}, 3, 0, "あいうえお。か", "あいうえお", "。か")
	f(nil, 1, 0, "a b", "a", " ", "b")
	// A separator absent from the text falls through to the next one.
	f([]string{"\n\n", "、", ""}, 6, 0, "ひとつめ、ふたつめ、みっつめ", "ひとつめ", "、ふたつめ", "、みっつめ")
}

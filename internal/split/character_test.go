package split

import "testing"

func TestCharacter(t *testing.T) {
	f := func(sep string, size, overlap int, in string, want ...string) {
		t.Helper()
		splitWith(t, Options{Kind: "character", Separator: sep, ChunkSize: size, ChunkOverlap: overlap}, in, want...)
	}
	// Cases shared with LangChain's golden edge cases.
	f("\n", 10, 2, "")
	f("\n", 10, 2, "  \n \n  ")
	f("\n", 12, 6, "あいうえお\nかきくけこ\nさしすせそ\nたちつてと\nなにぬねの",
		"あいうえお\nかきくけこ", "かきくけこ\nさしすせそ", "さしすせそ\nたちつてと", "たちつてと\nなにぬねの")
	f("\n", 10, 3, "短い行\n長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長\n次の行",
		"短い行", "長長長長長長長長長長長長長長長長長長長長長長長長長長長長長長", "次の行")
	f("\n", 3, 0, "a\nb\nc\nd\ne\nf", "a\nb", "c\nd", "e\nf")
	f("\n", 5, 1, "😀😀😀\nが゙\nabc\ndef", "😀😀😀", "が゙", "abc", "def")
	f("\n", 12, 0, "line1\r\nline2\r\nline3", "line1", "line2\r\nline3")

	// The separator counts only once there is something to separate: two
	// 2-character lines fill size 5 exactly, and the overlap keeps "cd".
	f("\n", 5, 2, "ab\ncd\nef", "ab\ncd", "cd\nef")
	// An empty separator splits between code points.
	f("", 2, 0, "abcde", "ab", "cd", "e")
	// Empty pieces are dropped, so a chunk need not be a substring.
	f("\n", 10, 0, "a\n\n\nb", "a\nb")
	// Python's strip also removes U+3000 and U+001F.
	f("|", 20, 0, "\u3000全角\u3000|\x1fx\x1f", "全角\u3000|\x1fx")
}

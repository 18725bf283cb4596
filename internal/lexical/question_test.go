package lexical

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStripQuestion(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := StripQuestion(in); got != want {
			t.Errorf("StripQuestion(%q) = %q, want %q", in, got, want)
		}
	}
	// The examples: the topic and "とは" stay, the question form goes.
	f("GitOpsとは何ですか", "gitopsとは")
	f("OCHaCafeとは何ですか？", "ochacafeとは")
	f("Shift_JISのファイルも読み込めますか？", "shift_jisのファイルも読み込め")
	// Interrogatives anywhere, counters after 何 stay.
	f("FlaggerのWebhookは何種類ありますか", "flaggerのwebhookは 種類あり")
	f("梅雨とは何季の一種か?", "梅雨とは 季の一種")
	f("日本で梅雨がないのは北海道とどこか。", "日本で梅雨がないのは北海道と")
	f("GitOpsを最初に提唱したのはどこの会社ですか？", "gitopsを最初に提唱したのは の会社")
	f("環境ごとの差分はどうやって表現すればいい？", "環境ごとの差分は 表現すればいい")
	f("分析結果が失敗と判断されたらどうなりますか", "分析結果が失敗と判断されたら なり")
	f("CI/CD最新事情の発表者は誰？", "ci/cd最新事情の発表者は")
	// Requests and "about".
	f("GitOpsの原則について教えて", "gitopsの原則")
	f("Progressive Deliveryを実現する代表的なツールを教えてください", "progressive deliveryを実現する代表的なツールを")
	// Words that merely contain a question word stay.
	f("幾何学の本", "幾何学の本")
	f("おいつく", "おいつく")
	// English questions lose their stop words; a Japanese query keeps "IT".
	f("What is GitOps?", "gitops")
	f("How does Progressive Delivery decide to roll back?", "progressive delivery decide roll back")
	f("IT部門とは", "it部門とは")
	// Nothing but question words: the normalised text is kept.
	f("何ですか？", "何ですか?")
	f("What is it?", "what is it?")
	f("", "")
	f("Argo CD", "argo cd")
}

// FuzzStripQuestion checks that stripping only removes: every character of
// the result, spaces aside, appears in the normalised input in order.
func FuzzStripQuestion(f *testing.F) {
	for _, s := range []string{"GitOpsとは何ですか", "What is it?", "どこのどれですか？？", "何何何", "ｶﾀｶﾅはいつ\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := StripQuestion(s)
		if !utf8.ValidString(got) && utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 %q from %q", got, s)
		}
		norm := []rune(Normalize(s))
		i := 0
		for _, r := range strings.ReplaceAll(got, " ", "") {
			for i < len(norm) && norm[i] != r {
				i++
			}
			if i == len(norm) {
				t.Fatalf("StripQuestion(%q) = %q adds characters", s, got)
			}
			i++
		}
	})
}

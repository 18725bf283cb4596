package lexical

import (
	"slices"
	"testing"
	"unicode"
)

func TestAnalyzers(t *testing.T) {
	const r = runPrefix
	f := func(name, text string, want ...string) {
		t.Helper()
		a, err := New(name)
		if err != nil {
			t.Fatal(err)
		}
		got := a.Analyze(nil, text)
		if !slices.Equal(got, want) {
			t.Errorf("%s(%q) = %q, want %q", name, text, got, want)
		}
	}
	// Width folding, lower case and words.
	f(AnalyzerBigram, "ＧｉｔＯｐｓ and Argo-CD", "gitops", "and", "argo", "cd")
	f(AnalyzerEnglish, "ＧｉｔＯｐｓ and Argo-CD", "gitops", "and", "argo", "cd")
	// Bigrams, a lone CJK character as itself, long-vowel folding inside a run.
	// plus kanji and katakana runs as words (prefixed) and kanji unigrams
	// (a lone kanji is already its own term, so it gets only its run).
	f(AnalyzerBigram, "東京 へ", "東京", "東", "京", r+"東京", "へ")
	f(AnalyzerBigram, "梅雨の期間", "梅雨", "雨の", "の期", "期間", "梅", "雨", r+"梅雨", "期", "間", r+"期間")
	f(AnalyzerBigram, "首都は", "首都", "都は", "首", "都", r+"首都")
	f(AnalyzerBigram, "梅 雨", "梅", r+"梅", "雨", r+"雨")
	f(AnalyzerBigram, "サーバーが", "サー", "ーバ", "バが", r+"サーバ")
	f(AnalyzerBigram, "ｻｰﾊﾞｰが", "サー", "ーバ", "バが", r+"サーバ")
	f(AnalyzerBigram, "サーバ－が", "サー", "ーバ", "バが", r+"サーバ")
	// Morphological: particles, auxiliaries and symbols dropped, verbs to
	// their dictionary form, compounds split in search mode, long vowels folded.
	f(AnalyzerJa, "マニフェストを同期していました。", "マニフェスト", "同期", "する")
	f(AnalyzerJa, "関西国際空港に行った", "関西", "国際", "空港", "行く")
	f(AnalyzerJa, "コンピューターとコンピュータ", "コンピュータ", "コンピュータ")
	f(AnalyzerJa, "ＫＵＢＥＲＮＥＴＥＳのPod", "kubernetes", "pod")
	f(AnalyzerJa, "")
	if _, err := New("mecab"); err == nil {
		t.Error("New(mecab) succeeded")
	}
}

func TestFoldLongVowel(t *testing.T) {
	for in, want := range map[string]string{
		"サーバー": "サーバ", "カー": "カー", "ルーター": "ルータ", "データ": "データ", "東京ー": "東京ー",
	} {
		if got := foldLongVowel(in); got != want {
			t.Errorf("foldLongVowel(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add("GitOpsとはArgo CDでマニフェストを同期すること。")
	f.Add("ｻｰﾊﾞｰ－\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		for _, name := range Analyzers {
			a, _ := New(name)
			for _, term := range a.Analyze(nil, s) {
				if term == "" {
					t.Fatalf("%s: empty term from %q", name, s)
				}
			}
		}
	})
}

// TestScriptFastPaths checks the block shortcuts against the Unicode tables.
func TestScriptFastPaths(t *testing.T) {
	for r := rune(0); r < 0x110000; r++ {
		if isHan(r) != unicode.Is(unicode.Han, r) || isHiragana(r) != unicode.Is(unicode.Hiragana, r) || isKatakana(r) != unicode.Is(unicode.Katakana, r) {
			t.Fatalf("U+%04X: han %v/%v hiragana %v/%v katakana %v/%v", r,
				isHan(r), unicode.Is(unicode.Han, r), isHiragana(r), unicode.Is(unicode.Hiragana, r), isKatakana(r), unicode.Is(unicode.Katakana, r))
		}
	}
}

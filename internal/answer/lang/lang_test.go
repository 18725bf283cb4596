package lang

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
)

func TestDetect(t *testing.T) {
	f := func(s string, want Language) {
		t.Helper()
		if got := Detect(s); got != want {
			t.Fatalf("Detect(%q) = %s, want %s", s, got, want)
		}
	}
	f("GitOpsとは何ですか", Japanese)
	f("梅雨前線", Japanese)
	f("What is GitOps?", English)
	f("What does 蔵 mean?", English)
	f("ＧｉｔＯｐｓ", English)
	f("", English)
	f("123", English)
	f("カナ", Japanese)
}

func TestSentences(t *testing.T) {
	f := func(text string, want ...string) {
		t.Helper()
		var got []string
		for _, sp := range Sentences(text) {
			got = append(got, text[sp.Start:sp.End])
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Sentences(%q) = %q, want %q", text, got, want)
		}
	}
	f("一文目。二文目！三文目？", "一文目。", "二文目！", "三文目？")
	f("「引用です。」と言った。次。", "「引用です。」", "と言った。", "次。")
	f("見出し\n本文です。続き", "見出し", "本文です。", "続き")
	f("It is v1.2 now. Next one! a!=b ok? End", "It is v1.2 now.", "Next one!", "a!=b ok?", "End")
	f("2. 主なツール\n10. 次", "2. 主なツール", "10. 次")
	f("  \n\n  ")
	f("本当？！すごい", "本当？！", "すごい")
	f("Done.)", "Done.)")
}

func TestKeyTerms(t *testing.T) {
	f := func(s string, want ...string) {
		t.Helper()
		if got := KeyTerms(s); !reflect.DeepEqual(got, want) {
			t.Fatalf("KeyTerms(%q) = %q, want %q", s, got, want)
		}
	}
	f("GitOpsとは何ですか？", "GitOps")
	f("Argo CDの同期ポリシーは何年から？", "Argo", "CD", "同期", "ポリシー")
	f("What is the sync policy of Argo CD?", "sync", "policy", "Argo", "CD")
	f("それはいつから？")
	f("何時から梅雨？", "梅雨")
	f("ＫｕｂｅｒｎｅｔｅｓとKubernetes", "Ｋｕｂｅｒｎｅｔｅｓ", "Kubernetes")
}

func TestHasDemonstrative(t *testing.T) {
	for s, want := range map[string]bool{
		"それはいつから？": true, "その理由は？": true, "What does it cost?": true, "When did they start?": true,
		"GitOpsとは？": false, "What is Argo CD?": false, "それぞれの違いは？": true,
	} {
		if got := HasDemonstrative(s); got != want {
			t.Fatalf("HasDemonstrative(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzSentences(f *testing.F) {
	for _, s := range []string{"一文目。二文目", "a. b! c? d", "「x。」y", "2. list\n3. item", "\r\n", ".!?。"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		end := 0
		var kept strings.Builder
		for _, sp := range Sentences(text) {
			if sp.Start < end || sp.End <= sp.Start || sp.End > len(text) {
				t.Fatalf("span %+v after %d in %q", sp, end, text)
			}
			s := text[sp.Start:sp.End]
			if strings.TrimSpace(s) != s && strings.TrimFunc(s, unicode.IsSpace) != s {
				t.Fatalf("sentence %q has surrounding space", s)
			}
			end = sp.End
			kept.WriteString(s)
		}
		strip := func(s string) string { return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), "") }
		if strip(kept.String()) != strip(text) {
			t.Fatalf("sentences of %q lose text: %q", text, kept.String())
		}
		KeyTerms(text)
		Detect(text)
	})
}

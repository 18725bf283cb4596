package extractive

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/llm"
)

func docs(texts ...string) []llm.Document {
	out := make([]llm.Document, len(texts))
	for i, t := range texts {
		out[i] = llm.Document{ID: string(rune('1' + i)), Text: t}
	}
	return out
}

func ask(t *testing.T, c *Client, q string, d []llm.Document) (string, []string) {
	t.Helper()
	var pieces []string
	res, err := c.Stream(context.Background(), llm.Request{
		Messages:  []llm.Message{{Role: llm.RoleUser, Content: q}},
		Documents: d,
	}, func(ev llm.Event) error {
		pieces = append(pieces, ev.Delta)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pieces, ""); got != res.Text {
		t.Fatalf("pieces %q do not add up to the result %q", got, res.Text)
	}
	return res.Text, pieces
}

func TestAnswersWithTheBestSentence(t *testing.T) {
	c := New(Options{})
	d := docs(
		"梅雨は東アジアの雨季である。梅雨の時期は5月から7月にかけてである。北海道には梅雨がないとされる。",
		"GitOpsはWeaveworks社が2017年に提唱した運用手法です。Gitを信頼できる唯一の情報源として扱います。",
	)
	text, pieces := ask(t, c, "GitOpsを提唱したのはどこの会社ですか？", d)
	if !strings.Contains(text, "Weaveworks社") || !strings.Contains(text, "[2]") {
		t.Fatalf("answer %q does not cite the GitOps sentence from source 2", text)
	}
	if strings.Contains(text, "[1]") {
		t.Fatalf("answer %q cites the unrelated source 1", text)
	}
	if len(pieces) == 0 || !strings.HasSuffix(pieces[len(pieces)-1], "]") {
		t.Fatalf("pieces %q: the last one must end with a marker", pieces)
	}
	text, _ = ask(t, c, "梅雨の時期はいつからいつまで？", d)
	if !strings.Contains(text, "5月から7月") || !strings.HasSuffix(text, "[1]") {
		t.Fatalf("answer %q", text)
	}
}

func TestStreamsSentenceBySentence(t *testing.T) {
	c := New(Options{})
	// An uncertain question: nothing holds most of its terms, so several
	// sentences come, one piece each.
	d := docs("Kura stores chunks. Kura searches them with BM25.\nKura answers questions offline.", "Milvus is a vector database. It stores vectors.")
	text, pieces := ask(t, c, "How does kura search, store and answer, and what is Milvus?", d)
	if len(pieces) < 2 {
		t.Fatalf("want several pieces, got %q", pieces)
	}
	for _, p := range pieces {
		if strings.Count(strings.TrimSpace(p), ". ") > 0 {
			t.Fatalf("piece %q holds more than one sentence", p)
		}
	}
	if !regexp.MustCompile(`\[1\]`).MatchString(text) {
		t.Fatalf("answer %q never cites source 1", text)
	}
}

func TestNothingMatches(t *testing.T) {
	c := New(Options{})
	text, _ := ask(t, c, "量子コンピュータの原理は？", docs("GitOpsはGitを使う。"))
	if text != NoAnswer("ja") {
		t.Fatalf("answer %q, want the no-answer message", text)
	}
	text, _ = ask(t, c, "What is X?", nil)
	if text != NoAnswer("en") {
		t.Fatalf("answer %q, want the English no-answer message", text)
	}
}

func TestLengthIsCapped(t *testing.T) {
	c := New(Options{MaxChars: 120})
	long := strings.Repeat("GitOpsの運用では、", 40) + "Argo CDが同期する。"
	text, _ := ask(t, c, "GitOpsの運用でArgo CDは何をする？", docs(long, long+"別の文。", "Argo CDはGitOpsツールです。"))
	if n := utf8.RuneCountInString(text); n > 120 {
		t.Fatalf("answer of %d characters exceeds 120: %q", n, text)
	}
	if !strings.HasSuffix(text, "]") {
		t.Fatalf("a clipped answer must still cite: %q", text)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(Options{}).Stream(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "q"}}, Documents: docs("q")}, func(llm.Event) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestInfo(t *testing.T) {
	info := New(Options{}).Info()
	if info.Provider != "extractive" || !info.Extractive || info.NativeCitations {
		t.Fatalf("info %+v", info)
	}
	max := 10
	if err := llm.Check(info, llm.Options{MaxTokens: &max}); !errors.Is(err, llm.ErrUnsupportedOption) {
		t.Fatalf("Check(max_tokens) = %v, want ErrUnsupportedOption", err)
	}
}

var markerRE = regexp.MustCompile(`\[(\d+)\]`)

func FuzzAnswer(f *testing.F) {
	f.Add("GitOpsとは何ですか", "GitOpsはGitを使う運用手法です。Argo CDが代表的なツールです。", "別の文書。GitOps。")
	f.Add("what is it", "It is a thing. It is another thing!\nA line", "")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, q, a, b string) {
		c := New(Options{})
		d := docs(a, b)
		text, _ := ask(t, c, q, d)
		if n := utf8.RuneCountInString(text); n > DefaultMaxChars {
			t.Fatalf("answer of %d characters: %q", n, text)
		}
		if !utf8.ValidString(a + b + q) {
			return
		}
		for _, m := range markerRE.FindAllStringSubmatch(text, -1) {
			if m[1] != "1" && m[1] != "2" && !strings.Contains(a+b, m[0]) {
				t.Fatalf("answer %q cites %s, which is not a given source", text, m[0])
			}
		}
	})
}

func TestNamesTheTopic(t *testing.T) {
	c := New(Options{})
	d := []llm.Document{
		{ID: "1", Title: "RKBラジオ", Text: "福岡市に本社を置く。かつて文化放送などとともにスジャータの時報CMが放送されていた局の1つ。"},
		{ID: "2", Title: "Upgrade to Pro — share decks privately, control downloads", Text: "時報CMは正午に流れる。"},
	}
	text, _ := ask(t, c, "スジャータの時報CMが放送されていた局は？", d)
	if !strings.HasPrefix(text, "RKBラジオ：") || !strings.Contains(text, "かつて文化放送") {
		t.Fatalf("answer %q does not name its document first", text)
	}
	// Not when the question names it, nor for a long (scraped) title.
	if text, _ = ask(t, c, "RKBラジオで放送されていた時報CMは？", d); strings.HasPrefix(text, "RKBラジオ：") {
		t.Fatalf("answer %q repeats the question's topic", text)
	}
	if text, _ = ask(t, c, "時報CMはいつ流れる？", d[1:]); strings.Contains(text, "Upgrade") {
		t.Fatalf("answer %q names a scraped first line", text)
	}
}

// A marker cites the statement before it, so every sentence taken from a
// source carries its marker, not only the last one of a run.
func TestEverySentenceCarriesItsMarker(t *testing.T) {
	c := New(Options{})
	d := docs("The capital of France is Paris. Paris lies on the Seine, the capital's river. Bananas are yellow.")
	text, _ := ask(t, c, "What is the capital of France and its river?", d)
	sentences := regexp.MustCompile(`[^.]+\.(\[\d\])?`).FindAllStringSubmatch(text, -1)
	if len(sentences) < 2 {
		t.Fatalf("answer %q: want at least two sentences", text)
	}
	for _, s := range sentences {
		if s[1] == "" {
			t.Fatalf("answer %q: sentence %q has no marker", text, s[0])
		}
	}
}

// A heading or a line broken mid-sentence carries no marker of its own:
// the marker after the sentence's end covers it.
func TestEndsSentence(t *testing.T) {
	for text, want := range map[string]bool{
		"GitOpsは手法です。": true, "It is.": true, "「そうです。」": true, "Really?": true,
		"# ファイル形式": false, "に加えて、": false, "kura reads .txt and": false,
	} {
		if got := endsSentence(text); got != want {
			t.Errorf("endsSentence(%q) = %v", text, got)
		}
	}
}

// A list item taken after a sentence starts a line of its own.
func TestListItemStartsALine(t *testing.T) {
	for _, tc := range []struct{ text string }{{"- GitOps uses Git"}, {"・GitOpsはGitを使う"}, {"2. GitOps uses Git"}} {
		if !startsListItem(tc.text) {
			t.Errorf("%q is a list item", tc.text)
		}
	}
	for _, text := range []string{"-5 degrees", "2024. GitOps", "GitOps - Git"} {
		if startsListItem(text) {
			t.Errorf("%q is no list item", text)
		}
	}
	prev := &sentence{doc: 0, order: 0, text: "うれしいです！！"}
	if got := separator(prev, &sentence{doc: 1, order: 3, text: "- GitOps とは？"}); got != "\n" {
		t.Fatalf("separator before a list item: %q", got)
	}
}

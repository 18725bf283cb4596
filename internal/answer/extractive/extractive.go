// Package extractive is kura's offline answerer: an llm.Client that needs
// no model, key or network. It answers with the sentences of the sources
// that best answer the question, each run of sentences from one source
// followed by that source's [n], streamed sentence by sentence like a
// model's answer so that every front end treats it the same way; front
// ends label its answers as extracted (llm.Info.Extractive), not
// generated.
//
// It reads the sources from Request.Documents and the question from the
// last user message (the answer stage sends it the bare question, not a
// prompt). A sentence scores by the question's terms it contains —
// character bigrams, kanji and katakana words, kanji and Latin words, as
// kura's default BM25 analyzer cuts them — each weighted by its rarity
// among the sources' sentences and by its script (hiragana carries
// grammar, not topic), with a discount for sources retrieval ranked
// lower.
//
// How much is shown depends on how sure the answerer can be. When the
// best sentence holds most of the question's terms, the question very
// likely paraphrases it: the answer is that sentence, with the next (or
// previous) one of its source when both fit in about 110 characters, as a
// question often restates one sentence while the answer sits in the next
// ("…という。"). Otherwise the best sentence comes with its neighbours and
// the next best sentences, up to MaxChars (300), so the evidence is there
// to read. No answer is longer than MaxChars, markers included: a single
// sentence too long is cut to the clauses that hold the question's terms.
//
// Japanese leaves out the subject a text is about, so a sentence taken
// out of an article often does not say what it is about ("…放送されていた
// 局の1つ。" in the article on RKBラジオ). When the best sentence's
// document has a short title that neither the sentences nor the question
// mention, the answer names it first ("RKBラジオ：…").
package extractive

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/answer/lang"
	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/llm"
)

// Name is the provider name.
const Name = "extractive"

// DefaultMaxChars is the longest answer, in characters, markers included.
const DefaultMaxChars = 300

// Options tune the answerer; zero values mean the defaults.
type Options struct {
	// MaxChars caps the answer's length in characters, markers included
	// (DefaultMaxChars if 0).
	MaxChars int
}

// params are the scoring constants, tuned on the first half of the
// JSQuAD dev questions and checked on the second (docs/benchmarks.md).
type params struct {
	rankDecay float64 // score multiplier per retrieval rank of the source
	hiraW     float64 // weight of an all-hiragana term
	mixedW    float64 // weight of a term mixing hiragana with other scripts
	// confident is the share of the question's weighted terms the best
	// sentence must hold for the short answer.
	confident float64
	// shortChars is the length of a confident answer, markers included
	// (its first sentence may be longer).
	shortChars int
}

var defaultParams = params{rankDecay: 0.85, hiraW: 0.2, mixedW: 0.6, confident: 0.7, shortChars: 110}

// Client is the extractive answerer. It is safe for concurrent use.
type Client struct {
	maxChars int
	p        params
	an       lexical.Analyzer
}

// New returns an extractive answerer.
func New(o Options) *Client {
	if o.MaxChars <= 0 {
		o.MaxChars = DefaultMaxChars
	}
	an, err := lexical.New(lexical.AnalyzerBigram)
	if err != nil {
		panic(err) // the bigram analyzer always exists
	}
	return &Client{maxChars: o.MaxChars, p: defaultParams, an: an}
}

// Info describes the answerer: no generation options, markers in the text.
func (c *Client) Info() llm.Info {
	return llm.Info{Provider: Name, Model: "sentences", Options: []string{}, Extractive: true}
}

// sentence is one candidate sentence.
type sentence struct {
	doc   int    // index into the documents
	id    string // the document's ID, cited as [id]
	title string // the document's title
	text  string
	gap   string // the source's text between this sentence and the next
	order int    // position among all sentences, for document order
	terms map[string]bool
	score float64
}

// Stream answers req from its documents. Each piece is one sentence (with
// its marker when it ends a run of sentences from one source).
func (c *Client) Stream(ctx context.Context, req llm.Request, emit func(llm.Event) error) (llm.Result, error) {
	res := llm.Result{Model: "sentences", FinishReason: "stop"} // complete, as providers report it
	if err := ctx.Err(); err != nil {
		return res, err
	}
	question := ""
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == llm.RoleUser {
			question = req.Messages[i].Content
			break
		}
	}
	pieces := c.Answer(question, req.Documents)
	if len(pieces) == 0 {
		pieces = []string{NoAnswer(lang.Detect(question))}
	}
	for _, p := range pieces {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := emit(llm.Event{Delta: p}); err != nil {
			return res, err
		}
		res.Text += p
	}
	return res, nil
}

// NoAnswer is the answer when no sentence of the sources shares a term
// with the question.
func NoAnswer(l lang.Language) string {
	if l == lang.Japanese {
		return "資料の中に、この質問に答える文は見つかりませんでした。"
	}
	return "No sentence in the sources answers this question."
}

// Answer returns the answer to question from docs as the pieces Stream
// emits: one sentence each, the last sentence taken from a source
// followed by its marker. It is empty when no sentence shares a term with
// the question.
//
// When the best sentence holds most of the question's terms it is
// probably the one the question asks about, and the answer is short: that
// sentence, and the next (or previous) one of its source when both fit in
// shortChars — a question often paraphrases one sentence while the answer
// sits in the next ("…という。"). Otherwise more of the evidence is shown:
// the best sentence, its neighbours and the next best sentences, up to
// maxChars.
func (c *Client) Answer(question string, docs []llm.Document) []string {
	qterms := c.terms(question)
	ranked, all := c.rank(qterms, docs)
	if len(ranked) == 0 || ranked[0].score <= 0 {
		return nil
	}
	best := ranked[0]
	budget := c.maxChars
	if c.coverage(qterms, best) > c.p.confident {
		budget = min(c.p.shortChars, c.maxChars)
	}
	order := []*sentence{best, neighbour(all, best, 1), neighbour(all, best, -1)}
	for _, s := range ranked[1:] {
		if s.score <= 0 {
			break // shares nothing with the question
		}
		order = append(order, s)
	}
	var chosen []*sentence
	for _, s := range order {
		if s == nil || slices.Contains(chosen, s) {
			continue
		}
		next := append(slices.Clone(chosen), s)
		if len(chosen) > 0 && length(c.compose(next, question, qterms, false)) > budget {
			continue
		}
		chosen = next
	}
	return c.compose(chosen, question, qterms, true)
}

// neighbour returns the sentence delta places from s in its own source,
// or nil.
func neighbour(all []*sentence, s *sentence, delta int) *sentence {
	i := s.order + delta
	if i < 0 || i >= len(all) || all[i].doc != s.doc {
		return nil
	}
	return all[i]
}

// coverage is the share of the question's weighted terms that s holds.
func (c *Client) coverage(qterms map[string]bool, s *sentence) float64 {
	in, total := 0.0, 0.0
	// In a fixed order: floating-point sums depend on it, and a
	// threshold or a tie must fall the same way on every run.
	for _, t := range sortedTerms(qterms) {
		w := c.p.scriptWeight(t)
		total += w
		if s.terms[t] {
			in += w
		}
	}
	if total == 0 {
		return 0
	}
	return in / total
}

// rank scores the sentences of docs for the question's terms and returns
// them best first, and in document order.
func (c *Client) rank(qterms map[string]bool, docs []llm.Document) (ranked, all []*sentence) {
	if len(qterms) == 0 || len(docs) == 0 {
		return nil, nil
	}
	var sents []*sentence
	for d, doc := range docs {
		spans := lang.Sentences(doc.Text)
		for k, sp := range spans {
			text := doc.Text[sp.Start:sp.End]
			gap := doc.Text[sp.End:]
			if k+1 < len(spans) {
				gap = doc.Text[sp.End:spans[k+1].Start]
			}
			sents = append(sents, &sentence{doc: d, id: doc.ID, title: doc.Title, text: text, gap: gap, order: len(sents), terms: c.termSet(text)})
		}
	}
	if len(sents) == 0 {
		return nil, nil
	}
	// A term's weight is its rarity among the candidate sentences times
	// what its script says about it: hiragana carries grammar, not topic.
	df := map[string]int{}
	for _, s := range sents {
		for t := range s.terms {
			if qterms[t] {
				df[t]++
			}
		}
	}
	n := float64(len(sents))
	weight := func(t string) float64 {
		return c.p.scriptWeight(t) * math.Log(1+(n-float64(df[t])+0.5)/(float64(df[t])+0.5))
	}
	qlist := sortedTerms(qterms) // a fixed order for the sums, as in coverage
	for _, s := range sents {
		for _, t := range qlist {
			if s.terms[t] {
				s.score += weight(t)
			}
		}
		s.score *= math.Pow(c.p.rankDecay, float64(s.doc))
	}
	ranked = slices.Clone(sents)
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].score > ranked[j].score })
	return ranked, sents
}

// compose writes the chosen sentences (best first) as answer pieces:
// grouped by source, the best sentence's source first, each source's
// sentences in their order there, each whole sentence followed by its
// source's marker (a marker cites the statement before it, so one marker
// after a run of sentences would cite only the last of them); a heading
// or a line that a hard-wrapped text breaks mid-sentence gets none, and
// the marker after the sentence's end covers it. With
// limit, the whole stays within maxChars: the first sentence is clipped
// to fit if need be, and what does not fit after it is left out.
func (c *Client) compose(chosen []*sentence, question string, qterms map[string]bool, limit bool) []string {
	var groups [][]*sentence
	for _, s := range chosen {
		k := slices.IndexFunc(groups, func(g []*sentence) bool { return g[0].doc == s.doc })
		if k < 0 {
			groups = append(groups, []*sentence{s})
			continue
		}
		groups[k] = append(groups[k], s)
	}
	var pieces []string
	var prev *sentence
	used := 0
	for k, g := range groups {
		slices.SortFunc(g, func(a, b *sentence) int { return a.order - b.order })
		marker := "[" + g[0].id + "]"
		topic := ""
		if k == 0 {
			topic = topicOf(g, question) // the best sentence's document
		}
		for i, s := range g {
			sep, text, m := separator(prev, s), s.text, ""
			if i == 0 && topic != "" {
				text = topic + text
			}
			if i == len(g)-1 || endsSentence(s.text) {
				m = marker
			}
			if room := c.maxChars - used - runeLen(sep) - runeLen(marker); limit && runeLen(text) > room {
				if len(pieces) > 0 {
					return closeLast(pieces, "["+prev.id+"]")
				}
				text, m = c.clip(text, room, qterms), marker
			}
			used += runeLen(sep) + runeLen(text) + runeLen(m)
			pieces = append(pieces, sep+text+m)
			prev = s
		}
	}
	return pieces
}

// maxTopicChars is the longest title named as a topic: a name, not the
// first line of a scraped page.
const maxTopicChars = 20

// topicOf names the document the best sentence comes from, before it,
// when the sentences taken from that document do not: Japanese leaves out the subject an article is about
// ("…放送されていた局の1つ。" in the article on RKBラジオ), so an extracted
// sentence needs its title to be understood, and the title is often what
// the question asks for. Nothing is added when the sentences or the
// question already name it.
func topicOf(g []*sentence, question string) string {
	title := strings.TrimSpace(g[0].title)
	if title == "" || runeLen(title) > maxTopicChars || strings.Contains(question, title) {
		return ""
	}
	for _, s := range g {
		if strings.Contains(s.text, title) {
			return ""
		}
	}
	if lang.Detect(title+question) == lang.Japanese {
		return title + "："
	}
	return title + ": "
}

// separator is what goes between sentence prev and s in an answer: the
// source's own line break or space when they follow each other there;
// otherwise nothing after a sentence end (Japanese runs sentences
// together), a space after a Latin one, and a line break after a line
// without one (a heading, a bullet point).
func separator(prev, s *sentence) string {
	if prev == nil {
		return ""
	}
	if startsListItem(s.text) {
		return "\n"
	}
	if prev.doc == s.doc && prev.order+1 == s.order {
		switch {
		case strings.ContainsAny(prev.gap, "\n\r"):
			return "\n"
		case strings.TrimFunc(prev.gap, unicode.IsSpace) == "" && prev.gap != "":
			return " "
		}
		return ""
	}
	last, _ := utf8.DecodeLastRuneInString(strings.TrimRight(prev.text, "」』）)\"”’】]"))
	switch last {
	case '。', '！', '？', '．', '｡':
		return ""
	case '.', '!', '?':
		return " "
	}
	return "\n"
}

// endsSentence reports whether text ends with a sentence's final mark
// (closing brackets and quotes after it allowed).
func endsSentence(text string) bool {
	last, _ := utf8.DecodeLastRuneInString(strings.TrimRight(text, "」』）)\"”’】]"))
	return strings.ContainsRune("。！？．｡.!?", last)
}

// startsListItem reports whether text begins like an item of a list
// ("- ", "* ", "・", "• ", "1. "), which must start a line of its own.
func startsListItem(text string) bool {
	for _, p := range []string{"- ", "* ", "+ ", "・", "• "} {
		if strings.HasPrefix(text, p) {
			return true
		}
	}
	// A numbered item has a short number; "2024. " starts a sentence.
	rest := strings.TrimLeftFunc(text, unicode.IsDigit)
	n := len(text) - len(rest)
	return n > 0 && n <= 2 && (strings.HasPrefix(rest, ". ") || strings.HasPrefix(rest, ") "))
}

// closeLast makes sure the last piece ends with a marker after a group
// was cut short.
func closeLast(pieces []string, marker string) []string {
	if k := len(pieces) - 1; !strings.HasSuffix(pieces[k], "]") {
		pieces[k] += marker
	}
	return pieces
}

func length(pieces []string) int {
	n := 0
	for _, p := range pieces {
		n += runeLen(p)
	}
	return n
}

// clip cuts a sentence longer than room characters to the stretch of
// clauses (cut at 、，, ; and spaces) that holds the most question terms.
func (c *Client) clip(text string, room int, qterms map[string]bool) string {
	if room <= 0 {
		return ""
	}
	var clauses []string
	start := 0
	for i, r := range text {
		if r == '、' || r == '，' || r == ',' || r == ';' || r == '；' || r == ' ' {
			end := i + utf8.RuneLen(r)
			clauses = append(clauses, text[start:end])
			start = end
		}
	}
	if start < len(text) {
		clauses = append(clauses, text[start:])
	}
	bestScore, bestText := -1.0, ""
	for i := range clauses {
		n, sc := 0, 0.0
		var b strings.Builder
		for j := i; j < len(clauses); j++ {
			n += runeLen(clauses[j])
			if n > room {
				break
			}
			b.WriteString(clauses[j])
			sc = 0
			window := c.termSet(b.String())
			for _, t := range sortedTerms(qterms) {
				if window[t] {
					sc += c.p.scriptWeight(t)
				}
			}
			if sc > bestScore {
				bestScore, bestText = sc, b.String()
			}
		}
	}
	if bestText == "" {
		// Not even one clause fits: the first room characters.
		rs := []rune(text)
		return string(rs[:room])
	}
	return strings.TrimRightFunc(bestText, func(r rune) bool { return unicode.IsSpace(r) || r == '、' || r == ',' || r == '，' })
}

func (c *Client) terms(s string) map[string]bool { return c.termSet(s) }

func (c *Client) termSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, t := range c.an.Analyze(nil, s) {
		out[t] = true
	}
	return out
}

// scriptWeight says how much a term tells about a topic by its script:
// bigrams of hiragana are grammar ("です", "ので"), kanji, katakana and
// Latin words are content.
func (p params) scriptWeight(t string) float64 {
	hira, other := 0, 0
	for _, r := range t {
		switch {
		case r == '\x1f': // the analyzer's mark of a kanji or katakana word
		case lang.IsHiragana(r):
			hira++
		default:
			other++
		}
	}
	switch {
	case other == 0:
		return p.hiraW
	case hira > 0:
		return p.mixedW
	}
	return 1
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

func markerLen(id string) int { return len(id) + 2 }

// sortedTerms lists a term set in sorted order.
func sortedTerms(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

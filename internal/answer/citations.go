package answer

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/answer/lang"
	"github.com/kura-rag/kura/internal/llm"
)

// Citation is a checked citation: a span of the answer and the given
// source that supports it.
type Citation struct {
	// N is the source's number.
	N int `json:"n"`
	// ID, Source, Title and ChunkIndex name the chunk cited: of a source
	// merged from several chunks, the one that best matches the span.
	ID         int64  `json:"id"`
	Source     string `json:"source,omitempty"`
	Title      string `json:"title,omitempty"`
	ChunkIndex *int   `json:"chunk_index,omitempty"`
	// Text is the cited span of the answer: the statement the marker
	// follows, or the span a provider's own citation covers. Start and
	// End are its byte offsets in the answer text.
	Text  string `json:"text"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	// Quote is the sentence of the source that best matches the span
	// (empty when none shares a word with it).
	Quote string `json:"quote,omitempty"`
}

// checkCitations builds the citations of a finished answer: those of the
// markers the filter kept, and the provider's own (native), each checked
// against the sources given. It returns them in text order and the number
// of native citations that named no given source.
func checkCitations(text string, f *markerFilter, native []llm.Citation, sources []Source) ([]Citation, int) {
	out := []Citation{}
	removed := 0
	// Markers: adjacent markers ("[1][2]") share one span.
	for i := 0; i < len(f.marks); {
		j := i + 1
		for j < len(f.marks) && (f.marks[j].pos < f.marks[j-1].end || strings.TrimSpace(text[f.marks[j-1].end:f.marks[j].pos]) == "") {
			j++
		}
		start, end := citedSpan(text, f.marks[i].pos, f.marks[j-1].end)
		for _, m := range f.marks[i:j] {
			out = append(out, cite(sources[m.n-1], text, start, end))
		}
		i = j
	}
	// Native citations: map the provider's offsets onto kura's text.
	for _, c := range native {
		start, end := f.mapOffset(c.Start), f.mapOffset(c.End)
		if start > end || end > len(text) {
			start, end = 0, 0
		}
		if c.Text != "" && text[start:end] != c.Text {
			// Offsets the provider counted differently (characters, not
			// bytes): find the text itself.
			if k := strings.Index(text, c.Text); k >= 0 {
				start, end = k, k+len(c.Text)
			}
		}
		for _, id := range c.DocumentIDs {
			n, err := strconv.Atoi(strings.TrimSpace(id))
			if err != nil || n < 1 || n > len(sources) {
				removed++
				continue
			}
			out = append(out, cite(sources[n-1], text, start, end))
		}
	}
	slices.SortStableFunc(out, func(a, b Citation) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End), cmp.Compare(a.N, b.N))
	})
	out = slices.CompactFunc(out, func(a, b Citation) bool { return a.N == b.N && a.Start == b.Start && a.End == b.End })
	return out, removed
}

// cite builds the citation of source s for text[start:end].
func cite(s Source, text string, start, end int) Citation {
	span := text[start:end]
	c := Citation{N: s.N, ID: s.ID, Source: s.Source, Title: s.Title, Text: span, Start: start, End: end}
	if len(s.Chunks) > 0 {
		best := 0
		if len(s.Chunks) > 1 {
			sb := bigrams(span)
			bestScore := -1
			for k, ch := range s.Chunks {
				if sc := sharedBigrams(sb, s.Text[ch.Start:ch.End]); sc > bestScore {
					best, bestScore = k, sc
				}
			}
		}
		c.ID, c.ChunkIndex = s.Chunks[best].ID, s.Chunks[best].Index
	}
	c.Quote = quote(s.Text, span)
	return c
}

// quote returns the sentence of source that shares the most bigrams with
// span, or "" when none shares any.
func quote(source, span string) string {
	if span == "" {
		return ""
	}
	sb := bigrams(span)
	best, bestScore := "", 0
	for _, sp := range lang.Sentences(source) {
		sent := source[sp.Start:sp.End]
		if sent == span || strings.Contains(span, sent) && utf8.RuneCountInString(sent) > 8 {
			return sent
		}
		if sc := sharedBigrams(sb, sent); sc > bestScore {
			best, bestScore = sent, sc
		}
	}
	return best
}

// citedSpan returns the span a marker group at text[pos:end] cites: the
// statement before it, from the previous sentence end, line break or
// marker. A marker that opens the answer or a sentence ("[1] Kura is…")
// cites the sentence after it.
func citedSpan(text string, pos, end int) (int, int) {
	e := len(strings.TrimRightFunc(text[:pos], unicode.IsSpace))
	// The sentence end just before the marker belongs to the span.
	body := strings.TrimRightFunc(text[:e], func(r rune) bool { return isTerminator(r) || isCloserRune(r) })
	s := len(body)
	for s > 0 {
		r, w := utf8.DecodeLastRuneInString(text[:s])
		if r == '\n' || isTerminator(r) || r == ']' {
			break
		}
		s -= w
	}
	for s < e {
		r, w := utf8.DecodeRuneInString(text[s:])
		if !unicode.IsSpace(r) && !strings.ContainsRune(",，、;；:：", r) {
			break
		}
		s += w
	}
	if strings.TrimFunc(text[s:e], func(r rune) bool { return unicode.IsSpace(r) || isTerminator(r) }) != "" {
		return s, e
	}
	// Nothing before the marker: cite the sentence after it.
	s = end
	for s < len(text) {
		r, w := utf8.DecodeRuneInString(text[s:])
		if !unicode.IsSpace(r) {
			break
		}
		s += w
	}
	e = s
	for e < len(text) {
		r, w := utf8.DecodeRuneInString(text[e:])
		if r == '\n' || r == '[' {
			break
		}
		e += w
		if isTerminator(r) {
			break
		}
	}
	return s, e
}

func isTerminator(r rune) bool {
	switch r {
	case '。', '！', '？', '．', '.', '!', '?':
		return true
	}
	return false
}

func isCloserRune(r rune) bool {
	switch r {
	case '」', '』', '）', ')', '"', '”', '’', '】':
		return true
	}
	return false
}

// bigrams returns the set of lower-cased character bigrams of s's
// letters and digits (a crude, dictionary-free word overlap that works
// for Japanese and English alike), each packed into one integer.
func bigrams(s string) map[uint64]struct{} {
	out := make(map[uint64]struct{}, len(s)/3)
	prev := rune(-1)
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			prev = -1
			continue
		}
		r = unicode.ToLower(r)
		if prev >= 0 {
			out[uint64(prev)<<32|uint64(r)] = struct{}{}
		}
		prev = r
	}
	return out
}

// sharedBigrams counts the bigrams of s that are in set.
func sharedBigrams(set map[uint64]struct{}, s string) int {
	n := 0
	prev := rune(-1)
	seen := make(map[uint64]struct{}, len(s)/3)
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			prev = -1
			continue
		}
		r = unicode.ToLower(r)
		if prev >= 0 {
			g := uint64(prev)<<32 | uint64(r)
			if _, ok := set[g]; ok {
				if _, dup := seen[g]; !dup {
					seen[g] = struct{}{}
					n++
				}
			}
		}
		prev = r
	}
	return n
}

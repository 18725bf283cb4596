package answer

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/answer/lang"
	"github.com/kura-rag/kura/internal/store"
)

// DefaultContextChars is the default budget of source text in a prompt, in
// characters (code points): about 4,000 tokens of Japanese, room for twenty
// of kura's 200-character chunks, and well inside every chat model's
// context window.
const DefaultContextChars = 4000

// minPartialChars is the smallest remainder of the budget worth filling
// with the beginning of a source that does not fit whole.
const minPartialChars = 200

// OutputFields are the fields the answer stage reads from each hit; pass
// them as the retrieval's output fields. "*" returns the text and every
// metadata field: source, title, chunk_index and doc_id for kura's own
// collections, and whatever dynamic fields (such as "subject") a foreign
// Milvus collection has.
var OutputFields = []string{"*"}

// Source is one numbered source in a prompt: a retrieved chunk, or a run
// of neighbouring chunks of one document merged into one text.
type Source struct {
	// N is the number the prompt shows and citations use, from 1.
	N int `json:"n"`
	// ID is the id of the source's first chunk.
	ID int64 `json:"id"`
	// Source and Title are the document's; both are empty for a row of
	// a collection that was not made by kura.
	Source string `json:"source,omitempty"`
	Title  string `json:"title,omitempty"`
	// Text is what the model is given: the chunks' texts joined without
	// their overlap, cut to the context budget if Truncated.
	Text      string `json:"text"`
	Truncated bool   `json:"truncated,omitempty"`
	// Score is the best retrieval score among the source's chunks.
	Score float32 `json:"score"`
	// Chunks are the chunks merged into Text, in document order.
	Chunks []Chunk `json:"chunks"`
	// Fields are the hit's other metadata (subject, doc_id, ...).
	Fields map[string]any `json:"fields,omitempty"`
}

// Chunk is one stored chunk inside a [Source].
type Chunk struct {
	ID int64 `json:"id"`
	// Index is the chunk's position in its document (chunk_index), nil
	// when the row has none.
	Index *int `json:"chunk_index,omitempty"`
	// Start and End are the byte range of the chunk's own text in the
	// source's Text (its overlap with the previous chunk excluded).
	Start int `json:"start"`
	End   int `json:"end"`
	// Rank is the chunk's position in the retrieval results, from 0.
	Rank int `json:"rank"`
}

// Label names the source for people: its title and source, or for a row
// without them its id and the subject when it has one.
func (s Source) Label() string {
	switch {
	case s.Title != "" && s.Source != "":
		return s.Title + " (" + s.Source + ")"
	case s.Title != "":
		return s.Title
	case s.Source != "":
		return s.Source
	}
	label := "id " + strconv.FormatInt(s.ID, 10)
	if subj, ok := s.Fields["subject"].(string); ok && subj != "" {
		label += " (" + subj + ")"
	}
	return label
}

// Assembly is the outcome of [Assemble].
type Assembly struct {
	Sources []Source
	// Duplicates counts hits dropped because another hit had the same
	// text; Empty counts hits without text; OverBudget counts sources
	// left out because the budget was spent.
	Duplicates, Empty, OverBudget int
	// Chars is the total length of the sources' texts, in characters.
	Chars int
}

// Assemble turns retrieved hits (best first) into the numbered sources of
// a prompt:
//   - hits without text are skipped, and a hit whose text repeats an
//     earlier hit's is dropped;
//   - chunks of one document (same source, doc_id and title) with
//     consecutive chunk_index become one source, their texts joined in
//     document order without the overlap the splitter gave them;
//   - sources keep the rank of their best chunk and are numbered from 1;
//   - the texts fill at most budget characters (DefaultContextChars if
//     budget <= 0): a source that does not fit is cut at a sentence end
//     when at least a couple of hundred characters remain, else left out.
//
// Rows of a collection kura did not make (no source, no chunk_index) stay
// one source per hit and are labelled by id.
func Assemble(hits []store.Hit, budget int) Assembly {
	if budget <= 0 {
		budget = DefaultContextChars
	}
	var asm Assembly
	type item struct {
		hit   store.Hit
		rank  int
		text  string
		index *int
		key   string // document identity; "" when chunks cannot be merged
	}
	seen := make(map[string]bool, len(hits))
	var items []item
	for rank, h := range hits {
		text, _ := h.Entity["text"].(string)
		text = strings.TrimSpace(text)
		if text == "" {
			asm.Empty++
			continue
		}
		norm := strings.Join(strings.Fields(text), " ")
		if seen[norm] {
			asm.Duplicates++
			continue
		}
		seen[norm] = true
		it := item{hit: h, rank: rank, text: text, index: intField(h.Entity["chunk_index"])}
		if src, _ := h.Entity["source"].(string); src != "" && it.index != nil {
			title, _ := h.Entity["title"].(string)
			it.key = src + "\x00" + fmt.Sprint(h.Entity["doc_id"]) + "\x00" + title
		}
		items = append(items, it)
	}

	// Group mergeable chunks by document, in document order.
	byDoc := map[string][]int{}
	for i, it := range items {
		if it.key != "" {
			byDoc[it.key] = append(byDoc[it.key], i)
		}
	}
	used := make([]bool, len(items))
	type built struct {
		src  Source
		rank int
	}
	var sources []built
	for i, it := range items {
		if used[i] {
			continue
		}
		run := []int{i}
		if it.key != "" {
			run = neighbours(i, byDoc[it.key], func(j int) int { return *items[j].index }, used)
		}
		var s Source
		best := math.MaxInt
		for _, j := range run {
			used[j] = true
			c := items[j]
			start, text := joinChunks(s.Text, c.text)
			s.Text = text
			s.Chunks = append(s.Chunks, Chunk{ID: c.hit.ID, Index: c.index, Start: start, End: len(text), Rank: c.rank})
			if c.rank < best {
				best = c.rank
				s.Score = c.hit.Score
			}
		}
		first := items[run[0]].hit
		s.ID = first.ID
		s.Source, _ = first.Entity["source"].(string)
		s.Title, _ = first.Entity["title"].(string)
		for k, v := range first.Entity {
			switch k {
			case "text", "source", "title", "chunk_index", "id", "vector":
				continue
			}
			if s.Fields == nil {
				s.Fields = map[string]any{}
			}
			s.Fields[k] = v
		}
		sources = append(sources, built{s, best})
	}
	slices.SortStableFunc(sources, func(a, b built) int { return cmp.Compare(a.rank, b.rank) })

	left := budget
	for _, b := range sources {
		s := b.src
		n := utf8.RuneCountInString(s.Text)
		if n > left {
			// The best source is always given, cut if need be: a small
			// budget must not look like a question nothing answers.
			if left < minPartialChars && len(asm.Sources) > 0 {
				asm.OverBudget++
				continue
			}
			s.Text, s.Truncated = cutAtSentence(s.Text, left), true
			n = utf8.RuneCountInString(s.Text)
			for k := range s.Chunks {
				s.Chunks[k].Start = min(s.Chunks[k].Start, len(s.Text))
				s.Chunks[k].End = min(s.Chunks[k].End, len(s.Text))
			}
			s.Chunks = slices.DeleteFunc(s.Chunks, func(c Chunk) bool { return c.Start == c.End && c.Start == len(s.Text) })
		}
		left -= n
		asm.Chars += n
		s.N = len(asm.Sources) + 1
		asm.Sources = append(asm.Sources, s)
	}
	return asm
}

// neighbours returns the run of chunks with consecutive indexes around
// items[i] among doc (the item numbers of one document), in document
// order, skipping those already used and repeated indexes.
func neighbours(i int, doc []int, index func(int) int, used []bool) []int {
	cands := make([]int, 0, len(doc))
	for _, j := range doc {
		if !used[j] {
			cands = append(cands, j)
		}
	}
	slices.SortStableFunc(cands, func(a, b int) int { return cmp.Compare(index(a), index(b)) })
	pos := slices.Index(cands, i)
	lo, hi := pos, pos
	for lo > 0 && index(cands[lo-1]) >= index(cands[lo])-1 {
		lo--
	}
	for hi+1 < len(cands) && index(cands[hi+1]) <= index(cands[hi])+1 {
		hi++
	}
	var run []int
	last := math.MinInt
	for _, j := range cands[lo : hi+1] {
		if index(j) == last {
			used[j] = true // the same chunk twice (another doc_id spelling): keep one
			continue
		}
		last = index(j)
		run = append(run, j)
	}
	return run
}

// minOverlapBytes is the shortest suffix/prefix match taken for the
// splitter's overlap rather than a coincidence.
const minOverlapBytes = 4

// joinChunks appends next to text without the overlap they share: the
// longest suffix of text that is a prefix of next. Without one, the two
// are joined by a line break, as the splitter usually cut at one, or
// directly after a clause mark (a cut inside a sentence). It returns where
// next's own text starts in the result.
func joinChunks(text, next string) (int, string) {
	if text == "" {
		return 0, next
	}
	if k := overlap(text, next); k >= minOverlapBytes || k == len(next) {
		return len(text), text + next[k:]
	}
	last, _ := utf8.DecodeLastRuneInString(text)
	switch last {
	case '、', '，', ',':
		return len(text), text + next
	}
	return len(text) + 1, text + "\n" + next
}

// overlap returns the length of the longest suffix of a that is a prefix
// of b, in linear time (the prefix function of b, run over a).
func overlap(a, b string) int {
	if len(b) > len(a) {
		b = b[:len(a)]
	}
	if b == "" {
		return 0
	}
	pi := make([]int, len(b))
	for i := 1; i < len(b); i++ {
		k := pi[i-1]
		for k > 0 && b[i] != b[k] {
			k = pi[k-1]
		}
		if b[i] == b[k] {
			k++
		}
		pi[i] = k
	}
	// A suffix of a longer than b cannot be a prefix of it.
	k := 0
	for i := len(a) - len(b); i < len(a); i++ {
		for k > 0 && (k == len(b) || a[i] != b[k]) {
			k = pi[k-1]
		}
		if a[i] == b[k] {
			k++
		}
	}
	return k
}

// cutAtSentence returns the longest prefix of text of at most n
// characters that ends at a sentence end, or the first n characters when
// no sentence end falls in the second half of them.
func cutAtSentence(text string, n int) string {
	end, count := len(text), 0
	for i := range text {
		if count == n {
			end = i
			break
		}
		count++
	}
	if end == len(text) {
		return text
	}
	prefix := text[:end]
	spans := lang.Sentences(prefix)
	cut := 0
	for k, sp := range spans {
		complete := k < len(spans)-1 || sentenceClosed(prefix[sp.Start:sp.End])
		if !complete {
			next, _ := utf8.DecodeRuneInString(text[end:])
			complete = unicode.IsSpace(next)
		}
		if complete {
			cut = sp.End
		}
	}
	if cut >= len(prefix)/2 {
		return prefix[:cut]
	}
	return prefix
}

// sentenceClosed reports whether s ends with a sentence end mark (and
// closing brackets).
func sentenceClosed(s string) bool {
	s = strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune("」』）)\"”’】", r) })
	r, _ := utf8.DecodeLastRuneInString(s)
	switch r {
	case '。', '！', '？', '．', '.', '!', '?':
		return true
	}
	return false
}

// intField reads an integer metadata value as the stores return it
// (json.Number from kura's stores, a float64 or int64 from others).
func intField(v any) *int {
	var n int
	switch x := v.(type) {
	case int:
		n = x
	case int64:
		n = int(x)
	case int32:
		n = int(x)
	case float64:
		if x != math.Trunc(x) {
			return nil
		}
		n = int(x)
	case json.Number:
		i, err := x.Int64()
		if err != nil {
			return nil
		}
		n = int(i)
	case string:
		i, err := strconv.Atoi(x)
		if err != nil {
			return nil
		}
		n = i
	default:
		return nil
	}
	return &n
}

package servertest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/server"
)

// Fake is the fake backend. Set its fields before serving.
type Fake struct {
	// Delay is the pause between answer pieces (0: none).
	Delay time.Duration
	// PieceRunes is the length of a streamed piece (default 6).
	PieceRunes int
	// LLM names the answerer reported in answers (default "extractive").
	LLM string
	// Default is the default collection (default "kura").
	Default string
	// IngestDelay is the pause after each ingested file.
	IngestDelay time.Duration

	dir string
	mu  sync.RWMutex // guards everything below
	st  state
	// Asks and Feedbacks record the requests received, for assertions.
	asks      []api.AskRequest
	feedbacks []api.FeedbackRequest
	jobs      map[string]*job
	nextID    int64
}

// state is what is persisted.
type state struct {
	Collections   map[string]*collection     `json:"collections"`
	Answers       map[string]*record         `json:"answers"`
	Conversations map[string]*conversation   `json:"conversations"`
	Feedback      map[string]*api.Feedback   `json:"feedback"` // by answer id
	Meta          map[string]json.RawMessage `json:"meta,omitempty"`
}

type collection struct {
	Name    string  `json:"name"`
	Chunks  []chunk `json:"chunks"`
	Created bool    `json:"created"`
	// postings index the chunks: term → (position in Chunks, count).
	postings map[string][]posting
}

type posting struct {
	at, n int
}

// index adds the chunks from position from on to the postings.
func (c *collection) index(from int) {
	if c.postings == nil || from == 0 {
		c.postings = map[string][]posting{}
		from = 0
	}
	for i := from; i < len(c.Chunks); i++ {
		ch := c.Chunks[i]
		for t, n := range terms(ch.Title + " " + ch.Text) {
			c.postings[t] = append(c.postings[t], posting{i, n})
		}
	}
}

type chunk struct {
	ID         int64  `json:"id"`
	Source     string `json:"source"`
	Title      string `json:"title"`
	ChunkIndex int    `json:"chunk_index"`
	Text       string `json:"text"`
}

type record struct {
	User   string     `json:"user"`
	Answer api.Answer `json:"answer"`
}

type conversation struct {
	User    string                  `json:"user"`
	Summary api.ConversationSummary `json:"summary"`
	Answers []string                `json:"answers"`
}

// New returns a fake that persists to dir ("" keeps everything in
// memory), loading what an earlier fake left there.
func New(dir string) (*Fake, error) {
	f := &Fake{dir: dir, jobs: map[string]*job{}, st: state{
		Collections: map[string]*collection{}, Answers: map[string]*record{},
		Conversations: map[string]*conversation{}, Feedback: map[string]*api.Feedback{},
	}}
	if dir == "" {
		return f, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &f.st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "state.json"), err)
	}
	for _, c := range f.st.Collections {
		for _, ch := range c.Chunks {
			f.nextID = max(f.nextID, ch.ID)
		}
		c.index(0)
	}
	return f, nil
}

var _ server.Backend = (*Fake)(nil)

func (f *Fake) llm() string { return cmp.Or(f.LLM, "extractive") }

func (f *Fake) defaultCollection() string { return cmp.Or(f.Default, "kura") }

// saveLocked writes the state atomically.
func (f *Fake) saveLocked() error {
	if f.dir == "" {
		return nil
	}
	b, err := json.Marshal(&f.st)
	if err != nil {
		return err
	}
	tmp := filepath.Join(f.dir, "state.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(f.dir, "state.json"))
}

// Asks returns the ask requests received so far.
func (f *Fake) Asks() []api.AskRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asks)
}

// Feedbacks returns the feedback requests received so far.
func (f *Fake) Feedbacks() []api.FeedbackRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.feedbacks)
}

// AddDocument splits text into chunks (one per paragraph, long ones cut
// at sentence ends) and adds them to collection, creating it. A source
// added again replaces its chunks; it returns the chunks added and
// whether the text was unchanged.
func (f *Fake) AddDocument(coll, source, title, text string) (added int, unchanged bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	added, unchanged = f.addLocked(coll, source, title, text)
	f.saveLocked()
	return added, unchanged
}

func (f *Fake) addLocked(coll, source, title, text string) (int, bool) {
	c := f.st.Collections[coll]
	if c == nil {
		c = &collection{Name: coll}
		f.st.Collections[coll] = c
	}
	var old []string
	var kept []chunk
	for _, ch := range c.Chunks {
		if ch.Source == source {
			old = append(old, ch.Text)
		} else {
			kept = append(kept, ch)
		}
	}
	parts := splitChunks(text, 300)
	if slices.Equal(old, parts) {
		return 0, true
	}
	from := len(kept)
	for i, p := range parts {
		f.nextID++
		kept = append(kept, chunk{ID: f.nextID, Source: source, Title: title, ChunkIndex: i, Text: p})
	}
	c.Chunks = kept
	if len(old) > 0 {
		from = 0 // positions moved: index afresh
	}
	c.index(from)
	return len(parts), false
}

// splitChunks cuts text at blank lines, and paragraphs longer than size
// runes at sentence ends.
func splitChunks(text string, size int) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		var cur strings.Builder
		for _, s := range sentences(para) {
			if cur.Len() > 0 && utf8.RuneCountInString(cur.String())+utf8.RuneCountInString(s) > size {
				out = append(out, strings.TrimSpace(cur.String()))
				cur.Reset()
			}
			cur.WriteString(s)
		}
		if strings.TrimSpace(cur.String()) != "" {
			out = append(out, strings.TrimSpace(cur.String()))
		}
	}
	return out
}

// sentences cuts text after 。！？.!? and newlines, keeping the ends.
func sentences(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		if strings.ContainsRune("。！？!?\n", r) || (r == '.' && (i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\n')) {
			end := i + utf8.RuneLen(r)
			if s := text[start:end]; strings.TrimSpace(s) != "" {
				out = append(out, s)
			}
			start = end
		}
	}
	if s := text[start:]; strings.TrimSpace(s) != "" {
		out = append(out, s)
	}
	return out
}

// terms are the lower-cased words of ASCII text and the character
// bigrams of everything else.
func terms(s string) map[string]int {
	out := map[string]int{}
	var word []rune
	var prev rune
	flush := func() {
		if len(word) > 1 {
			out[string(word)]++
		}
		word = word[:0]
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			word = append(word, r)
			prev = 0
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flush()
			if prev != 0 {
				out[string([]rune{prev, r})]++
			}
			prev = r
		default:
			flush()
			prev = 0
		}
	}
	flush()
	return out
}

func score(q map[string]int, text string) float32 {
	return scoreTerms(q, terms(text))
}

func scoreTerms(q, t map[string]int) float32 {
	var s float32
	for term := range q {
		if n := t[term]; n > 0 {
			s += 1 + float32(min(n, 3)-1)*0.1
		}
	}
	if len(q) == 0 {
		return 0
	}
	return s / float32(len(q))
}

func (f *Fake) collectionLocked(name string) (*collection, error) {
	if name == "" {
		name = f.defaultCollection()
	}
	c := f.st.Collections[name]
	if c == nil {
		return nil, api.Errorf(api.CodeNotFound, "collection %q does not exist; create it by uploading documents", name)
	}
	return c, nil
}

// searchLocked returns the top k chunks of coll for query: the share of
// the query's terms a chunk holds (a little more for repeats).
func (f *Fake) searchLocked(c *collection, query string, o api.SearchOptions) []api.Hit {
	k := cmp.Or(o.K, 3)
	q := terms(query)
	scores := map[int]float32{}
	for t := range q {
		for _, p := range c.postings[t] {
			scores[p.at] += 1 + float32(min(p.n, 3)-1)*0.1
		}
	}
	type scored struct {
		at int
		s  float32
	}
	var all []scored
	for at, s := range scores {
		s /= float32(len(q))
		if o.ScoreThreshold != nil && float64(s) < *o.ScoreThreshold {
			continue
		}
		all = append(all, scored{at, s})
	}
	slices.SortFunc(all, func(a, b scored) int { return cmp.Or(cmp.Compare(b.s, a.s), cmp.Compare(a.at, b.at)) })
	hits := []api.Hit{}
	for _, sc := range all[:min(k, len(all))] {
		ch := c.Chunks[sc.at]
		ent := map[string]any{"text": ch.Text, "source": ch.Source, "chunk_index": ch.ChunkIndex}
		if ch.Title != "" {
			ent["title"] = ch.Title
		}
		if len(o.OutputFields) > 0 && !slices.Contains(o.OutputFields, "*") {
			for key := range ent {
				if !slices.Contains(o.OutputFields, key) {
					delete(ent, key)
				}
			}
		}
		hits = append(hits, api.Hit{ID: ch.ID, Score: sc.s, Entity: ent})
	}
	return hits
}

func newID(prefix string) string {
	var b [8]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Ready implements server.Backend.
func (f *Fake) Ready(ctx context.Context) error { return nil }

// Info implements server.Backend.
func (f *Fake) Info(ctx context.Context, user string) (api.ServerInfo, error) {
	num := func(v float64) *float64 { return &v }
	n := func(v int) *int { return &v }
	return api.ServerInfo{
		DefaultCollection: f.defaultCollection(),
		LLMs:              []string{"extractive", "cohere", "oci", "openai", "ollama"},
		LLM:               f.llm(),
		Defaults: api.AskRequest{
			SearchOptions: api.SearchOptions{K: 3, SearchType: "bm25", FetchK: 20, Lambda: num(0.5), ScoreThreshold: num(0.5)},
			GenerationOptions: api.GenerationOptions{MaxTokens: n(500), Temperature: num(0.3), TopK: n(0), TopP: num(0.75),
				FrequencyPenalty: num(0), PresencePenalty: num(0)},
			LLM: f.llm(), Stream: true,
		},
	}, nil
}

// Search implements server.Backend.
func (f *Fake) Search(ctx context.Context, user string, req api.SearchRequest) (api.SearchResponse, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	c, err := f.collectionLocked(req.Collection)
	if err != nil {
		return api.SearchResponse{}, err
	}
	if req.Filter != "" && !strings.Contains(req.Filter, "==") && !strings.Contains(req.Filter, "like") {
		return api.SearchResponse{}, &api.Error{Code: api.CodeUnprocessable, Field: "filter", Message: "the filter does not parse: expected a comparison"}
	}
	if len(req.Queries) == 0 {
		return api.SearchResponse{Hits: f.searchLocked(c, req.Query, req.SearchOptions)}, nil
	}
	var out api.SearchResponse
	for i, q := range req.Queries {
		id := q.ID
		if len(id) == 0 {
			id = json.RawMessage(fmt.Sprint(i + 1))
		}
		out.Results = append(out.Results, api.BatchResult{QueryID: id, Hits: f.searchLocked(c, q.Query, req.SearchOptions)})
	}
	return out, nil
}

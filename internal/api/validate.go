package api

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Limits of the wire format, independent of any server setting.
const (
	MaxK             = 16384 // hits per query, as the command line
	MaxBatchQueries  = 1024  // queries in one search request
	MaxFilterBytes   = 8192
	MaxOutputFields  = 256
	MaxStopSequences = 16
	MaxCommentRunes  = 4000
	MaxTitleRunes    = 200
	MaxSystemPrompt  = 32 << 10 // bytes
	MaxContextChars  = 1 << 20
	MaxTokensLimit   = 1 << 20
	MaxHistoryTurns  = 200
)

// Validate checks o's ranges.
func (o *SearchOptions) Validate() error {
	if o.Collection != "" {
		if err := ValidateCollectionName(o.Collection); err != nil {
			return err
		}
	}
	if o.K < 0 || o.K > MaxK {
		return Invalid("k", "k %d is out of range 1..%d", o.K, MaxK)
	}
	if o.SearchType != "" && !knownSearchType(o.SearchType) {
		return Invalid("search_type", "unknown search_type %q (use dense, bm25, hybrid, mmr, or dense+mmr, bm25+mmr, hybrid+mmr)", o.SearchType)
	}
	if o.FetchK < 0 || o.FetchK > MaxK {
		return Invalid("fetch_k", "fetch_k %d is out of range 1..%d", o.FetchK, MaxK)
	}
	if err := rangeCheck("lambda", o.Lambda, 0, 1); err != nil {
		return err
	}
	if o.ScoreThreshold != nil && !finite(*o.ScoreThreshold) {
		return Invalid("score_threshold", "score_threshold must be a finite number")
	}
	if len(o.Filter) > MaxFilterBytes {
		return Invalid("filter", "filter is %d bytes; at most %d are allowed", len(o.Filter), MaxFilterBytes)
	}
	if len(o.OutputFields) > MaxOutputFields {
		return Invalid("output_fields", "%d output_fields; at most %d are allowed", len(o.OutputFields), MaxOutputFields)
	}
	for i, f := range o.OutputFields {
		if strings.TrimSpace(f) == "" || len(f) > 255 {
			return Invalid(fmt.Sprintf("output_fields[%d]", i), "output field %q must be a field name of 1 to 255 bytes", f)
		}
	}
	switch strings.ToLower(o.Rerank) {
	case "", "cohere":
	default:
		return Invalid("rerank", "unknown rerank %q (use cohere, or leave it out)", o.Rerank)
	}
	if o.RRFK < 0 || o.RRFK > 1_000_000 {
		return Invalid("rrf_k", "rrf_k %d is out of range 1..1000000", o.RRFK)
	}
	if o.Alpha < 0 || o.Alpha > 1 || !finite(o.Alpha) {
		return Invalid("alpha", "alpha %v is out of range 0..1 (0 fuses by RRF)", o.Alpha)
	}
	if err := rangeCheck("bm25_k1", o.BM25K1, 0, 100); err != nil {
		return err
	}
	if err := rangeCheck("bm25_b", o.BM25B, 0, 1); err != nil {
		return err
	}
	if err := rangeCheck("bm25_specificity", o.BM25Specificity, 0, 10); err != nil {
		return err
	}
	if o.NProbe < 0 || o.NProbe > 65536 {
		return Invalid("nprobe", "nprobe %d is out of range 1..65536", o.NProbe)
	}
	if o.Ef < 0 || o.Ef > 1<<16 {
		return Invalid("ef", "ef %d is out of range 1..65536", o.Ef)
	}
	return nil
}

func knownSearchType(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "dense", "similarity", "bm25", "hybrid", "mmr",
		"dense+mmr", "similarity+mmr", "bm25+mmr", "hybrid+mmr":
		return true
	}
	return false
}

// Validate checks r: one query or a batch, and the options.
func (r *SearchRequest) Validate() error {
	if err := r.SearchOptions.Validate(); err != nil {
		return err
	}
	switch {
	case r.Query != "" && len(r.Queries) > 0:
		return Invalid("query", "give either query or queries, not both")
	case len(r.Queries) > MaxBatchQueries:
		return Invalid("queries", "%d queries in one request; at most %d are allowed", len(r.Queries), MaxBatchQueries)
	case len(r.Queries) > 0:
		for i, q := range r.Queries {
			if strings.TrimSpace(q.Query) == "" {
				return Invalid(fmt.Sprintf("queries[%d].query", i), "query %d of the batch is empty", i+1)
			}
		}
	case strings.TrimSpace(r.Query) == "":
		return Invalid("query", "query is missing or empty")
	}
	return nil
}

// Validate checks o's ranges. They are the widest any provider takes; a
// provider with a narrower range says so itself.
func (o *GenerationOptions) Validate() error {
	if o.MaxTokens != nil && (*o.MaxTokens < 1 || *o.MaxTokens > MaxTokensLimit) {
		return Invalid("max_tokens", "max_tokens %d is out of range 1..%d", *o.MaxTokens, MaxTokensLimit)
	}
	if err := rangeCheck("temperature", o.Temperature, 0, 2); err != nil {
		return err
	}
	if o.TopK != nil && (*o.TopK < 0 || *o.TopK > 1000) {
		return Invalid("top_k", "top_k %d is out of range 0..1000 (0 turns it off)", *o.TopK)
	}
	if err := rangeCheck("top_p", o.TopP, 0, 1); err != nil {
		return err
	}
	if err := rangeCheck("frequency_penalty", o.FrequencyPenalty, -2, 2); err != nil {
		return err
	}
	if err := rangeCheck("presence_penalty", o.PresencePenalty, -2, 2); err != nil {
		return err
	}
	if len(o.Stop) > MaxStopSequences {
		return Invalid("stop", "%d stop sequences; at most %d are allowed", len(o.Stop), MaxStopSequences)
	}
	for i, s := range o.Stop {
		if s == "" {
			return Invalid(fmt.Sprintf("stop[%d]", i), "stop sequence %d is empty", i+1)
		}
	}
	return nil
}

// Validate checks r: a question, the options, and the fields that must
// not carry what a server must never accept from a client (a prompt file
// path).
func (r *AskRequest) Validate() error {
	if strings.TrimSpace(r.Question) == "" {
		return Invalid("question", "question is missing or empty")
	}
	if !utf8.ValidString(r.Question) {
		return Invalid("question", "question is not valid UTF-8")
	}
	if err := r.SearchOptions.Validate(); err != nil {
		return err
	}
	if err := r.GenerationOptions.Validate(); err != nil {
		return err
	}
	if r.ConversationID != "" && len(r.History) > 0 {
		return Invalid("history", "give either conversation_id or history, not both")
	}
	if len(r.History) > MaxHistoryTurns {
		return Invalid("history", "%d history messages; at most %d are allowed", len(r.History), MaxHistoryTurns)
	}
	for i, m := range r.History {
		switch m.Role {
		case RoleUser, RoleAssistant, RoleSystem:
		default:
			return Invalid(fmt.Sprintf("history[%d].role", i), "unknown role %q (use user, assistant or system)", m.Role)
		}
	}
	if len(r.ConversationID) > 128 {
		return Invalid("conversation_id", "conversation_id is too long")
	}
	if err := ValidatePromptName(r.Prompt); err != nil {
		return err
	}
	if len(r.SystemPrompt) > MaxSystemPrompt {
		return Invalid("system_prompt", "system_prompt is %d bytes; at most %d are allowed", len(r.SystemPrompt), MaxSystemPrompt)
	}
	if r.ContextChars < 0 || r.ContextChars > MaxContextChars {
		return Invalid("context_chars", "context_chars %d is out of range 1..%d", r.ContextChars, MaxContextChars)
	}
	switch r.Fallback {
	case "", FallbackNone, FallbackExtractive:
	default:
		return Invalid("fallback", "unknown fallback %q (use none or extractive)", r.Fallback)
	}
	switch strings.ToLower(r.LLM) {
	case "", "cohere", "oci", "openai", "ollama", "extractive":
	default:
		return Invalid("llm", "unknown llm %q (use cohere, oci, openai, ollama or extractive)", r.LLM)
	}
	return nil
}

// ValidateQuestion refuses a question longer than maxRunes characters
// (0: no limit) with too_large.
func ValidateQuestion(q string, maxRunes int) error {
	if maxRunes > 0 {
		if n := utf8.RuneCountInString(q); n > maxRunes {
			return &Error{Code: CodeTooLarge, Field: "question",
				Message: fmt.Sprintf("the question is %d characters long; this server accepts at most %d", n, maxRunes)}
		}
	}
	return nil
}

// ValidatePromptName accepts an empty prompt or a server-side prompt name
// ("langfuse:NAME", "langfuse:NAME@label", "langfuse:NAME#3"). Anything
// else, a file path in particular, is refused: a client must never make
// the server read a file.
func ValidatePromptName(p string) error {
	if p == "" {
		return nil
	}
	name, ok := strings.CutPrefix(p, "langfuse:")
	if !ok || name == "" || len(p) > 512 || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Invalid("prompt", "prompt must name a server-side prompt, \"langfuse:NAME\" (optionally @label or #version); templates are not read from files on request")
	}
	return nil
}

// Validate checks r: an answer id and a value on r's scale.
func (r *FeedbackRequest) Validate() error {
	if strings.TrimSpace(r.AnswerID) == "" {
		return Invalid("answer_id", "answer_id is missing (it is the id of the answer)")
	}
	if len(r.AnswerID) > 128 {
		return Invalid("answer_id", "answer_id is too long")
	}
	switch r.Kind {
	case "", FeedbackThumbs, FeedbackFaces:
	default:
		return Invalid("kind", "unknown kind %q (use thumbs or faces)", r.Kind)
	}
	if r.Value == nil {
		return Invalid("value", "value is missing")
	}
	kind := r.Kind
	if kind == "" {
		kind = FeedbackFaces
	}
	ok := false
	for _, v := range kind.Values() {
		ok = ok || *r.Value == v
	}
	if !ok {
		return Invalid("value", "value %v is not a %s rating (use %s)", *r.Value, kind, joinFloats(kind.Values()))
	}
	if n := utf8.RuneCountInString(r.Comment); n > MaxCommentRunes {
		return Invalid("comment", "the comment is %d characters long; at most %d are allowed", n, MaxCommentRunes)
	}
	return nil
}

// Validate checks u's title.
func (u *ConversationUpdate) Validate() error {
	if u.Title == nil {
		return Invalid("title", "nothing to change: give a title")
	}
	t := strings.TrimSpace(*u.Title)
	if t == "" {
		return Invalid("title", "the title is empty")
	}
	if n := utf8.RuneCountInString(t); n > MaxTitleRunes {
		return Invalid("title", "the title is %d characters long; at most %d are allowed", n, MaxTitleRunes)
	}
	return nil
}

// Validate checks r's name and ranges; the store checks the rest.
func (r *CreateCollectionRequest) Validate() error {
	if err := ValidateCollectionName(r.Name); err != nil {
		err.Field = "name"
		return err
	}
	switch strings.ToUpper(r.Metric) {
	case "", "COSINE", "IP", "L2":
	default:
		return Invalid("metric", "unknown metric %q (use COSINE, IP or L2)", r.Metric)
	}
	switch strings.ToLower(r.Index) {
	case "", "flat", "ivf_flat", "hnsw":
	default:
		return Invalid("index", "unknown index %q (use flat, ivf_flat or hnsw)", r.Index)
	}
	if r.Dim < 0 || r.Dim > 65536 {
		return Invalid("dim", "dim %d is out of range 1..65536", r.Dim)
	}
	if r.NList < 0 || r.NList > 65536 {
		return Invalid("nlist", "nlist %d is out of range 1..65536", r.NList)
	}
	if r.M < 0 || r.M > 512 {
		return Invalid("m", "m %d is out of range 2..512", r.M)
	}
	if r.EfConstruction < 0 || r.EfConstruction > 1<<16 {
		return Invalid("ef_construction", "ef_construction %d is out of range 1..65536", r.EfConstruction)
	}
	switch r.Context {
	case "", "both", "bm25", "embed", "none":
	default:
		return Invalid("context", "unknown context %q (use both, bm25, embed or none)", r.Context)
	}
	if r.TextMaxBytes < 0 || r.TextMaxBytes > 65535 {
		return Invalid("text_max_bytes", "text_max_bytes %d is out of range 1..65535", r.TextMaxBytes)
	}
	return nil
}

// Validate checks o's fields.
func (o *IngestOptions) Validate() error {
	if o.Collection != "" {
		if err := ValidateCollectionName(o.Collection); err != nil {
			return err
		}
	}
	for i, kv := range o.Set {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return Invalid(fmt.Sprintf("set[%d]", i), "set %q is not key=value", kv)
		}
	}
	if o.ChunkSize < 0 || o.ChunkSize > 1_000_000 {
		return Invalid("chunk_size", "chunk_size %d is out of range 1..1000000", o.ChunkSize)
	}
	if o.ChunkOverlap < 0 || (o.ChunkSize > 0 && o.ChunkOverlap >= o.ChunkSize) {
		return Invalid("chunk_overlap", "chunk_overlap %d must be at least 0 and below chunk_size", o.ChunkOverlap)
	}
	switch o.Splitter {
	case "", "ja", "recursive", "character":
	default:
		return Invalid("splitter", "unknown splitter %q (use ja, recursive or character)", o.Splitter)
	}
	return nil
}

// ValidateCollectionName checks the store's rule for collection names.
func ValidateCollectionName(name string) *Error {
	const rule = "a collection name uses only letters, digits and underscores, starts with a letter or underscore and has at most 255 characters"
	if name == "" || len(name) > 255 {
		return Invalid("collection", "collection name %q: %s", name, rule)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (i > 0 && '0' <= c && c <= '9')) {
			return Invalid("collection", "collection name %q: %s", name, rule)
		}
	}
	return nil
}

func rangeCheck(field string, v *float64, lo, hi float64) error {
	if v != nil && (!finite(*v) || *v < lo || *v > hi) {
		return Invalid(field, "%s %v is out of range %v..%v", field, *v, lo, hi)
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func joinFloats(vs []float64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}

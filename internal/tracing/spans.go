package tracing

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/kura-rag/kura/internal/store"
)

// Ask is the start of a question's trace.
type Ask struct {
	Question   string // content
	Collection string
}

// AskOutcome is how a question ended.
type AskOutcome struct {
	AnswerID string
	Answer   string // content
	NotFound bool   // retrieval found nothing; no LLM call was made
	Sources  int
}

// AskSpan is the root span of one question. A nil *AskSpan does nothing.
type AskSpan struct{ span }

// StartAsk starts the trace of one question (an ask, a chat turn, a server
// request). The question is the trace's input.
func (p *Provider) StartAsk(ctx context.Context, t Trace, in Ask) (context.Context, *AskSpan) {
	if t.Name == "" {
		t.Name = "ask"
	}
	ctx, sp, ok := p.startRoot(ctx, t, t.Name)
	if !ok {
		return ctx, nil
	}
	attrs := []attribute.KeyValue{lfObsType.String(obsSpan), attrCollection.String(in.Collection)}
	if sp.content {
		attrs = append(attrs, lfObsInput.String(in.Question), lfTraceInput.String(in.Question))
	}
	sp.s.SetAttributes(attrs...)
	return ctx, &AskSpan{sp}
}

// End records the outcome; the answer text is the trace's output.
func (a *AskSpan) End(out AskOutcome, err error) {
	if a == nil {
		return
	}
	attrs := []attribute.KeyValue{attrNotFound.Bool(out.NotFound), attrSources.Int(out.Sources)}
	if out.AnswerID != "" {
		attrs = append(attrs, attrAnswerID.String(out.AnswerID))
	}
	if a.content && (out.Answer != "" || err == nil) {
		attrs = append(attrs, lfObsOutput.String(out.Answer), lfTraceOutput.String(out.Answer))
	}
	a.end(err, attrs...)
}

// TraceID is the OpenTelemetry trace id of the question ("" for nil).
func (a *AskSpan) TraceID() string {
	if a == nil {
		return ""
	}
	return a.s.SpanContext().TraceID().String()
}

// Ingest is the start of an ingest run's trace.
type Ingest struct {
	Collection string
	Embedder   string
	Model      string
	Inputs     int // files given
}

// IngestTotals is how an ingest run ended.
type IngestTotals struct {
	Files, Skipped, Problems          int
	Chunks, Added, Unchanged, Removed int
	Embedded, Cached                  int
}

// IngestSpan is the root span of one ingest run.
type IngestSpan struct{ span }

// StartIngest starts the trace of an ingest run.
func (p *Provider) StartIngest(ctx context.Context, t Trace, in Ingest) (context.Context, *IngestSpan) {
	if t.Name == "" {
		t.Name = "ingest"
	}
	ctx, sp, ok := p.startRoot(ctx, t, t.Name)
	if !ok {
		return ctx, nil
	}
	sp.s.SetAttributes(
		lfObsType.String(obsSpan),
		attrCollection.String(in.Collection),
		attrEmbedder.String(in.Embedder),
		attrEmbedModel.String(in.Model),
		attrFiles.Int(in.Inputs),
		lfObsInput.String(jsonString(map[string]any{
			"collection": in.Collection, "embedder": in.Embedder, "model": in.Model, "inputs": in.Inputs,
		})),
	)
	return ctx, &IngestSpan{sp}
}

// End records the run's totals.
func (s *IngestSpan) End(t IngestTotals, err error) {
	if s == nil {
		return
	}
	s.end(err,
		attrFiles.Int(t.Files), attrSkipped.Int(t.Skipped), attrProblems.Int(t.Problems),
		attrChunks.Int(t.Chunks), attrAdded.Int(t.Added), attrUnchanged.Int(t.Unchanged),
		attrRemoved.Int(t.Removed), attrEmbedded.Int(t.Embedded), attrCached.Int(t.Cached),
		lfObsOutput.String(jsonString(map[string]int{
			"files": t.Files, "skipped": t.Skipped, "problems": t.Problems, "chunks": t.Chunks,
			"added": t.Added, "unchanged": t.Unchanged, "removed": t.Removed,
			"embedded": t.Embedded, "cached": t.Cached,
		})),
	)
}

// LoadSpan is the loading of one file.
type LoadSpan struct{ span }

// StartLoad starts the span of loading source.
func StartLoad(ctx context.Context, source string) (context.Context, *LoadSpan) {
	ctx, sp, ok := startChild(ctx, "load", trace.SpanKindInternal)
	if !ok {
		return ctx, nil
	}
	sp.s.SetAttributes(lfObsType.String(obsSpan), attrSource.String(source))
	return ctx, &LoadSpan{sp}
}

// End records what the file gave: documents, bytes of text and problems
// (lines skipped inside it).
func (s *LoadSpan) End(documents int, bytes int64, problems int, err error) {
	if s == nil {
		return
	}
	s.end(err, attrDocuments.Int(documents), attrBytes.Int64(bytes), attrProblems.Int(problems))
}

// SplitSpan is the splitting of one file's documents into chunks.
type SplitSpan struct{ span }

// StartSplit starts the span of splitting source with splitter.
func StartSplit(ctx context.Context, source, splitter string) (context.Context, *SplitSpan) {
	ctx, sp, ok := startChild(ctx, "split", trace.SpanKindInternal)
	if !ok {
		return ctx, nil
	}
	sp.s.SetAttributes(lfObsType.String(obsSpan), attrSource.String(source), attrSplitter.String(splitter))
	return ctx, &SplitSpan{sp}
}

// End records the number of chunks.
func (s *SplitSpan) End(chunks int, err error) {
	if s == nil {
		return
	}
	s.end(err, attrChunks.Int(chunks))
}

// Embedding describes one embedding call (a batch of texts, or the query).
// The texts themselves are never recorded: a batch of 96 chunks would make
// every ingest trace enormous, and the query is on the retrieval span.
type Embedding struct {
	Provider  string // "cohere", "openai", "hash", …
	Model     string
	InputType string // "search_document", "search_query", …
	Texts     int
}

// EmbedResult is what an embedding call reported.
type EmbedResult struct {
	Tokens int // 0 when the provider does not say
	Dim    int
	Cached int // texts served from the embedding cache
}

// EmbedSpan is one embedding call.
type EmbedSpan struct {
	span
	retries atomic.Int64
}

// StartEmbed starts the span of one embedding call.
func StartEmbed(ctx context.Context, e Embedding) (context.Context, *EmbedSpan) {
	if !recording(ctx) {
		return ctx, nil
	}
	ctx, sp, ok := startChild(ctx, spanName("embeddings", e.Model), trace.SpanKindClient)
	if !ok {
		return ctx, nil
	}
	sp.s.SetAttributes(
		lfObsType.String(obsEmbedding),
		semconv.GenAIOperationNameEmbeddings,
		semconv.GenAIProviderNameKey.String(e.Provider),
		semconv.GenAIRequestModel(e.Model),
		lfModel.String(e.Model),
		attrEmbedInputType.String(e.InputType),
		attrEmbedTexts.Int(e.Texts),
	)
	return ctx, &EmbedSpan{span: sp}
}

// Retry records that attempt failed with err and is retried after wait.
func (s *EmbedSpan) Retry(attempt int, wait time.Duration, err error) {
	if s == nil {
		return
	}
	s.retries.Add(1)
	attrs := []attribute.KeyValue{attribute.Int("attempt", attempt), attribute.Int64("wait_ms", wait.Milliseconds())}
	if err != nil {
		attrs = append(attrs, attribute.String("error", truncate(err.Error(), 300)))
	}
	s.s.AddEvent("retry", trace.WithAttributes(attrs...))
}

// End records the usage the provider reported.
func (s *EmbedSpan) End(r EmbedResult, err error) {
	if s == nil {
		return
	}
	attrs := []attribute.KeyValue{attrEmbedRetries.Int64(s.retries.Load()), attrEmbedCached.Int(r.Cached)}
	if r.Dim > 0 {
		attrs = append(attrs, semconv.GenAIEmbeddingsDimensionCount(r.Dim))
	}
	if r.Tokens > 0 {
		attrs = append(attrs, semconv.GenAIUsageInputTokens(r.Tokens), lfUsage.String(usageJSON(r.Tokens, 0)))
	}
	s.end(err, attrs...)
}

// StoreWrite describes one write to a store.
type StoreWrite struct {
	System     string // "kura" (embedded store) or "milvus"
	Collection string
	Operation  string // "upsert", "delete", …
	Rows       int
}

// StartStoreWrite starts the span of one store write; End it with the
// write's error.
func StartStoreWrite(ctx context.Context, w StoreWrite) (context.Context, *Span) {
	if !recording(ctx) {
		return ctx, nil
	}
	ctx, sp, ok := startChild(ctx, w.Operation+" "+w.Collection, trace.SpanKindClient)
	if !ok {
		return ctx, nil
	}
	attrs := []attribute.KeyValue{
		lfObsType.String(obsSpan),
		semconv.DBSystemNameKey.String(w.System),
		semconv.DBOperationName(w.Operation),
		semconv.DBCollectionName(w.Collection),
		attrStoreRows.Int(w.Rows),
	}
	if w.Rows > 1 {
		attrs = append(attrs, semconv.DBOperationBatchSize(w.Rows))
	}
	sp.s.SetAttributes(attrs...)
	return ctx, &Span{sp}
}

// RewriteSpan is the rewriting of a follow-up question into a standalone
// one.
type RewriteSpan struct {
	span
	question string
}

// StartRewrite starts the span of rewriting question, asked after
// historyTurns earlier turns.
func StartRewrite(ctx context.Context, question string, historyTurns int) (context.Context, *RewriteSpan) {
	ctx, sp, ok := startChild(ctx, "rewrite_query", trace.SpanKindInternal)
	if !ok {
		return ctx, nil
	}
	attrs := []attribute.KeyValue{lfObsType.String(obsSpan), attrRewriteTurns.Int(historyTurns)}
	if sp.content {
		attrs = append(attrs, lfObsInput.String(question))
	}
	sp.s.SetAttributes(attrs...)
	return ctx, &RewriteSpan{span: sp, question: question}
}

// End records the rewritten question.
func (s *RewriteSpan) End(rewritten string, err error) {
	if s == nil {
		return
	}
	attrs := []attribute.KeyValue{attrRewriteChanged.Bool(rewritten != s.question)}
	if s.content {
		attrs = append(attrs, lfObsOutput.String(rewritten))
	}
	s.end(err, attrs...)
}

// Retrieval describes one search.
type Retrieval struct {
	Collection string
	SearchType string // "similarity", "mmr", "bm25", "hybrid", …
	Query      string // content
	K          int
	FetchK     int
	Lambda     *float64
	Threshold  *float64
	Filter     string
}

// RetrievalSpan is a search or a rerank; it ends with the hits.
type RetrievalSpan struct{ span }

// StartRetrieve starts the span of one search.
func StartRetrieve(ctx context.Context, r Retrieval) (context.Context, *RetrievalSpan) {
	if !recording(ctx) {
		return ctx, nil
	}
	ctx, sp, ok := startChild(ctx, "retrieval "+r.Collection, trace.SpanKindInternal)
	if !ok {
		return ctx, nil
	}
	attrs := []attribute.KeyValue{
		lfObsType.String(obsRetriever),
		semconv.GenAIOperationNameRetrieval,
		semconv.GenAIDataSourceID(r.Collection),
		attrCollection.String(r.Collection),
		attrSearchType.String(r.SearchType),
		attrK.Int(r.K),
	}
	input := map[string]any{"search_type": r.SearchType, "k": r.K}
	if r.FetchK > 0 {
		attrs = append(attrs, attrFetchK.Int(r.FetchK))
		input["fetch_k"] = r.FetchK
	}
	if r.Lambda != nil {
		attrs = append(attrs, attrLambda.Float64(*r.Lambda))
		input["lambda"] = *r.Lambda
	}
	if r.Threshold != nil {
		attrs = append(attrs, attrThreshold.Float64(*r.Threshold))
		input["score_threshold"] = *r.Threshold
	}
	if r.Filter != "" {
		attrs = append(attrs, attrFilter.String(r.Filter))
		input["filter"] = r.Filter
	}
	if sp.content {
		attrs = append(attrs, semconv.GenAIRetrievalQueryText(r.Query))
		input["query"] = r.Query
	}
	attrs = append(attrs, lfObsInput.String(jsonString(input)))
	sp.s.SetAttributes(attrs...)
	return ctx, &RetrievalSpan{sp}
}

// Rerank describes one rerank call.
type Rerank struct {
	Provider   string
	Model      string
	Query      string // content
	Candidates int
	TopN       int
}

// StartRerank starts the span of one rerank call.
func StartRerank(ctx context.Context, r Rerank) (context.Context, *RetrievalSpan) {
	ctx, sp, ok := startChild(ctx, "rerank", trace.SpanKindClient)
	if !ok {
		return ctx, nil
	}
	input := map[string]any{"candidates": r.Candidates, "top_n": r.TopN}
	if sp.content {
		input["query"] = r.Query
	}
	sp.s.SetAttributes(
		lfObsType.String(obsSpan),
		attrRerankProvider.String(r.Provider),
		attrRerankModel.String(r.Model),
		attrRerankIn.Int(r.Candidates),
		attrRerankTopN.Int(r.TopN),
		lfObsInput.String(jsonString(input)),
	)
	return ctx, &RetrievalSpan{sp}
}

// maxHitText bounds the text of one hit in a span's output.
const maxHitText = 600

// End records the hits: ids and scores always (kura.retrieval.hit_ids,
// kura.retrieval.hit_scores and gen_ai.retrieval.documents), their text
// and title only with content on.
func (s *RetrievalSpan) End(hits []store.Hit, err error) {
	if s == nil {
		return
	}
	type document struct {
		ID    string  `json:"id"`
		Score float32 `json:"score"`
	}
	type hit struct {
		ID     string  `json:"id"`
		Score  float32 `json:"score"`
		Source string  `json:"source,omitempty"`
		Title  string  `json:"title,omitempty"`
		Text   string  `json:"text,omitempty"`
	}
	ids := make([]int64, len(hits))
	scores := make([]float64, len(hits))
	docs := make([]document, len(hits))
	out := make([]hit, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
		scores[i] = float64(h.Score)
		id := strconv.FormatInt(h.ID, 10)
		docs[i] = document{ID: id, Score: h.Score}
		out[i] = hit{ID: id, Score: h.Score}
		out[i].Source, _ = h.Entity["source"].(string)
		if s.content {
			out[i].Title, _ = h.Entity["title"].(string)
			if text, ok := h.Entity["text"].(string); ok {
				out[i].Text = truncate(text, maxHitText)
			}
		}
	}
	s.end(err,
		attrHitCount.Int(len(hits)),
		attrHitIDs.Int64Slice(ids),
		attrHitScores.Float64Slice(scores),
		semconv.GenAIRetrievalDocumentsKey.String(jsonString(docs)),
		lfObsOutput.String(jsonString(out)),
	)
}

// usageJSON is Langfuse's usage_details object; output 0 is left out
// (an embedding has input tokens only).
func usageJSON(input, output int) string {
	b := make([]byte, 0, 64)
	b = append(b, `{"input":`...)
	b = strconv.AppendInt(b, int64(input), 10)
	if output > 0 {
		b = append(b, `,"output":`...)
		b = strconv.AppendInt(b, int64(output), 10)
	}
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(input+output), 10)
	return string(append(b, '}'))
}

// spanName is "<operation> <model>" as the GenAI conventions name spans,
// or the operation alone when the model is unknown.
func spanName(op, model string) string {
	if model == "" {
		return op
	}
	return fmt.Sprintf("%s %s", op, model)
}

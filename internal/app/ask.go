package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kura-rag/kura/internal/answer"
	"github.com/kura-rag/kura/internal/answer/extractive"
	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/history"
	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/tracing"
)

// AnswerDefaults are the answer settings of an App that a request does not
// override: what `kura ask`'s flags and `kura serve`'s flags set.
type AnswerDefaults struct {
	// LLM is the provider that answers ("extractive", the offline
	// answerer, if empty); Model its model ("" for the provider's
	// default).
	LLM   string
	Model string
	// LLMConfig holds the provider settings other than provider, model,
	// endpoint and key (timeouts, retries, rate limit), which come from
	// the App's Providers.
	LLMConfig llm.Config
	// Generation are the generation options applied to every answer by a
	// provider that honours them; a request's own options win. The zero
	// value means [SeedGeneration].
	Generation *api.GenerationOptions
	// ContextChars is the budget of source text in the prompt
	// (answer.DefaultContextChars if 0).
	ContextChars int
	// Prompt names a managed prompt ("langfuse:NAME"); PromptTemplate is
	// a template a trusted caller read from a file. Neither: the built-in
	// prompt of the question's language.
	Prompt         string
	PromptTemplate *answer.Prompt
	// SystemPrompt replaces the built-in preamble.
	SystemPrompt string
	// Fallback is api.FallbackNone (default) or api.FallbackExtractive:
	// what answers when the language model cannot be reached.
	Fallback string
	// HistoryTurns is how many earlier turns go to the model
	// (answer.DefaultHistoryTurns if 0).
	HistoryTurns int
	// NoRewrite keeps follow-up questions as they are for retrieval.
	NoRewrite bool
	// PromptTTL is how long a managed prompt is used before Langfuse is
	// asked again (langfuse.DefaultPromptTTL if 0).
	PromptTTL time.Duration
}

// SeedGeneration are the generation options of the original chat app:
// max_tokens 500, temperature 0.3, top_k 0, top_p 0.75, no penalties.
func SeedGeneration() api.GenerationOptions {
	maxTokens, topK := 500, 0
	temperature, topP, zero := 0.3, 0.75, 0.0
	return api.GenerationOptions{
		MaxTokens: &maxTokens, Temperature: &temperature, TopK: &topK, TopP: &topP,
		FrequencyPenalty: &zero, PresencePenalty: &zero,
	}
}

// AskInput is one question with what only a trusted, in-process caller
// may set (the command line); [App.Ask] is the HTTP server's form.
type AskInput struct {
	api.AskRequest
	// User owns the answer, its conversation and its feedback.
	User string
	// SessionID groups the traces of one chat; empty: the conversation's
	// id, or a fresh one.
	SessionID string
	// QueryID is echoed in the answer (batch mode).
	QueryID json.RawMessage
	// PromptTemplate overrides the prompt with a template read by the
	// caller from a file (the HTTP API never accepts a file path).
	PromptTemplate *answer.Prompt
	// Standalone answers without creating or extending a conversation
	// (`kura ask`): the answer is still recorded for feedback and traces.
	Standalone bool
}

// Ask answers a question for user: the HTTP server's entry point (see
// server.Answerer). It emits an [api.Meta], an [api.SourcesEvent], then
// [api.Delta], [api.Citation] and [api.Notice] events, and returns the
// finished answer.
func (a *App) Ask(ctx context.Context, user string, req api.AskRequest, emit func(api.Event) error) (api.Answer, error) {
	return a.AskWith(ctx, AskInput{AskRequest: req, User: user}, emit)
}

// AskWith answers one question (see [App.Ask]).
func (a *App) AskWith(ctx context.Context, in AskInput, emit func(api.Event) error) (out api.Answer, err error) {
	start := time.Now()
	if emit == nil {
		emit = func(api.Event) error { return nil }
	}
	req := in.AskRequest
	if err := req.Validate(); err != nil {
		return out, err
	}
	if in.User == "" {
		in.User = "default"
	}
	c, err := a.collection(ctx, req.Collection)
	if err != nil {
		return out, err
	}
	client, err := a.llmClient(req.LLM, req.Model)
	if err != nil {
		return out, err
	}
	asked := req.GenerationOptions
	var ignored []string
	if req.IgnoreUnsupported {
		asked, ignored = supportedOnly(client.Info(), asked)
	}
	gen, err := a.generationOptions(client.Info(), asked)
	if err != nil {
		return out, err
	}
	prompt, system, promptRef, promptLabel, err := a.prompt(ctx, in)
	if err != nil {
		return out, err
	}
	var fallback llm.Client
	switch firstNonEmpty(req.Fallback, a.opts.Answers.Fallback, api.FallbackNone) {
	case api.FallbackExtractive:
		if !client.Info().Extractive {
			fallback = a.extractive()
		}
	}

	// The conversation this question continues.
	conv, turns, err := a.conversation(ctx, in)
	if err != nil {
		return out, err
	}
	// A new conversation is named now, so that the first event can tell
	// the client; it is stored with the answer.
	newConv := conv.ID == "" && a.hist != nil && !in.Standalone && len(req.History) == 0
	if newConv {
		conv.ID = history.NewID()
	}
	session := firstNonEmpty(in.SessionID, conv.ID, newID("ses_"))

	retr, searchType, err := c.retriever(withOutputFields(req.SearchOptions, answer.OutputFields), 0)
	if err != nil {
		return out, err
	}
	var genSpan string
	stage, err := answer.New(answer.Options{
		LLM: tracedClient{client, promptRef, &genSpan}, Fallback: tracedClientOrNil(fallback), Retriever: retr,
		ContextChars: firstPositive(req.ContextChars, a.opts.Answers.ContextChars),
		Prompt:       prompt, System: system, Model: req.Model, Generation: gen,
		HistoryTurns: a.opts.Answers.HistoryTurns, NoRewrite: a.opts.Answers.NoRewrite,
	})
	if err != nil {
		return out, classifyLLMError(err)
	}

	id := newID("ans_")
	ctx, root := a.opts.Tracing.StartAsk(ctx, tracing.Trace{Name: "ask", SessionID: session, UserID: in.User},
		tracing.Ask{Question: req.Question, Collection: c.coll.Name()})
	defer func() {
		root.End(tracing.AskOutcome{AnswerID: id, Answer: out.Answer, NotFound: out.NotFound, Sources: len(out.Sources)}, err)
	}()

	// Follow-up rewriting and retrieval, each its own span.
	timings := answer.Timings{}
	t := time.Now()
	rctx, rspan := tracing.StartRewrite(ctx, req.Question, len(turns))
	standalone, _, rewriteNotice := stage.Rewrite(rctx, req.Question, turns)
	if len(turns) > 0 {
		rspan.End(standalone, nil)
	}
	timings.RewriteMS = ms(time.Since(t))
	var notices []answer.Notice
	if len(ignored) > 0 {
		notices = append(notices, answer.Notice{Code: api.NoticeOptionsIgnored,
			Message: fmt.Sprintf("%s does not take %s; ignored", client.Info().Provider, strings.Join(ignored, ", "))})
	}
	if rewriteNotice != nil {
		notices = append(notices, *rewriteNotice)
	}

	meta := api.Meta{ID: id, TraceID: tracing.TraceID(ctx), ConversationID: conv.ID, Collection: c.coll.Name(),
		Question: req.Question, LLM: client.Info().Provider, Model: firstNonEmpty(req.Model, client.Info().Model),
		Extractive: client.Info().Extractive}
	if standalone != req.Question {
		meta.RewrittenQuestion = standalone
	}
	recorded := false
	if newConv {
		// The client now knows the conversation: it must exist even if
		// this answer fails and is not recorded, so that the next
		// question can continue it.
		defer func() {
			if !recorded {
				if _, cerr := a.hist.CreateConversationID(context.WithoutCancel(ctx), in.User, conv.ID, titleOf(req.Question)); cerr != nil {
					a.notify(fmt.Sprintf("warning: the conversation was not saved: %v", cerr))
				}
			}
		}()
	}
	if err := emit(meta); err != nil {
		return out, err
	}
	for _, n := range notices {
		if err := emit(api.Notice{Code: n.Code, Message: n.Message}); err != nil {
			return out, err
		}
	}

	t = time.Now()
	sctx, sspan := tracing.StartRetrieve(ctx, tracing.Retrieval{
		Collection: c.coll.Name(), SearchType: searchType, Query: standalone, K: retr.Cfg.Limit,
		FetchK: retr.Cfg.FetchK, Lambda: req.Lambda, Threshold: req.ScoreThreshold, Filter: retr.Cfg.Filter})
	if retr.Emb != nil {
		retr.Emb = tracedEmbedder{retr.Emb}
	}
	hits, err := retr.Search(sctx, []string{standalone})
	if err != nil {
		sspan.End(nil, err)
		return out, searchError(c.check(err))
	}
	sspan.End(hits[0], nil)
	timings.RetrieveMS = ms(time.Since(t))

	ans, genErr := stage.AnswerRetrieved(ctx, answer.Retrieved{
		Question: req.Question, Standalone: standalone, History: turns, Hits: hits[0],
		Notices: notices, Timings: timings, Start: start,
	}, func(ev answer.Event) error { return emitAnswerEvent(ev, emit) })
	if ans == nil {
		return out, classifyLLMError(genErr)
	}
	out = toAPIAnswer(ans, meta)
	out.QueryID = in.QueryID
	out.Created = start.UTC()
	if genErr != nil && out.Answer == "" && !errors.Is(genErr, llm.ErrUnavailable) {
		// Nothing was shown (a rejected key, a bad request): the error is
		// the answer; nothing is recorded.
		return out, classifyLLMError(genErr)
	}
	if genErr != nil && errors.Is(genErr, llm.ErrStreamCut) {
		out.Notices = append(out.Notices, api.Notice{Code: api.NoticeStreamCut, Message: genErr.Error()})
	}
	a.record(ctx, in, &out, conv, newConv, session, promptLabel, genSpan, gen, genErr)
	recorded = true
	if genErr != nil && !errors.Is(genErr, llm.ErrUnavailable) && !errors.Is(genErr, llm.ErrStreamCut) {
		return out, classifyLLMError(genErr)
	}
	return out, nil
}

// withOutputFields returns o asking for fields.
func withOutputFields(o api.SearchOptions, fields []string) api.SearchOptions {
	o.OutputFields = fields
	return o
}

// emitAnswerEvent translates one event of the answer stage into the wire
// events a stream carries. The stage's own sources and done events are
// sent by the caller in wire form (sources with their hits; done by the
// server from the returned answer).
func emitAnswerEvent(ev answer.Event, emit func(api.Event) error) error {
	switch ev.Type {
	case answer.EventSources:
		return emit(api.SourcesEvent{Sources: toAPISources(ev.Sources)})
	case answer.EventDelta:
		return emit(api.Delta{Text: ev.Delta})
	case answer.EventCitations:
		for _, c := range ev.Citations {
			if err := emit(toAPICitation(c)); err != nil {
				return err
			}
		}
	case answer.EventNotice:
		if ev.Notice != nil {
			return emit(api.Notice{Code: ev.Notice.Code, Message: ev.Notice.Message})
		}
	}
	return nil
}

func toAPISources(src []answer.Source) []api.Source {
	out := make([]api.Source, len(src))
	for i, s := range src {
		ent := map[string]any{"text": s.Text}
		for k, v := range s.Fields {
			ent[k] = v
		}
		if s.Source != "" {
			ent["source"] = s.Source
		}
		if s.Title != "" {
			ent["title"] = s.Title
		}
		if len(s.Chunks) > 0 && s.Chunks[0].Index != nil {
			ent["chunk_index"] = *s.Chunks[0].Index
		}
		out[i] = api.Source{N: s.N, Hit: api.Hit{ID: s.ID, Score: s.Score, Entity: ent}}
	}
	return out
}

func toAPICitation(c answer.Citation) api.Citation {
	out := api.Citation{N: c.N, ID: c.ID, Source: c.Source, Title: c.Title, Text: c.Text}
	if c.ChunkIndex != nil {
		out.ChunkIndex = *c.ChunkIndex
	}
	return out
}

func toAPIAnswer(ans *answer.Answer, meta api.Meta) api.Answer {
	out := api.Answer{
		ID: meta.ID, TraceID: meta.TraceID, ConversationID: meta.ConversationID, Collection: meta.Collection,
		Question: ans.Question, Answer: ans.Text, Citations: make([]api.Citation, 0, len(ans.Citations)),
		RemovedCitations: ans.RemovedCitations, Sources: toAPISources(ans.Sources),
		LLM: ans.Provider, Model: ans.Model, Extractive: ans.Extractive, NotFound: ans.NotFound,
		Usage: api.Usage(ans.Usage),
		Timings: api.Timings{RewriteMS: ans.Timings.RewriteMS, RetrieveMS: ans.Timings.RetrieveMS,
			FirstTokenMS: ans.Timings.FirstTokenMS, TotalMS: ans.Timings.TotalMS},
	}
	if ans.Rewritten {
		out.RewrittenQuestion = ans.Standalone
	}
	if out.LLM == "" {
		out.LLM, out.Model, out.Extractive = meta.LLM, meta.Model, meta.Extractive
	}
	for _, c := range ans.Citations {
		out.Citations = append(out.Citations, toAPICitation(c))
	}
	for _, n := range ans.Notices {
		out.Notices = append(out.Notices, api.Notice{Code: n.Code, Message: n.Message})
	}
	return out
}

// llmClient returns the client for provider and model ("" for the App's
// defaults), made once and shared.
func (a *App) llmClient(provider, model string) (llm.Client, error) {
	provider = strings.ToLower(firstNonEmpty(provider, a.opts.Answers.LLM, llm.ProviderExtractive))
	if provider == llm.ProviderExtractive {
		return a.extractive(), nil
	}
	if model == "" && strings.EqualFold(provider, a.opts.Answers.LLM) {
		model = a.opts.Answers.Model
	}
	key := provider + "\x00" + model
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.llms == nil {
		a.llms = map[string]llm.Client{}
	}
	if c := a.llms[key]; c != nil {
		return c, nil
	}
	cfg := a.opts.Answers.LLMConfig
	cfg.Provider, cfg.Model = provider, model
	cfg.Endpoint = a.opts.Providers.Endpoints[provider]
	switch provider {
	case llm.ProviderCohere:
		cfg.APIKey = a.opts.Providers.CohereKey
	case llm.ProviderOpenAI:
		cfg.APIKey = a.opts.Providers.OpenAIKey
	case llm.ProviderOCI:
		cfg.OCI = a.opts.Providers.OCI
	}
	if cfg.OnRetry == nil {
		cfg.OnRetry = func(attempt int, err error, wait time.Duration) {
			a.notify(fmt.Sprintf("%v; retrying in %.1fs (attempt %d)", err, wait.Seconds(), attempt+1))
		}
	}
	c, err := llm.New(cfg)
	if err != nil {
		return nil, api.Wrap(api.CodeInvalidRequest, "llm", err)
	}
	a.llms[key] = c
	return c, nil
}

// extractive is the offline answerer.
func (a *App) extractive() llm.Client {
	a.extractiveOnce.Do(func() { a.extractiveClient = extractive.New(extractive.Options{}) })
	return a.extractiveClient
}

// generationOptions are the options sent to a provider: the request's
// own, checked against what the provider honours, over the App's defaults
// for the options it honours.
func (a *App) generationOptions(info llm.Info, req api.GenerationOptions) (llm.Options, error) {
	explicit := toLLMOptions(req)
	if err := llm.Check(info, explicit); err != nil {
		return llm.Options{}, api.Wrap(api.CodeInvalidRequest, "llm", err)
	}
	def := SeedGeneration()
	if a.opts.Answers.Generation != nil {
		def = *a.opts.Answers.Generation
	}
	defaults := toLLMOptions(def)
	honoured := map[string]bool{}
	for _, n := range info.Options {
		honoured[n] = true
	}
	out := explicit
	if out.MaxTokens == nil && honoured[llm.OptMaxTokens] {
		out.MaxTokens = defaults.MaxTokens
	}
	if out.Temperature == nil && honoured[llm.OptTemperature] {
		out.Temperature = defaults.Temperature
	}
	if out.TopK == nil && honoured[llm.OptTopK] {
		out.TopK = defaults.TopK
	}
	if out.TopP == nil && honoured[llm.OptTopP] {
		out.TopP = defaults.TopP
	}
	if out.FrequencyPenalty == nil && honoured[llm.OptFrequencyPenalty] {
		out.FrequencyPenalty = defaults.FrequencyPenalty
	}
	if out.PresencePenalty == nil && honoured[llm.OptPresencePenalty] {
		out.PresencePenalty = defaults.PresencePenalty
	}
	if out.Seed == nil && honoured[llm.OptSeed] {
		out.Seed = defaults.Seed
	}
	if out.Stop == nil && honoured[llm.OptStop] {
		out.Stop = defaults.Stop
	}
	return out, nil
}

// supportedOnly keeps the options of o that the model described by info
// takes, and names the others.
func supportedOnly(info llm.Info, o api.GenerationOptions) (api.GenerationOptions, []string) {
	takes := map[string]bool{}
	for _, n := range info.Options {
		takes[n] = true
	}
	var dropped []string
	drop := func(name string, set bool, clear func()) {
		if set && !takes[name] {
			dropped = append(dropped, name)
			clear()
		}
	}
	drop(llm.OptMaxTokens, o.MaxTokens != nil, func() { o.MaxTokens = nil })
	drop(llm.OptTemperature, o.Temperature != nil, func() { o.Temperature = nil })
	drop(llm.OptTopK, o.TopK != nil, func() { o.TopK = nil })
	drop(llm.OptTopP, o.TopP != nil, func() { o.TopP = nil })
	drop(llm.OptFrequencyPenalty, o.FrequencyPenalty != nil, func() { o.FrequencyPenalty = nil })
	drop(llm.OptPresencePenalty, o.PresencePenalty != nil, func() { o.PresencePenalty = nil })
	drop(llm.OptSeed, o.Seed != nil, func() { o.Seed = nil })
	drop(llm.OptStop, o.Stop != nil, func() { o.Stop = nil })
	return o, dropped
}

func toLLMOptions(o api.GenerationOptions) llm.Options {
	return llm.Options{MaxTokens: o.MaxTokens, Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP,
		FrequencyPenalty: o.FrequencyPenalty, PresencePenalty: o.PresencePenalty, Seed: o.Seed, Stop: o.Stop}
}

// conversation loads the conversation a question continues: the stored
// one named by ConversationID, the turns a stateless client sent in
// History, or a new one (unless the question stands alone).
func (a *App) conversation(ctx context.Context, in AskInput) (history.Conversation, []answer.Turn, error) {
	req := in.AskRequest
	if len(req.History) > 0 {
		return history.Conversation{}, turnsFromMessages(req.History), nil
	}
	if a.hist == nil || in.Standalone {
		return history.Conversation{}, nil, nil
	}
	if req.ConversationID == "" {
		return history.Conversation{}, nil, nil // created when the answer is recorded
	}
	conv, err := a.hist.Conversation(ctx, in.User, req.ConversationID)
	if err != nil {
		return conv, nil, historyError(err, "conversation_id")
	}
	turns := make([]answer.Turn, len(conv.Turns))
	for i, t := range conv.Turns {
		turns[i] = answer.Turn{Question: t.Question, Standalone: t.Rewritten, Answer: t.Answer}
	}
	return conv, turns, nil
}

// turnsFromMessages pairs a stateless client's messages into turns: each
// user message with the assistant message after it. System messages are
// the client's own instructions and are not answers; they are left out.
func turnsFromMessages(msgs []api.Message) []answer.Turn {
	var turns []answer.Turn
	for _, m := range msgs {
		switch m.Role {
		case api.RoleUser:
			turns = append(turns, answer.Turn{Question: m.Content})
		case api.RoleAssistant:
			if len(turns) == 0 || turns[len(turns)-1].Answer != "" {
				turns = append(turns, answer.Turn{})
			}
			turns[len(turns)-1].Answer = m.Content
		}
	}
	return turns
}

// record keeps the answer in the history (for feedback and the trace
// view) and adds it to its conversation, creating one for a new chat.
// Failing to record is reported, never fatal: the user has the answer.
func (a *App) record(ctx context.Context, in AskInput, out *api.Answer, conv history.Conversation, newConv bool, session, prompt, genSpan string, gen llm.Options, genErr error) {
	if a.hist == nil {
		return
	}
	if newConv {
		if _, err := a.hist.CreateConversationID(ctx, in.User, conv.ID, titleOf(in.Question)); err != nil {
			a.notify(fmt.Sprintf("warning: the conversation was not saved: %v", err))
			conv.ID, out.ConversationID = "", ""
		}
	}
	rec := history.AnswerRecord{
		ID: out.ID, TraceID: out.TraceID, GenerationSpanID: genSpan, ConversationID: out.ConversationID, SessionID: session,
		User: in.User, Collection: out.Collection, Question: out.Question, Rewritten: out.RewrittenQuestion,
		Answer: out.Answer, LLM: out.LLM, Model: out.Model, Prompt: prompt, Options: gen.Map(),
		Usage:    history.Usage(out.Usage),
		Timings:  history.Timings{RewriteMS: out.Timings.RewriteMS, RetrieveMS: out.Timings.RetrieveMS, FirstTokenMS: out.Timings.FirstTokenMS, TotalMS: out.Timings.TotalMS},
		NotFound: out.NotFound, Created: out.Created,
	}
	if genErr != nil {
		rec.Error = genErr.Error()
	}
	for _, s := range out.Sources {
		src := history.Source{N: s.N, ID: s.ID, Score: float64(s.Score)}
		src.Source, _ = s.Entity["source"].(string)
		src.Title, _ = s.Entity["title"].(string)
		src.ChunkIndex = intField(s.Entity["chunk_index"])
		rec.Sources = append(rec.Sources, src)
	}
	for _, c := range out.Citations {
		rec.Citations = append(rec.Citations, history.Citation(c))
	}
	if err := a.hist.PutAnswer(ctx, rec); err != nil {
		a.notify(fmt.Sprintf("warning: the answer was not recorded (feedback on it will not be possible): %v", err))
		return
	}
	if conv.ID != "" {
		if _, err := a.hist.AppendTurn(ctx, in.User, conv.ID, history.Turn{
			Question: out.Question, Rewritten: out.RewrittenQuestion, Answer: out.Answer, AnswerID: out.ID, Created: out.Created,
		}); err != nil {
			a.notify(fmt.Sprintf("warning: the turn was not added to conversation %s: %v", conv.ID, err))
		}
	}
}

func intField(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}

// titleOf is a new conversation's title: its first question, shortened.
func titleOf(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	r := []rune(q)
	if len(r) > 60 {
		return string(r[:59]) + "…"
	}
	return q
}

// classifyLLMError maps the generation errors a caller can act on to wire
// codes, keeping the error for errors.Is.
func classifyLLMError(err error) error {
	var ae *api.Error
	switch {
	case err == nil || errors.As(err, &ae):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, llm.ErrAuth):
		return api.Wrap(api.CodeUpstream, "llm", err)
	case errors.Is(err, llm.ErrUnsupportedOption), errors.Is(err, llm.ErrConfig), errors.Is(err, answer.ErrConfig), errors.Is(err, answer.ErrPrompt):
		return api.Wrap(api.CodeInvalidRequest, "llm", err)
	case errors.Is(err, llm.ErrUnavailable):
		return api.Wrap(api.CodeUnavailable, "llm", err)
	case errors.Is(err, answer.ErrQuestion):
		return api.Wrap(api.CodeInvalidRequest, "question", err)
	}
	return err
}

// newID returns prefix and 16 random hex digits.
func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstPositive(n ...int) int {
	for _, v := range n {
		if v > 0 {
			return v
		}
	}
	return 0
}

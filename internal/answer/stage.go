package answer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kura-rag/kura/internal/answer/lang"
	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/store"
)

// Retriever finds the chunks that answer questions, best first, one list
// per query. *retrieve.Retriever is one; configure it with [OutputFields]
// so the hits carry the fields the sources are built from.
type Retriever interface {
	Search(ctx context.Context, queries []string) ([][]store.Hit, error)
}

// Options configure a [Stage]. Zero values mean the documented defaults.
type Options struct {
	// LLM writes the answers; required.
	LLM llm.Client
	// Fallback, if set, answers when LLM cannot be reached
	// (llm.ErrUnavailable before the first piece): usually the extractive
	// answerer, so the user still gets an answer from the sources.
	Fallback llm.Client
	// Retriever finds the sources; required.
	Retriever Retriever
	// ContextChars is the budget of source text in the prompt, in
	// characters (DefaultContextChars if 0).
	ContextChars int
	// Prompt is the user prompt template; nil uses the built-in prompt
	// of the question's language.
	Prompt *Prompt
	// System is the system prompt (preamble); empty uses the built-in
	// one of the question's language, which holds the rules: answer from
	// the sources only, say when they do not hold the answer, cite [n],
	// treat the sources as data.
	System string
	// Model overrides the client's model; empty keeps it.
	Model string
	// Generation are the generation options; every option set must be
	// one the model honours (checked by [New]).
	Generation llm.Options
	// HistoryTurns is how many earlier turns of a conversation are sent
	// to the model with the question (3 if 0; negative sends none).
	HistoryTurns int
	// NoRewrite keeps follow-up questions as they are for retrieval.
	NoRewrite bool
}

// DefaultHistoryTurns is how many earlier turns go to the model.
const DefaultHistoryTurns = 3

// Stage is the answer stage: retrieve → assemble the sources → prompt →
// stream the answer → check its citations. It is safe for concurrent use;
// each [Stage.Ask] is independent.
type Stage struct {
	o Options
}

// New checks o and returns a stage.
func New(o Options) (*Stage, error) {
	if o.LLM == nil {
		return nil, fmt.Errorf("%w: no language model", ErrConfig)
	}
	if o.Retriever == nil {
		return nil, fmt.Errorf("%w: no retriever", ErrConfig)
	}
	if err := llm.Check(o.LLM.Info(), o.Generation); err != nil {
		return nil, err
	}
	if o.ContextChars <= 0 {
		o.ContextChars = DefaultContextChars
	}
	if o.HistoryTurns == 0 {
		o.HistoryTurns = DefaultHistoryTurns
	}
	return &Stage{o: o}, nil
}

// Turn is one earlier exchange of a conversation.
type Turn struct {
	Question string `json:"question"`
	// Standalone is the question as it was rewritten for retrieval;
	// empty means the question itself.
	Standalone string `json:"standalone,omitempty"`
	Answer     string `json:"answer"`
}

// Request is one question, with the conversation before it.
type Request struct {
	Question string
	// History holds the earlier turns, oldest first.
	History []Turn
}

// EventType names the kind of an [Event]; a server can use it as the
// Server-Sent Events "event:" name.
type EventType string

const (
	// EventSources comes first: the question retrieval used and the
	// numbered sources.
	EventSources EventType = "sources"
	// EventNotice tells something the user should know (not found, the
	// model unreachable, citations removed); it can come at any point.
	EventNotice EventType = "notice"
	// EventDelta is a piece of the answer text, citation markers checked.
	EventDelta EventType = "delta"
	// EventCitations lists the checked citations, after the text.
	EventCitations EventType = "citations"
	// EventDone comes last, with the whole answer, usage and timings.
	EventDone EventType = "done"
)

// Event is one step of a streamed answer. Exactly the fields of its type
// are set.
type Event struct {
	Type EventType `json:"type"`
	// Question is the question retrieval used (sources event); Rewritten
	// says it was rewritten from a follow-up.
	Question  string     `json:"question,omitempty"`
	Rewritten bool       `json:"rewritten,omitempty"`
	Sources   []Source   `json:"sources,omitempty"`
	Notice    *Notice    `json:"notice,omitempty"`
	Delta     string     `json:"delta,omitempty"`
	Citations []Citation `json:"citations,omitempty"`
	Answer    *Answer    `json:"answer,omitempty"`
}

// Notice codes.
const (
	// NoticeNotFound: retrieval found nothing; no model was asked.
	NoticeNotFound = "not_found"
	// NoticeUnavailable: the language model could not be reached; the
	// sources (and the fallback's answer, if any) are all there is.
	NoticeUnavailable = "llm_unavailable"
	// NoticeFallback: the answer that follows comes from the fallback
	// answerer, sent before its text so a client can label it first.
	NoticeFallback = "fallback"
	// NoticeCitationsRemoved: the answer cited sources that were not
	// given; those markers were removed.
	NoticeCitationsRemoved = "citations_removed"
	// NoticeRewriteFailed: a follow-up could not be rewritten by the
	// model; its terms were carried over instead.
	NoticeRewriteFailed = "rewrite_failed"
)

// Notice is something to tell the user beside the answer.
type Notice struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Timings of one answer, in milliseconds.
type Timings struct {
	// RewriteMS is the time spent rewriting a follow-up question.
	RewriteMS float64 `json:"rewrite_ms"`
	// RetrieveMS is the retrieval's time.
	RetrieveMS float64 `json:"retrieve_ms"`
	// PrepareMS is kura's own time between retrieval and sending the
	// request: assembling the sources and rendering the prompt.
	PrepareMS float64 `json:"prepare_ms"`
	// FirstTokenMS is the time from the question to the first piece of
	// answer text shown; TotalMS to the end.
	FirstTokenMS float64 `json:"first_token_ms"`
	TotalMS      float64 `json:"total_ms"`
}

// Answer is a finished answer.
type Answer struct {
	// Question is the question as asked; Standalone the one retrieval
	// used (different when a follow-up was rewritten).
	Question   string        `json:"question"`
	Standalone string        `json:"standalone"`
	Rewritten  bool          `json:"rewritten"`
	Language   lang.Language `json:"language"`
	// Text is the answer, with checked citation markers [n] and nothing
	// else: no labels, no source list.
	Text      string     `json:"text"`
	Citations []Citation `json:"citations"`
	// Sources are the numbered sources the model was given; Hits the
	// retrieval's results they were built from, as search returns them.
	Sources []Source    `json:"sources"`
	Hits    []store.Hit `json:"hits"`
	// NotFound is true when retrieval found nothing and no model was
	// asked; Text then says so in the question's language.
	NotFound bool `json:"not_found"`
	// Provider and Model name what wrote the answer; Extractive is true
	// when it was extracted from the sources rather than generated;
	// Fallback when the fallback answered because the model could not
	// be reached.
	Provider   string `json:"llm"`
	Model      string `json:"model,omitempty"`
	Extractive bool   `json:"extractive"`
	Fallback   bool   `json:"fallback,omitempty"`
	// RemovedCitations counts source numbers cited in the text that
	// named no given source; they were removed from Text.
	RemovedCitations int       `json:"removed_citations"`
	Notices          []Notice  `json:"notices,omitempty"`
	Usage            llm.Usage `json:"usage"`
	FinishReason     string    `json:"finish_reason,omitempty"`
	Timings          Timings   `json:"timings"`
}

// NotFoundMessage is the answer when retrieval found nothing.
func NotFoundMessage(l lang.Language) string {
	if l == lang.Japanese {
		return "資料の中に、この質問に関する情報は見つかりませんでした。"
	}
	return "I could not find anything about this in the documents."
}

// Ask answers one question: it rewrites a follow-up into a standalone
// question, retrieves, assembles the sources, streams the model's answer
// through emit (sources first, then text deltas, then the checked
// citations, then the finished answer; notices at any point) and returns
// the answer.
//
// When retrieval finds nothing, the answer says so and no model is asked.
// When the model cannot be reached the sources still come, with a notice,
// and the fallback's answer if one is configured; without one Ask returns
// the answer so far and an error wrapping llm.ErrUnavailable. Whenever
// retrieval succeeded the returned answer is non-nil, even with an error
// (a stream cut mid-answer keeps the text already shown). An error from
// emit stops the answer and is returned.
func (s *Stage) Ask(ctx context.Context, req Request, emit func(Event) error) (*Answer, error) {
	start := time.Now()
	if emit == nil {
		emit = func(Event) error { return nil }
	}
	q := strings.TrimSpace(req.Question)
	if q == "" {
		return nil, ErrQuestion
	}
	a := &Answer{Question: q, Language: lang.Detect(q)}

	t := time.Now()
	standalone, rewritten, notice := s.Rewrite(ctx, q, req.History)
	a.Standalone, a.Rewritten = standalone, rewritten
	a.Timings.RewriteMS = ms(time.Since(t))
	if notice != nil {
		a.Notices = append(a.Notices, *notice)
		if err := emit(Event{Type: EventNotice, Notice: notice}); err != nil {
			return a, err
		}
	}

	t = time.Now()
	hits, err := s.o.Retriever.Search(ctx, []string{standalone})
	a.Timings.RetrieveMS = ms(time.Since(t))
	if err != nil {
		return nil, fmt.Errorf("retrieving sources: %w", err)
	}
	if len(hits) > 0 {
		a.Hits = hits[0]
	}
	return s.answer(ctx, a, req.History, start, emit)
}

// AnswerHits answers like [Stage.Ask] from hits already retrieved for the
// question (no rewriting, no retrieval).
func (s *Stage) AnswerHits(ctx context.Context, question string, history []Turn, hits []store.Hit, emit func(Event) error) (*Answer, error) {
	return s.AnswerRetrieved(ctx, Retrieved{Question: question, History: history, Hits: hits}, emit)
}

// Retrieved is a question whose follow-up rewriting and retrieval the
// caller did itself (to trace or time them apart), with what they gave.
type Retrieved struct {
	// Question is the question as asked; Standalone the one retrieval
	// used ("" means Question).
	Question   string
	Standalone string
	History    []Turn
	Hits       []store.Hit
	// Notices from rewriting (e.g. NoticeRewriteFailed) are kept with the
	// answer; Timings' rewrite and retrieve times are the caller's.
	Notices []Notice
	Timings Timings
	// Start is when the question arrived (now if zero), the origin of
	// the first-token and total times.
	Start time.Time
}

// AnswerRetrieved answers like [Stage.Ask] once the caller has rewritten
// and retrieved: it assembles the sources, streams the answer and checks
// its citations. Notices in r are not emitted again.
func (s *Stage) AnswerRetrieved(ctx context.Context, r Retrieved, emit func(Event) error) (*Answer, error) {
	start := r.Start
	if start.IsZero() {
		start = time.Now()
	}
	if emit == nil {
		emit = func(Event) error { return nil }
	}
	q := strings.TrimSpace(r.Question)
	if q == "" {
		return nil, ErrQuestion
	}
	standalone := strings.TrimSpace(r.Standalone)
	if standalone == "" {
		standalone = q
	}
	a := &Answer{Question: q, Standalone: standalone, Rewritten: standalone != q, Language: lang.Detect(q),
		Hits: r.Hits, Notices: r.Notices, Timings: r.Timings}
	return s.answer(ctx, a, r.History, start, emit)
}

func (s *Stage) answer(ctx context.Context, a *Answer, history []Turn, start time.Time, emit func(Event) error) (*Answer, error) {
	if a.Hits == nil {
		a.Hits = []store.Hit{}
	}
	a.Citations = []Citation{}
	t := time.Now()
	p, err := s.prepare(a.Question, a.Standalone, history, a.Hits, s.o.LLM, false)
	if err != nil {
		return a, err
	}
	a.Timings.PrepareMS = ms(time.Since(t))
	a.Sources = p.Sources
	if a.Sources == nil {
		a.Sources = []Source{}
	}
	if err := emit(Event{Type: EventSources, Question: a.Standalone, Rewritten: a.Rewritten, Sources: a.Sources}); err != nil {
		return a, err
	}
	notice := func(code, msg string) error {
		n := Notice{Code: code, Message: msg}
		a.Notices = append(a.Notices, n)
		return emit(Event{Type: EventNotice, Notice: &n})
	}

	var genErr error
	if len(a.Sources) == 0 {
		a.NotFound = true
		a.Text = NotFoundMessage(a.Language)
		if err := notice(NoticeNotFound, "retrieval found no sources for the question; no language model was asked"); err != nil {
			return a, err
		}
		a.Timings.FirstTokenMS = ms(time.Since(start))
		if err := emit(Event{Type: EventDelta, Delta: a.Text}); err != nil {
			return a, err
		}
	} else {
		genErr = s.generate(ctx, a, s.o.LLM, p, start, emit)
		if errors.Is(genErr, llm.ErrUnavailable) && a.Text == "" {
			// The sources stand; the fallback, if any, answers from them.
			msg := fmt.Sprintf("the language model (%s) could not be reached: %v; showing the retrieved sources", s.o.LLM.Info().Provider, genErr)
			if s.o.Fallback != nil {
				msg += " and an answer extracted from them (" + s.o.Fallback.Info().Provider + ")"
			}
			if err := notice(NoticeUnavailable, msg); err != nil {
				return a, err
			}
			if s.o.Fallback != nil {
				fp, err := s.prepare(a.Question, a.Standalone, history, a.Hits, s.o.Fallback, true)
				if err != nil {
					return a, err
				}
				a.Fallback = true
				if err := notice(NoticeFallback, "the answer was extracted from the sources because the language model could not be reached"); err != nil {
					return a, err
				}
				genErr = s.generate(ctx, a, s.o.Fallback, fp, start, emit)
			}
		}
		var ee *emitError
		switch {
		case errors.As(genErr, &ee):
			return a, ee.err
		case genErr != nil && a.Text == "" && !errors.Is(genErr, llm.ErrUnavailable):
			// Nothing was shown (a rejected key, a bad request): the
			// error is the answer.
			return a, genErr
		}
		if a.RemovedCitations > 0 {
			if err := notice(NoticeCitationsRemoved, fmt.Sprintf("the answer cited %d source number(s) that were not among the %d sources given; they were removed", a.RemovedCitations, len(a.Sources))); err != nil {
				return a, err
			}
		}
	}
	if err := emit(Event{Type: EventCitations, Citations: a.Citations}); err != nil {
		return a, err
	}
	a.Timings.TotalMS = ms(time.Since(start))
	if err := emit(Event{Type: EventDone, Answer: a}); err != nil {
		return a, err
	}
	return a, genErr
}

// emitError is an error of the caller's emit function, which ends the
// answer at once: the caller is gone.
type emitError struct{ err error }

func (e *emitError) Error() string { return e.err.Error() }
func (e *emitError) Unwrap() error { return e.err }

// generate streams one generation into a, checking citations as the text
// goes, and completes a's text, citations and usage. An error of emit
// comes back as an *emitError.
func (s *Stage) generate(ctx context.Context, a *Answer, client llm.Client, p *Prepared, start time.Time, emit func(Event) error) error {
	info := client.Info()
	a.Provider, a.Model, a.Extractive = info.Provider, info.Model, info.Extractive
	if p.Request.Model != "" {
		a.Model = p.Request.Model
	}
	f := newMarkerFilter(len(p.Sources))
	var native []llm.Citation
	var emitErr *emitError
	show := func(text string) error {
		if text == "" {
			return nil
		}
		if a.Timings.FirstTokenMS == 0 {
			a.Timings.FirstTokenMS = ms(time.Since(start))
		}
		if err := emit(Event{Type: EventDelta, Delta: text}); err != nil {
			emitErr = &emitError{err}
			return emitErr
		}
		return nil
	}
	res, err := client.Stream(ctx, p.Request, func(ev llm.Event) error {
		if ev.Citation != nil {
			native = append(native, *ev.Citation)
		}
		return show(f.write(ev.Delta))
	})
	if emitErr != nil {
		return emitErr
	}
	if err := show(f.flush()); err != nil {
		return err
	}
	a.Text = f.text()
	if res.Model != "" {
		a.Model = res.Model
	}
	a.Usage, a.FinishReason = res.Usage, res.FinishReason
	if len(native) == 0 {
		native = res.Citations
	}
	cites, removed := checkCitations(a.Text, f, native, p.Sources)
	a.Citations = cites
	a.RemovedCitations = f.removed + removed
	return err
}

// Prepared is what is sent to the model for one question.
type Prepared struct {
	Request llm.Request
	Assembly
}

// Prepare assembles the sources from hits and renders the prompt for
// question (the standalone question; original is what the user typed),
// as [Stage.Ask] does before it sends the request. Front ends use it to
// show the prompt; benchmarks to time kura's own overhead.
func (s *Stage) Prepare(question string, history []Turn, hits []store.Hit) (*Prepared, error) {
	return s.prepare(question, question, history, hits, s.o.LLM, false)
}

// prepare builds the request for client; fallback is true for the
// fallback client, which gets no model name or options of the main one.
func (s *Stage) prepare(original, question string, history []Turn, hits []store.Hit, client llm.Client, fallback bool) (*Prepared, error) {
	asm := Assemble(hits, s.o.ContextChars)
	p := &Prepared{Assembly: asm}
	info := client.Info()
	p.Request = llm.Request{Model: s.o.Model, Documents: documents(asm.Sources), Options: s.o.Generation}
	if fallback {
		p.Request.Model, p.Request.Options = "", llm.Options{}
	}
	if info.Extractive {
		// The extractive answerer reads the sources from Documents and
		// needs the bare question, not a prompt.
		p.Request.Messages = []llm.Message{{Role: llm.RoleUser, Content: question}}
		return p, nil
	}
	l := lang.Detect(original)
	system := s.o.System
	if system == "" {
		system = DefaultSystemPrompt(l, info.NativeCitations)
	}
	p.Request.System = system
	p.Request.Messages = append(p.Request.Messages, historyMessages(history, s.o.HistoryTurns)...)
	ctxText := ""
	if !info.NativeCitations || s.o.Prompt != nil {
		ctxText = FormatContext(asm.Sources)
	}
	vars := map[string]any{
		"question": question,
		"context":  ctxText,
		"sources":  promptSources(asm.Sources),
		"language": string(pick(l)),
		"history":  historyVars(history),
	}
	var (
		user string
		err  error
	)
	if s.o.Prompt != nil {
		user, err = s.o.Prompt.tpl.Render(vars)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPrompt, err)
		}
	} else {
		user, err = builtinUserTpl[pick(l)].Render(vars)
		if err != nil {
			panic(err) // the built-in templates are tested
		}
	}
	p.Request.Messages = append(p.Request.Messages, llm.Message{Role: llm.RoleUser, Content: user})
	return p, nil
}

// historyMessages are the last turns of a conversation as messages, the
// answers without their citation markers (their numbers named other
// sources) and shortened.
func historyMessages(history []Turn, turns int) []llm.Message {
	if turns < 0 {
		return nil
	}
	if len(history) > turns {
		history = history[len(history)-turns:]
	}
	var out []llm.Message
	for _, t := range history {
		out = append(out,
			llm.Message{Role: llm.RoleUser, Content: t.Question},
			llm.Message{Role: llm.RoleAssistant, Content: shorten(stripMarkers(t.Answer), maxHistoryAnswerChars)})
	}
	return out
}

const maxHistoryAnswerChars = 1000

func historyVars(history []Turn) []any {
	out := []any{}
	for _, t := range history {
		out = append(out,
			map[string]any{"role": "user", "content": t.Question},
			map[string]any{"role": "assistant", "content": stripMarkers(t.Answer)})
	}
	return out
}

// shorten cuts s to n characters, marking the cut.
func shorten(s string, n int) string {
	i := 0
	for k := range s {
		if i == n {
			return s[:k] + "…"
		}
		i++
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

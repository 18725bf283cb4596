package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/provider"
)

// Normalised finish reasons in [Result.FinishReason]; other reasons a
// provider reports are passed on lower-cased.
const (
	// FinishStop is a complete answer (Cohere COMPLETE, OpenAI and
	// Ollama stop, OCI COMPLETE or stop).
	FinishStop = "stop"
	// FinishLength is an answer cut by the max_tokens limit.
	FinishLength = "length"
	// FinishStopSequence is an answer ended by one of the stop sequences.
	FinishStopSequence = "stop_sequence"
)

// normalFinish maps a provider's finish reason onto the constants above.
func normalFinish(r string) string {
	switch strings.ToLower(r) {
	case "complete", "stop", "end_turn", "eos":
		return FinishStop
	case "max_tokens", "length":
		return FinishLength
	case "stop_sequence":
		return FinishStopSequence
	}
	return strings.ToLower(r)
}

// streamer runs the generations of one client: the retries before the
// first piece, the watchdog that bounds the wait for every event, and the
// mapping of failures onto this package's errors. Each provider supplies
// an attempt that sends the request and feeds the events it reads into an
// [answer].
type streamer struct {
	name  string
	retry *provider.Retrier
	first time.Duration // until the first event
	idle  time.Duration // between events
}

func newStreamer(name string, cfg Config) *streamer {
	first, idle := cfg.FirstTokenTimeout, cfg.IdleTimeout
	if first <= 0 {
		first = DefaultFirstTokenTimeout
	}
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	attempts := cfg.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	maxDelay := cfg.MaxDelay
	if maxDelay <= 0 {
		maxDelay = DefaultMaxDelay
	}
	return &streamer{name: name, first: first, idle: idle, retry: provider.NewRetrier(provider.Policy{
		Provider:  name,
		Attempts:  attempts,
		BaseDelay: cfg.BaseDelay,
		MaxDelay:  maxDelay,
		Timeout:   -1, // the watchdog bounds a stream, however long the answer
		RPS:       cfg.RPS,
		OnRetry:   cfg.OnRetry,
		Sleep:     cfg.sleep,
	})}
}

// attemptFunc sends the request once and feeds what it reads into a. It
// returns nil when the stream ended (a.done tells whether the provider
// said the answer was complete), or the failure, classified with
// [provider.Classify] or as a [provider.APIError].
type attemptFunc func(ctx context.Context, a *answer) error

// errEndedEarly is a stream that closed without the provider's end marker.
var errEndedEarly = errors.New("the stream ended before the provider marked the answer complete")

// run makes the generation: attempts until one succeeds, a failure is not
// retryable, or a piece has been emitted (after which any failure ends the
// stream with ErrStreamCut). On ErrStreamCut the Result holds what was
// emitted.
func (s *streamer) run(ctx context.Context, docs []Document, emit func(Event) error, attempt attemptFunc) (Result, error) {
	var a *answer
	err := s.retry.Do(ctx, func(actx context.Context) error {
		wctx, wd := provider.NewWatchdog(actx, s.first)
		defer wd.Stop()
		a = newAnswer(emit, wd, s.idle, docs)
		err := attempt(wctx, a)
		if err == nil && !a.done {
			err = errEndedEarly
		}
		if err == nil {
			return a.finishCitations()
		}
		switch {
		case a.emitErr != nil:
			return provider.Final(a.emitErr)
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case wd.Fired():
			wait := s.first
			if a.events > 0 {
				wait = s.idle
			}
			err = &provider.APIError{Provider: s.name, Retryable: true, Err: err,
				Msg: fmt.Sprintf("no event from the stream for %s", wait)}
		case errors.Is(err, errEndedEarly):
			err = &provider.APIError{Provider: s.name, Retryable: true, Err: err, Msg: err.Error()}
		}
		if a.started {
			return provider.Final(fmt.Errorf("%w after %d characters: %w", ErrStreamCut, utf8.RuneCount(a.text), err))
		}
		return err
	})
	var res Result
	if a != nil {
		res = a.result()
	}
	if err == nil {
		return res, nil
	}
	if a != nil && a.emitErr != nil && errors.Is(err, a.emitErr) {
		return res, a.emitErr
	}
	return res, s.sentinel(err)
}

// sentinel wraps a final failure in the error its caller acts on: a
// rejected key is ErrAuth, a provider that could not be reached or kept
// failing is ErrUnavailable, an unknown model or endpoint is ErrConfig.
// A cut stream and a cancelled context are returned as they are.
func (s *streamer) sentinel(err error) error {
	if errors.Is(err, ErrStreamCut) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ae *provider.APIError
	if errors.As(err, &ae) {
		switch {
		case ae.Rejected():
			return fmt.Errorf("%w: %w", ErrAuth, err)
		case ae.Retryable || ae.Status == 0:
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		case ae.Status == http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	return err
}

// answer accumulates one attempt: the text emitted so far, the provider's
// citations (kept in character offsets until the text they point into has
// arrived), usage and the finish reason.
type answer struct {
	emit    func(Event) error
	wd      *provider.Watchdog
	idle    time.Duration
	docs    []Document
	docIDs  map[string]bool
	text    []byte
	offsets []int // byte offset of each character of text
	events  int   // events received
	started bool  // a piece has been emitted
	done    bool  // the provider marked the answer complete
	emitErr error

	citations []Citation
	pending   []charCitation
	usage     Usage
	finish    string
	model     string
}

func newAnswer(emit func(Event) error, wd *provider.Watchdog, idle time.Duration, docs []Document) *answer {
	a := &answer{emit: emit, wd: wd, idle: idle, docs: docs}
	if len(docs) > 0 {
		a.docIDs = make(map[string]bool, len(docs))
		for _, d := range docs {
			a.docIDs[d.ID] = true
		}
	}
	return a
}

// received counts an event read from the stream and gives the next one
// the idle timeout.
func (a *answer) received() {
	a.events++
	a.wd.Kick(a.idle)
}

// delta emits a piece of the answer.
func (a *answer) delta(s string) error {
	if s == "" {
		return nil
	}
	if a.emitErr != nil {
		return a.emitErr
	}
	for i := range s { // i is the byte offset of each character
		a.offsets = append(a.offsets, len(a.text)+i)
	}
	a.text = append(a.text, s...)
	a.started = true
	if err := a.emit(Event{Delta: s}); err != nil {
		a.emitErr = err
		return err
	}
	return a.flushCitations(false)
}

// charCitation is a provider citation in character (code point) offsets,
// as Cohere counts them, with the provider's document references.
type charCitation struct {
	start, end int
	text       string
	refs       []string
}

// cite records a provider citation and emits it once the text it covers
// has arrived.
func (a *answer) cite(c charCitation) error {
	a.pending = append(a.pending, c)
	return a.flushCitations(false)
}

// flushCitations emits the pending citations whose span has arrived; at
// the end (final) all of them, resolved against the whole answer.
func (a *answer) flushCitations(final bool) error {
	kept := a.pending[:0]
	for _, c := range a.pending {
		if !final && c.end > len(a.offsets) {
			kept = append(kept, c)
			continue
		}
		cit, ok := a.resolve(c)
		if !ok {
			continue
		}
		a.citations = append(a.citations, cit)
		if a.emitErr == nil {
			if err := a.emit(Event{Citation: &a.citations[len(a.citations)-1]}); err != nil {
				a.emitErr = err
			}
		}
	}
	a.pending = kept
	return a.emitErr
}

func (a *answer) finishCitations() error { return a.flushCitations(true) }

// resolve turns a character-offset citation into byte offsets of the
// answer, checked against the cited text: when the offsets do not point
// at it (a provider counting differently), the nearest occurrence of the
// text is used; a citation whose text is nowhere in the answer is
// dropped. Document references are mapped onto Request.Documents' IDs.
func (a *answer) resolve(c charCitation) (Citation, bool) {
	byteAt := func(i int) int {
		switch {
		case i < 0:
			return 0
		case i >= len(a.offsets):
			return len(a.text)
		}
		return a.offsets[i]
	}
	start, end := byteAt(c.start), byteAt(c.end)
	if c.text != "" && (end < start || string(a.text[start:end]) != c.text) {
		at := nearest(string(a.text), c.text, start)
		if at < 0 {
			return Citation{}, false
		}
		start, end = at, at+len(c.text)
	}
	if end < start {
		return Citation{}, false
	}
	ids := a.documentIDs(c.refs)
	if len(ids) == 0 {
		return Citation{}, false
	}
	return Citation{Start: start, End: end, Text: string(a.text[start:end]), DocumentIDs: ids}, true
}

// nearest returns the byte offset of the occurrence of sub in s closest to
// near, or -1.
func nearest(s, sub string, near int) int {
	best := -1
	for from := 0; ; {
		i := strings.Index(s[from:], sub)
		if i < 0 {
			return best
		}
		i += from
		if best < 0 || abs(i-near) < abs(best-near) {
			best = i
		}
		from = i + 1
		if from >= len(s) {
			return best
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// documentIDs maps a provider's document references onto the IDs of
// Request.Documents, in order, without repeats. A reference is the ID
// kura sent, or Cohere's positional name for the n-th document
// ("doc_0", "doc:0", "doc-0") when it replaced the ID; anything else
// (tool results, documents kura did not send) is dropped.
func (a *answer) documentIDs(refs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range refs {
		id := r
		if !a.docIDs[id] {
			id = ""
			if n, ok := positional(r); ok && n < len(a.docs) {
				id = a.docs[n].ID
			}
		}
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func positional(ref string) (int, bool) {
	for _, p := range []string{"doc_", "doc:", "doc-"} {
		if rest, ok := strings.CutPrefix(ref, p); ok && rest != "" {
			n := 0
			for _, c := range rest {
				if c < '0' || c > '9' {
					return 0, false
				}
				n = n*10 + int(c-'0')
				if n > 1<<20 {
					return 0, false
				}
			}
			return n, true
		}
	}
	return 0, false
}

func (a *answer) result() Result {
	return Result{Text: string(a.text), Citations: a.citations, Usage: a.usage, FinishReason: a.finish, Model: a.model}
}

// validate checks what every provider needs of a request: the options
// info's provider takes ([Check]), then the messages and documents.
func validate(info Info, req Request) error {
	if err := Check(info, req.Options); err != nil {
		return err
	}
	if len(req.Messages) == 0 {
		return errors.New("the generation request has no messages")
	}
	for i, m := range req.Messages {
		switch m.Role {
		case RoleSystem, RoleUser, RoleAssistant:
		default:
			return fmt.Errorf("message %d has role %q; use system, user or assistant", i+1, m.Role)
		}
	}
	if last := req.Messages[len(req.Messages)-1]; last.Role != RoleUser {
		return fmt.Errorf("the last message is from %s; it must be the user's question", last.Role)
	}
	seen := make(map[string]bool, len(req.Documents))
	for i, d := range req.Documents {
		if d.ID == "" || seen[d.ID] {
			return fmt.Errorf("document %d has an empty or repeated ID %q; citations could not name it", i+1, d.ID)
		}
		seen[d.ID] = true
	}
	return nil
}

// systemPrompt joins the request's preamble and any system messages.
func systemPrompt(req Request) string {
	parts := []string{}
	if req.System != "" {
		parts = append(parts, req.System)
	}
	for _, m := range req.Messages {
		if m.Role == RoleSystem && m.Content != "" {
			parts = append(parts, m.Content)
		}
	}
	return strings.Join(parts, "\n\n")
}

package tracing

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Trace is what a trace is about: Langfuse shows Name as the trace name and
// groups traces by SessionID (a chat conversation, a server session, or a
// fresh id per ask) and UserID. All of it is copied onto every span of the
// trace.
type Trace struct {
	Name      string // "ask", "chat", "ingest", …
	SessionID string
	UserID    string
	Tags      []string
}

// scope is the trace-wide part of a context: attributes for every span, the
// content switch and the tracer children start from.
type scope struct {
	attrs   []attribute.KeyValue
	content bool
	tracer  trace.Tracer
}

type scopeKey struct{}

func scopeFrom(ctx context.Context) *scope {
	sc, _ := ctx.Value(scopeKey{}).(*scope)
	return sc
}

func (p *Provider) newScope(t Trace) *scope {
	var attrs []attribute.KeyValue
	if t.Name != "" {
		attrs = append(attrs, lfTraceName.String(t.Name))
	}
	if t.SessionID != "" {
		attrs = append(attrs,
			lfSessionID.String(t.SessionID),
			semconv.SessionID(t.SessionID),
			semconv.GenAIConversationID(t.SessionID))
	}
	if t.UserID != "" {
		attrs = append(attrs, lfUserID.String(t.UserID), semconv.UserID(t.UserID))
	}
	if len(t.Tags) > 0 {
		attrs = append(attrs, lfTraceTags.StringSlice(t.Tags))
	}
	if p.cfg.Environment != "" {
		attrs = append(attrs, lfEnvironment.String(p.cfg.Environment))
	}
	if p.cfg.Release != "" {
		attrs = append(attrs, lfRelease.String(p.cfg.Release))
	}
	return &scope{attrs: attrs, content: p.cfg.Content, tracer: p.tracer}
}

// startRoot starts the top span of kura's work and puts t's scope into
// the context. Nothing happens when the provider is disabled.
func (p *Provider) startRoot(ctx context.Context, t Trace, name string) (context.Context, span, bool) {
	if !p.Enabled() {
		return ctx, span{}, false
	}
	sc := p.newScope(t)
	ctx = context.WithValue(ctx, scopeKey{}, sc)
	// When ctx already carries a span (a server request's, or a caller's
	// propagated trace context) the work joins that trace, as distributed
	// tracing expects; otherwise this span starts a new trace.
	ctx, s := sc.tracer.Start(ctx, name)
	return ctx, span{s: s, content: sc.content}, true
}

// recording reports whether ctx belongs to a sampled trace, so that a
// child span would be recorded. Helpers check it before building anything:
// this is the whole cost of tracing when tracing is off. (The parent may
// have ended already, like a file's load span before its split span starts;
// the child still belongs to the trace.)
func recording(ctx context.Context) bool {
	return trace.SpanContextFromContext(ctx).IsSampled()
}

// startChild starts a span under the one in ctx, with the parent's tracer.
func startChild(ctx context.Context, name string, kind trace.SpanKind) (context.Context, span, bool) {
	if !recording(ctx) {
		return ctx, span{}, false
	}
	parent := trace.SpanFromContext(ctx)
	var tr trace.Tracer
	content := false // a parent kura did not start: keep content out
	if sc := scopeFrom(ctx); sc != nil {
		tr, content = sc.tracer, sc.content
	} else {
		tr = parent.TracerProvider().Tracer(instrumentationName)
	}
	ctx, s := tr.Start(ctx, name, trace.WithSpanKind(kind))
	return ctx, span{s: s, content: content}, true
}

// span is the part every helper type shares.
type span struct {
	s       trace.Span
	content bool
}

// end sets attrs, records err (if any) and ends the span, with one
// SetAttributes call: each call may grow the span's attribute slice.
func (sp span) end(err error, attrs ...attribute.KeyValue) {
	if err != nil {
		msg := truncate(err.Error(), 1000)
		level := "ERROR"
		if errors.Is(err, context.Canceled) {
			level = "WARNING"
		}
		sp.s.RecordError(errors.New(msg))
		sp.s.SetStatus(codes.Error, msg)
		attrs = append(attrs, lfObsLevel.String(level), lfObsStatus.String(msg),
			semconv.ErrorTypeKey.String(errorType(err)))
	}
	if len(attrs) > 0 {
		sp.s.SetAttributes(attrs...)
	}
	sp.s.End()
}

// errorType is a low-cardinality name for err, as error.type wants.
func errorType(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
}

// Span is a span started by [Provider.Start]. A nil *Span (tracing off) is
// valid and does nothing.
type Span struct{ span }

// SetInput records the span's input text (only with content on).
func (s *Span) SetInput(text string) {
	if s != nil && s.content {
		s.s.SetAttributes(lfObsInput.String(text))
	}
}

// SetOutput records the span's output text (only with content on).
func (s *Span) SetOutput(text string) {
	if s != nil && s.content {
		s.s.SetAttributes(lfObsOutput.String(text))
	}
}

// SetAttributes adds attributes that carry no content.
func (s *Span) SetAttributes(kv ...attribute.KeyValue) {
	if s != nil {
		s.s.SetAttributes(kv...)
	}
}

// End ends the span, recording err if not nil.
func (s *Span) End(err error) {
	if s != nil {
		s.end(err)
	}
}

// Start begins a root span named name for t, for work that has no helper
// of its own (a server's search request, say).
func (p *Provider) Start(ctx context.Context, t Trace, name string) (context.Context, *Span) {
	ctx, sp, ok := p.startRoot(ctx, t, name)
	if !ok {
		return ctx, nil
	}
	sp.s.SetAttributes(lfObsType.String(obsSpan))
	return ctx, &Span{sp}
}

// TraceID returns the hex OpenTelemetry trace id of the span in ctx, the id
// Langfuse shows for the trace, or "" when nothing is traced.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}

// SpanID returns the hex span id of the span in ctx (Langfuse's
// observation id), or "".
func SpanID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasSpanID() {
		return ""
	}
	return sc.SpanID().String()
}

// jsonString marshals v for an attribute Langfuse reads as JSON.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "") + "…"
}

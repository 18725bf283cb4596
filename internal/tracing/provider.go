package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// instrumentationName is the instrumentation scope of kura's spans.
const instrumentationName = "github.com/kura-rag/kura"

// Provider owns the export pipeline. A disabled provider ([Disabled], or
// [Setup] with tracing off) starts no spans and costs nothing.
type Provider struct {
	cfg    Config
	tp     *sdktrace.TracerProvider // nil when disabled
	tracer trace.Tracer

	counter  *countingProcessor
	exporter *countingExporter

	shutdownOnce sync.Once
	final        Stats
}

// Disabled returns a provider that traces nothing.
func Disabled() *Provider {
	return &Provider{tracer: noop.NewTracerProvider().Tracer(instrumentationName)}
}

// Setup builds the pipeline for cfg. It opens no connection: a collector
// that is down is only noticed by the first export, in the background. A
// disabled cfg gives [Disabled].
func Setup(cfg Config) (*Provider, error) {
	if !cfg.Enabled() {
		p := Disabled()
		p.cfg = cfg
		return p, nil
	}
	cfg = cfg.withDefaults()
	if err := checkEndpoint(cfg.Endpoint, "the traces endpoint"); err != nil {
		return nil, err
	}
	opts := []otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(cfg.Endpoint),
		otlptracehttp.WithTimeout(cfg.Timeout),
		// Retries stay inside one export's time budget, so a dead collector
		// costs the background goroutine at most Timeout per batch.
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{
			Enabled:         true,
			InitialInterval: 250 * time.Millisecond,
			MaxInterval:     2 * time.Second,
			MaxElapsedTime:  cfg.Timeout,
		}),
	}
	if cfg.Gzip {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	} else {
		opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.NoCompression))
	}
	// Always pass the header map (even empty) so that stray
	// OTEL_EXPORTER_OTLP_HEADERS in the process environment cannot add
	// credentials meant for another backend to a Langfuse export.
	headers := make(map[string]string, len(cfg.Headers))
	for k, v := range cfg.Headers {
		headers[k] = v
	}
	opts = append(opts, otlptracehttp.WithHeaders(headers))
	inner, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot set up the OTLP exporter for %s: %v", ErrConfig, cfg.Endpoint, err)
	}

	res, err := buildResource(cfg)
	if err != nil {
		return nil, err
	}
	exporter := &countingExporter{next: inner, onFirstFailure: cfg.OnFirstFailure}
	counter := &countingProcessor{}
	limits := sdktrace.NewSpanLimits()
	if cfg.AttributeLimit > 0 {
		limits.AttributeValueLengthLimit = cfg.AttributeLimit
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithRawSpanLimits(limits),
		// Order matters: the scope processor stamps trace-wide attributes
		// at start; the counter sees every ended span before the batcher
		// may drop it.
		sdktrace.WithSpanProcessor(scopeProcessor{}),
		sdktrace.WithSpanProcessor(counter),
		sdktrace.WithSpanProcessor(sdktrace.NewBatchSpanProcessor(exporter,
			sdktrace.WithMaxQueueSize(cfg.QueueSize),
			sdktrace.WithMaxExportBatchSize(cfg.BatchSize),
			sdktrace.WithBatchTimeout(cfg.BatchDelay),
			sdktrace.WithExportTimeout(cfg.Timeout),
		)),
	)
	return &Provider{
		cfg:      cfg,
		tp:       tp,
		tracer:   tp.Tracer(instrumentationName),
		counter:  counter,
		exporter: exporter,
	}, nil
}

func buildResource(cfg Config) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{semconv.ServiceName(cfg.ServiceName)}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, semconv.ServiceVersion(cfg.ServiceVersion))
	}
	if cfg.Environment != "" {
		attrs = append(attrs, semconv.DeploymentEnvironmentName(cfg.Environment))
	}
	for k, v := range cfg.Resource {
		attrs = append(attrs, attribute.String(k, v))
	}
	// Merge with the SDK's own telemetry.sdk.* attributes; ours win.
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attrs...))
	if err != nil {
		// Only a schema URL conflict can fail the merge; fall back to ours.
		return resource.NewSchemaless(attrs...), nil
	}
	return res, nil
}

// Enabled reports whether spans are recorded and exported.
func (p *Provider) Enabled() bool { return p != nil && p.tp != nil }

// Config returns the configuration the provider was set up with.
func (p *Provider) Config() Config { return p.cfg }

// TracerProvider exposes the OpenTelemetry provider, e.g. for otelhttp
// middleware at the server's edge. It is a no-op provider when disabled.
func (p *Provider) TracerProvider() trace.TracerProvider {
	if p.Enabled() {
		return p.tp
	}
	return noop.NewTracerProvider()
}

// Stats counts what happened to the spans of a provider.
type Stats struct {
	Ended    int64 // spans finished by kura
	Exported int64 // spans the collector accepted
	Failed   int64 // spans in export requests that failed
	// Dropped is Ended - Exported - Failed: spans dropped because the queue
	// was full, or still queued when the final flush ran out of time.
	// Before Shutdown it also counts spans waiting in the queue.
	Dropped   int64
	LastError string // the last export error (never containing header values)
	Endpoint  string
}

// Problem is the one line to show a user when spans were lost, or "".
func (s Stats) Problem() string {
	lost := s.Failed + s.Dropped
	if lost <= 0 {
		return ""
	}
	msg := fmt.Sprintf("tracing: %d of %d spans were not exported to %s", lost, s.Ended, s.Endpoint)
	if s.Dropped > 0 && s.Failed > 0 {
		msg += fmt.Sprintf(" (%d failed, %d dropped)", s.Failed, s.Dropped)
	}
	if s.LastError != "" {
		msg += ": " + s.LastError
	}
	return msg
}

// Stats returns the counters so far (final ones after Shutdown).
func (p *Provider) Stats() Stats {
	if !p.Enabled() {
		return Stats{}
	}
	s := Stats{
		Ended:    p.counter.ended.Load(),
		Exported: p.exporter.exported.Load(),
		Failed:   p.exporter.failed.Load(),
		Endpoint: p.cfg.Endpoint,
	}
	s.Dropped = max(0, s.Ended-s.Exported-s.Failed)
	if err := p.exporter.lastError(); err != nil {
		s.LastError = err.Error()
	}
	return s
}

// Shutdown flushes the spans still queued and stops the pipeline. The flush
// ends at ctx's deadline, or after [DefaultFlushTimeout] when ctx has none,
// whatever the collector does; spans not exported by then are counted as
// dropped. It never fails: what went wrong is in the returned Stats. Later
// calls return the same Stats.
func (p *Provider) Shutdown(ctx context.Context) Stats {
	if !p.Enabled() {
		return Stats{}
	}
	p.shutdownOnce.Do(func() {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, DefaultFlushTimeout)
			defer cancel()
		}
		if err := p.tp.Shutdown(ctx); err != nil && p.exporter.lastError() == nil {
			p.exporter.setError(fmt.Errorf("final flush: %w", err))
		}
		p.final = p.Stats()
	})
	return p.final
}

// Pauses of the exporter after failed exports: 1 s, doubling up to 30 s.
const (
	firstPause = time.Second
	maxPause   = 30 * time.Second
)

// countingExporter counts exported and failed spans, and pauses after a
// failed export: while paused, batches are counted as failed without being
// encoded or sent, so a dead collector costs almost no CPU (the only way
// it could slow kura down). It swallows export errors after recording
// them: the batch processor would otherwise pass each one to the global
// OpenTelemetry error handler, which prints to stderr in the middle of a
// command's output.
type countingExporter struct {
	next           sdktrace.SpanExporter
	exported       atomic.Int64
	failed         atomic.Int64
	onFirstFailure func(error)
	firstFailure   sync.Once

	mu          sync.Mutex
	err         error
	pause       time.Duration
	pausedUntil time.Time
}

func (e *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	paused := time.Now().Before(e.pausedUntil)
	e.mu.Unlock()
	if paused {
		e.failed.Add(int64(len(spans)))
		return nil
	}
	if err := e.next.ExportSpans(ctx, spans); err != nil {
		e.failed.Add(int64(len(spans)))
		e.setError(err)
		e.mu.Lock()
		e.pause = min(max(2*e.pause, firstPause), maxPause)
		e.pausedUntil = time.Now().Add(e.pause)
		e.mu.Unlock()
		if e.onFirstFailure != nil {
			e.firstFailure.Do(func() { e.onFirstFailure(cleanExportError(err)) })
		}
		return nil
	}
	e.mu.Lock()
	e.pause = 0
	e.mu.Unlock()
	e.exported.Add(int64(len(spans)))
	return nil
}

func (e *countingExporter) Shutdown(ctx context.Context) error { return e.next.Shutdown(ctx) }

func (e *countingExporter) setError(err error) {
	e.mu.Lock()
	e.err = cleanExportError(err)
	e.mu.Unlock()
}

func (e *countingExporter) lastError() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// cleanExportError shortens the exporter's wrapped errors to one line. The
// exporter never puts headers into errors; the URL it names has no
// credentials (checkEndpoint refuses userinfo).
func cleanExportError(err error) error {
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "the collector did not answer in time (" + msg + ")"
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return errors.New(msg)
}

// countingProcessor counts ended spans.
type countingProcessor struct{ ended atomic.Int64 }

func (c *countingProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (c *countingProcessor) OnEnd(sdktrace.ReadOnlySpan)                     { c.ended.Add(1) }
func (c *countingProcessor) Shutdown(context.Context) error                  { return nil }
func (c *countingProcessor) ForceFlush(context.Context) error                { return nil }

// scopeProcessor copies the trace-wide attributes of the context a span
// starts in (see [Trace]) onto the span, so that every observation carries
// the session, user and trace name.
type scopeProcessor struct{}

func (scopeProcessor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	if sc := scopeFrom(ctx); sc != nil {
		s.SetAttributes(sc.attrs...)
	}
}
func (scopeProcessor) OnEnd(sdktrace.ReadOnlySpan)      {}
func (scopeProcessor) Shutdown(context.Context) error   { return nil }
func (scopeProcessor) ForceFlush(context.Context) error { return nil }

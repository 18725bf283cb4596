package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/client"
	"github.com/kura-rag/kura/internal/langfuse"
	"github.com/kura-rag/kura/internal/tracing"
)

// appConfig is what a command needs of the application layer beyond the
// global flags.
type appConfig struct {
	readOnly  bool
	embedding app.EmbedOptions
	answers   app.AnswerDefaults
	// providers adjusts the providers read from the environment (flags
	// such as --oci-auth and --oci-profile).
	providers func(app.Providers) app.Providers
	noHistory bool
	// trace sets tracing up (from the environment and --trace-content)
	// for a command that does work worth tracing.
	trace bool
	// notify receives the application's notices (retries, fallbacks);
	// nil prints them on stderr.
	notify func(string)
}

// openApp opens the application layer on the global flags' store.
func (g *globalOptions) openApp(cmd *cobra.Command, c appConfig) (*app.App, error) {
	stderr := cmd.ErrOrStderr()
	o := app.Options{
		DataDir:    g.DataDir,
		Store:      g.Store,
		Milvus:     g.milvus.options(),
		Collection: g.Collection,
		ReadOnly:   c.readOnly,
		Providers:  app.ProvidersFromEnv(os.Getenv),
		Embedding:  c.embedding,
		Answers:    c.answers,
		NoHistory:  c.noHistory,
		Notify:     c.notify,
	}
	if o.Notify == nil {
		o.Notify = func(msg string) { fmt.Fprintln(stderr, msg) }
	}
	if c.providers != nil {
		o.Providers = c.providers(o.Providers)
	}
	if c.trace {
		o.Tracing = g.startTracing(cmd.Flags(), stderr)
	}
	o.Langfuse = langfuseClient(stderr)
	return app.Open(cmd.Context(), o)
}

// registerTraceFlag adds --trace-content to a command that traces.
func (g *globalOptions) registerTraceFlag(f *pflag.FlagSet) {
	f.BoolVar(&g.TraceContent, "trace-content", true, "put questions, prompts, document text and answers on exported spans (env KURA_TRACE_CONTENT); false keeps ids, counts, models and timings only")
}

// startTracing sets tracing up from the environment (OTEL_EXPORTER_OTLP_*
// or LANGFUSE_*) once per run; without either it is a no-op. A bad
// configuration is a warning: tracing must never stop a command.
func (g *globalOptions) startTracing(f *pflag.FlagSet, stderr io.Writer) *tracing.Provider {
	if g.tracer != nil {
		return g.tracer
	}
	cfg, err := tracing.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "kura: warning: %v; tracing is off\n", err)
		g.tracer = tracing.Disabled()
		return g.tracer
	}
	if f.Lookup("trace-content") != nil && f.Changed("trace-content") {
		cfg.Content = g.TraceContent
	}
	p, err := tracing.Setup(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "kura: warning: %v; tracing is off\n", err)
		p = tracing.Disabled()
	}
	g.tracer = p
	return p
}

// finish ends the run: spans still queued are flushed within a bounded
// time, and lost spans are reported once.
func (g *globalOptions) finish(stderr io.Writer) {
	if g.tracer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), tracing.DefaultFlushTimeout)
	defer cancel()
	if p := g.tracer.Shutdown(ctx).Problem(); p != "" {
		fmt.Fprintf(stderr, "kura: warning: %s\n", p)
	}
}

// langfuseClient is the Langfuse API client (feedback scores, prompts)
// when LANGFUSE_* is set, else nil.
func langfuseClient(stderr io.Writer) *langfuse.Client {
	cfg, ok, err := langfuse.ConfigFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "kura: warning: %v; Langfuse is not used\n", err)
		return nil
	}
	if !ok {
		return nil
	}
	c, err := langfuse.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "kura: warning: %v; Langfuse is not used\n", err)
		return nil
	}
	return c
}

// langfuseConfigured reports whether LANGFUSE_* names a Langfuse project.
func langfuseConfigured() bool {
	_, ok, err := langfuse.ConfigFromEnv(os.Getenv)
	return ok && err == nil
}

// writeServer is the `kura serve` a writing command (ingest, collection
// drop) goes through when --server (KURA_SERVER) names one, with the key
// KURA_API_KEY; nil means write to the store directly, which is safe
// beside a local server too: the embedded store lets processes take turns.
func (g *globalOptions) writeServer() (*client.Client, error) {
	if g.Server == "" {
		return nil, nil
	}
	c, err := client.New(g.Server, os.Getenv("KURA_API_KEY"))
	if err != nil {
		return nil, &usageError{fmt.Errorf("--server: %w", err)}
	}
	return c, nil
}

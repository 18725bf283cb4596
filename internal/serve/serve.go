package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/langfuse"
	"github.com/kura-rag/kura/internal/server"
	"github.com/kura-rag/kura/internal/store/local"
	"github.com/kura-rag/kura/internal/tracing"
)

// DefaultFeedbackInterval is how often feedback that could not be sent to
// Langfuse is tried again.
const DefaultFeedbackInterval = time.Minute

// Options configure [Run]. cmd/kura fills them from flags and the
// environment.
type Options struct {
	// App opens the application layer. Run sets its Tracing, Langfuse,
	// FeedbackSaved and (if nil) Notify.
	App app.Options
	// Server configures the HTTP server; Run sets its Backend. Its
	// Logger receives every message of the running server.
	Server server.Config
	// Addr is the address to listen on, unless Listener is set (tests
	// and benchmarks listen themselves, on port 0).
	Addr     string
	Listener net.Listener
	// Tracing says where spans are exported (zero: nowhere).
	Tracing tracing.Config
	// Langfuse, if set, receives feedback as scores and serves prompts.
	Langfuse *langfuse.Config
	// FeedbackInterval is how often undelivered feedback is retried
	// (DefaultFeedbackInterval if zero).
	FeedbackInterval time.Duration
	// Ready, if set, is called once the server listens, with the record
	// written to the data directory.
	Ready func(Record)
}

// Run serves until ctx ends (SIGTERM, Ctrl-C), then shuts down in order:
// it stops accepting connections and removes the discovery file at once;
// running requests, answer streams and ingest jobs get
// Server.ShutdownTimeout to finish, after which streams end with an error
// event and jobs are cancelled; then the feedback still waiting is sent,
// the store is closed and the traces are flushed. The error is the
// server's, or a shutdown that had to cut work short.
func Run(ctx context.Context, o Options) (err error) {
	log := o.Server.Logger
	if log == nil {
		log = slog.Default()
		o.Server.Logger = log
	}
	if o.FeedbackInterval <= 0 {
		o.FeedbackInterval = DefaultFeedbackInterval
	}

	tc := o.Tracing
	tc.OnFirstFailure = func(err error) {
		log.Warn("traces cannot be exported; answers go on without them", "backend", tc.String(), "error", err)
	}
	traces, err := tracing.Setup(tc)
	if err != nil {
		return err
	}
	defer func() {
		if st := traces.Shutdown(context.Background()); st.Problem() != "" {
			log.Warn(st.Problem())
		}
	}()
	o.App.Tracing = traces
	if o.Langfuse != nil {
		lf, err := langfuse.New(*o.Langfuse)
		if err != nil {
			return err
		}
		o.App.Langfuse = lf
	}
	if o.App.Notify == nil {
		o.App.Notify = func(msg string) { log.Info(msg) }
	}
	if o.App.OnWait == nil {
		o.App.OnWait = func(w local.WaitEvent) {
			log.Warn("waiting for another kura process using a collection", "collection", w.Collection, "write", w.Write, "waited", w.Waited.Round(time.Millisecond))
		}
	}
	deliver := newDeliverer(log)
	if o.App.Langfuse != nil {
		o.App.FeedbackSaved = deliver.kick
	}

	o.App.HideLocation = true
	a, err := app.Open(ctx, o.App)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := a.Close(); cerr != nil {
			log.Error("closing the store", "error", cerr)
		}
	}()
	cfg := o.Server
	cfg.Backend = Backend{a}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}

	ln := o.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", o.Addr); err != nil {
			return fmt.Errorf("cannot listen on %s: %w", o.Addr, err)
		}
	}
	cfg = srv.Config()
	rec := record(a, ln, cfg)
	if old, err := Discover(ctx, rec.DataDir); err == nil {
		log.Warn("another kura serve already serves this data directory; its discovery file now names this one",
			"other_pid", old.PID, "other_url", old.URL)
	}
	if err := WriteRecord(a.DataDir(), rec); err != nil {
		// Not fatal: only tools that look for the server read the file.
		log.Warn("cannot write the discovery file; tools looking for this server will not find it", "error", err)
	}
	var removeOnce sync.Once
	removeRecord := func() {
		removeOnce.Do(func() {
			if err := RemoveRecord(a.DataDir(), rec.PID); err != nil {
				log.Warn("cannot remove the discovery file", "path", RecordPath(a.DataDir()), "error", err)
			}
		})
	}
	defer removeRecord()

	loopCtx, stopLoop := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		if o.App.Langfuse != nil {
			deliver.run(loopCtx, a, o.FeedbackInterval)
		}
	}()

	// When the shutdown starts, the jobs get the same deadline as the
	// requests, in parallel with them.
	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	jobsStopped := make(chan struct{})
	go func() {
		defer close(jobsStopped)
		<-serveCtx.Done()
		removeRecord()
		deadline, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		a.StopJobs(deadline)
	}()

	if o.Ready != nil {
		o.Ready(rec)
	}
	err = srv.Serve(serveCtx, ln)
	stopServing()
	<-jobsStopped
	stopLoop()
	<-loopDone
	if o.App.Langfuse != nil {
		deliver.once(context.Background(), a, 5*time.Second)
	}
	return err
}

// record describes the running server for the discovery file.
func record(a *app.App, ln net.Listener, cfg server.Config) Record {
	dir := a.DataDir()
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return Record{
		URL: localURL(ln.Addr()), Addr: ln.Addr().String(), PID: os.Getpid(), Started: time.Now().UTC(),
		AuthRequired: cfg.Keys.Len() > 0, DataDir: dir, Collection: a.DefaultCollection(), Store: a.StoreName(),
		Version: cfg.Version,
	}
}

// deliverer sends the feedback outbox to Langfuse from one goroutine:
// after each rating (kick) and on a ticker, which retries what failed.
type deliverer struct {
	log     *slog.Logger
	wake    chan struct{}
	failing bool // the last attempt failed: log again only when it recovers
}

func newDeliverer(log *slog.Logger) *deliverer {
	return &deliverer{log: log, wake: make(chan struct{}, 1)}
}

// kick asks for a delivery soon; it never blocks.
func (d *deliverer) kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run delivers until ctx ends; a delivery under way then stops too, so
// that a Langfuse that does not answer cannot hold the shutdown.
func (d *deliverer) run(ctx context.Context, a *app.App, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	d.once(ctx, a, 30*time.Second) // what an earlier run left in the outbox
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-t.C:
		}
		d.once(ctx, a, 30*time.Second)
	}
}

func (d *deliverer) once(ctx context.Context, a *app.App, timeout time.Duration) {
	if ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rep, err := a.DeliverFeedback(ctx)
	if err == nil && rep.Failed > 0 {
		err = errors.New(rep.LastError)
	}
	if rep.Dropped > 0 {
		d.log.Warn("Langfuse refused feedback scores; they stay in the local history only", "dropped", rep.Dropped, "error", rep.LastError)
	}
	switch {
	case err != nil && !d.failing:
		d.failing = true
		d.log.Warn("feedback is saved but cannot be sent to Langfuse yet; retrying in the background", "error", err)
	case err == nil && d.failing:
		d.failing = false
		d.log.Info("feedback reaches Langfuse again", "sent", rep.Sent)
	}
}

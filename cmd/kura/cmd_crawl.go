package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/crawl"
	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/embed"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/store"
	"github.com/kura-rag/kura/internal/version"
)

type crawlOptions struct {
	ingest          ingestOptions
	MaxPages        int
	MaxDepth        int
	Include         []string
	Exclude         []string
	Sitemaps        []string
	ContentSelector string
	NextSelector    string
	Delay           time.Duration
	Parallel        int
	Timeout         time.Duration
	MaxBytes        int64
	MaxRedirects    int
	UserAgent       string
	Contact         string
	IgnoreRobots    bool
	AllowPrivate    bool
	Out             string
	Verbose         bool
}

func newCrawlCommand(g *globalOptions) *cobra.Command {
	var o crawlOptions
	cmd := &cobra.Command{
		Use:   "crawl URL...",
		Short: "Collect web pages into a collection or into Markdown files",
		Long: `Crawl web pages from the start URLs (and --sitemap) within the same host, keep
each page's main text, join paginated articles ("next page" links) into one
document, and ingest the documents into --collection like kura ingest, or
write them as Markdown files with --out.

robots.txt (including Crawl-delay) is obeyed, requests to one host are spaced
by --delay, and only public addresses are contacted unless --allow-private
is given. A re-crawl sends conditional requests and re-ingests only what
changed.

Exit status: 0 all good, 3 finished but some URLs were skipped (each is
listed), 1 failed, 2 bad usage.`,
		Example: `  kura crawl https://example.com/blog/ --max-pages 200 --contact ops@example.com
  kura crawl https://example.com/articles/1 --content-selector 'div.field-name-body'
  kura crawl --sitemap https://example.com/sitemap.xml --include '/docs/' --out pages/
  kura crawl http://localhost:8080/ --allow-private --delay 0`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && len(o.Sitemaps) == 0 {
				return &usageError{fmt.Errorf("kura crawl takes one or more URLs or --sitemap URL (see kura crawl --help)")}
			}
			return runCrawl(cmd, g, &o, args)
		},
	}
	f := cmd.Flags()
	o.ingest.embedder.register(f)
	o.ingest.splitter.register(f)
	o.ingest.index.register(f)
	f.StringArrayVar(&o.ingest.Set, "set", nil, "metadata key=value added to every chunk (repeatable)")
	f.BoolVar(&o.ingest.Prune, "prune", false, "remove documents whose pages are gone (404/410, or no longer linked)")
	f.BoolVar(&o.ingest.JSON, "json", false, "print the summary as one JSON object")
	f.StringVar(&o.ingest.Metric, "metric", "COSINE", "metric of a new collection: COSINE, IP or L2")
	f.IntVar(&o.ingest.TextMaxBytes, "text-max-bytes", store.DefaultTextMaxBytes, "byte limit of the text field of a new collection")
	f.IntVar(&o.ingest.EmbedWorkers, "embed-concurrency", 4, "embedding batches in flight")
	f.StringVar(&o.ingest.Analyzer, "analyzer", lexical.DefaultAnalyzer, "full-text (BM25) analyzer of a new collection: "+strings.Join(lexical.Analyzers, ", ")+", or none")
	f.StringVar(&o.ingest.Context, "context", app.DefaultContext, "document title carried by each chunk: both, bm25, embed or none")

	f.IntVar(&o.MaxPages, "max-pages", crawl.DefaultMaxPages, "stop after requesting this many pages")
	f.IntVar(&o.MaxDepth, "max-depth", crawl.DefaultMaxDepth, "follow links at most this many hops from a start URL")
	f.StringArrayVar(&o.Include, "include", nil, "only crawl URLs matching this regular expression (repeatable)")
	f.StringArrayVar(&o.Exclude, "exclude", nil, "never crawl URLs matching this regular expression (repeatable)")
	f.StringArrayVar(&o.Sitemaps, "sitemap", nil, "sitemap.xml whose URLs start the crawl (repeatable)")
	f.StringVar(&o.ContentSelector, "content-selector", "", "CSS selector of the main text (default: automatic extraction)")
	f.StringVar(&o.NextSelector, "next-selector", "", "CSS selector of the \"next page\" link of paginated articles (default: rel=next and common pager markup)")
	f.DurationVar(&o.Delay, "delay", crawl.DefaultDelay, "pause between two requests to one host (robots.txt Crawl-delay may raise it)")
	f.IntVar(&o.Parallel, "parallel", crawl.DefaultParallelism, "requests in flight per host")
	f.DurationVar(&o.Timeout, "timeout", crawl.DefaultTimeout, "time limit of one request, body included")
	f.Int64Var(&o.MaxBytes, "max-bytes", crawl.DefaultMaxBodyBytes, "skip responses larger than this many bytes")
	f.IntVar(&o.MaxRedirects, "max-redirects", crawl.DefaultMaxRedirects, "follow at most this many redirects per request")
	f.StringVar(&o.UserAgent, "user-agent", "", "User-Agent header (default: kura/VERSION with the project URL)")
	f.StringVar(&o.Contact, "contact", "", "contact (e-mail or URL) added to the User-Agent so site owners can reach you")
	f.BoolVar(&o.IgnoreRobots, "ignore-robots", false, "do not read robots.txt (only for sites you own)")
	f.BoolVar(&o.AllowPrivate, "allow-private", false, "let the start URLs' hosts and ports be loopback, private or link-local addresses (intranets, local test sites); redirects elsewhere stay refused")
	f.StringVar(&o.Out, "out", "", "write Markdown files with front matter into DIR instead of ingesting")
	f.BoolVar(&o.Verbose, "verbose", false, "list every URL left out of scope, not only the first few")
	g.registerTraceFlag(f)
	return cmd
}

func (o *crawlOptions) crawlOptions(ui *crawlUI) (crawl.Options, error) {
	opts := crawl.Options{
		UserAgent: o.UserAgent, Contact: o.Contact,
		MaxPages: o.MaxPages, MaxDepth: o.MaxDepth, Sitemaps: o.Sitemaps,
		ContentSelector: o.ContentSelector, NextSelector: o.NextSelector,
		Delay: o.Delay, Parallelism: o.Parallel, Timeout: o.Timeout,
		MaxBodyBytes: o.MaxBytes, MaxRedirects: o.MaxRedirects,
		IgnoreRobots: o.IgnoreRobots, AllowPrivate: o.AllowPrivate,
		Progress: ui.progress, OnPage: ui.page,
	}
	if opts.UserAgent == "" {
		opts.UserAgent = fmt.Sprintf("kura/%s (+https://github.com/kura-rag/kura)", version.Get().Version)
	}
	for _, c := range []struct {
		name string
		n    int64
	}{{"--max-pages", int64(o.MaxPages)}, {"--max-depth", int64(o.MaxDepth)}, {"--parallel", int64(o.Parallel)}, {"--max-bytes", o.MaxBytes}, {"--max-redirects", int64(o.MaxRedirects)}} {
		if c.n <= 0 {
			return opts, &usageError{fmt.Errorf("%s must be positive, got %d", c.name, c.n)}
		}
	}
	if o.Delay < 0 || o.Timeout <= 0 {
		return opts, &usageError{fmt.Errorf("--delay must not be negative and --timeout must be positive")}
	}
	for _, p := range []struct {
		flag string
		pats []string
		dst  *[]*regexp.Regexp
	}{{"--include", o.Include, &opts.Include}, {"--exclude", o.Exclude, &opts.Exclude}} {
		for _, s := range p.pats {
			re, err := regexp.Compile(s)
			if err != nil {
				return opts, &usageError{fmt.Errorf("%s %q is not a regular expression: %v", p.flag, s, err)}
			}
			*p.dst = append(*p.dst, re)
		}
	}
	return opts, nil
}

// crawlSummary is `kura crawl --json`: the ingest summary (or the files
// written with --out) plus the crawl's own counts and skipped URLs.
type crawlSummary struct {
	*ingest.Summary
	Out   *outSummary `json:"out,omitempty"`
	Crawl crawlCounts `json:"crawl"`
}

type outSummary struct {
	Dir string `json:"dir"`
	crawl.WriteReport
}

type crawlCounts struct {
	crawl.Stats
	Skipped []crawl.Skip `json:"skipped"`
}

func runCrawl(cmd *cobra.Command, g *globalOptions, o *crawlOptions, seeds []string) error {
	stderr := cmd.ErrOrStderr()
	ui := newCrawlUI(stderr, o.ingest.JSON)
	opts, err := o.crawlOptions(ui)
	if err != nil {
		return err
	}
	statePath := filepath.Join(g.DataDir, "crawl", g.Collection+".json")
	if o.Out != "" {
		// Beside the files, hidden, so `kura ingest DIR` passes it over.
		statePath = filepath.Join(o.Out, ".kura-crawl.json")
	}
	state, err := crawl.LoadState(statePath)
	if err != nil {
		return err
	}
	opts.State = state

	// Check the ingest settings before spending time on the network.
	var plan *crawlIngest
	if o.Out == "" {
		if g.Server != "" {
			return &usageError{fmt.Errorf("--server %s: crawled pages cannot be uploaded to a server as they are; crawl into files with --out DIR, then `kura ingest --server URL DIR`, or leave --server (KURA_SERVER) out to ingest into %s directly",
				g.Server, g.absData())}
		}
		if plan, err = prepareCrawlIngest(cmd, g, &o.ingest); err != nil {
			return err
		}
	}

	res, err := crawl.Crawl(cmd.Context(), seeds, opts)
	ui.stop()
	if err != nil {
		if errors.Is(err, crawl.ErrOptions) {
			return &usageError{err}
		}
		return err
	}
	printSkips(stderr, res, o.Verbose)
	if res.Stats.Fetched+res.Stats.NotModified == 0 {
		return fmt.Errorf("nothing was crawled: every start URL was skipped (see above)")
	}
	if !o.ingest.JSON {
		fmt.Fprintf(cmd.OutOrStdout(), "crawled %s (%d fetched, %d unchanged), %s; %s skipped, %s out of scope (%.1f MB)\n",
			plural(res.Stats.Fetched+res.Stats.NotModified, "page"), res.Stats.Fetched, res.Stats.NotModified, plural(res.Stats.Documents, "document"),
			plural(res.Stats.Failed, "URL"), plural(res.Stats.OutOfScope, "link"), float64(res.Stats.Bytes)/1e6)
	}
	sum := crawlSummary{Crawl: crawlCounts{Stats: res.Stats, Skipped: res.Skipped}}
	if sum.Crawl.Skipped == nil {
		sum.Crawl.Skipped = []crawl.Skip{}
	}
	if !o.ingest.Prune {
		res.Gone = nil
	}

	failed := res.Failed()
	if o.Out != "" {
		rep, err := crawl.WriteFiles(o.Out, res.Documents, res.Gone)
		if err != nil {
			return fmt.Errorf("writing %s: %w", o.Out, err)
		}
		sum.Out = &outSummary{Dir: o.Out, WriteReport: rep}
		if !o.ingest.JSON {
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s written, %d unchanged, %d removed\n", o.Out, plural(rep.Written, "file"), rep.Unchanged, rep.Removed)
		}
	} else {
		isum, err := plan.run(cmd, res)
		sum.Summary = &isum
		if err != nil {
			return err
		}
		failed = failed || isum.Failed()
	}
	res.State.Forget(res.Gone)
	if err := res.State.Save(statePath); err != nil {
		return fmt.Errorf("cannot save the crawl state (the next crawl will fetch everything again): %w", err)
	}
	if o.ingest.JSON {
		json.NewEncoder(cmd.OutOrStdout()).Encode(sum)
	}
	if failed {
		return &partialError{plural(res.Stats.Failed, "URL") + " skipped"}
	}
	return nil
}

// printSkips lists every failed URL with its reason, and the URLs left
// out of scope grouped by reason (all of them with --verbose).
func printSkips(w io.Writer, res *crawl.Result, verbose bool) {
	boundary := map[string][]crawl.Skip{}
	for _, s := range res.Skipped {
		if s.Boundary() {
			boundary[s.Reason] = append(boundary[s.Reason], s)
			continue
		}
		line := s.Error()
		if s.Reason == crawl.ReasonRefused {
			line += "; pass --allow-private to crawl a host on a private network"
		}
		fmt.Fprintln(w, line)
	}
	reasons := make([]string, 0, len(boundary))
	for r := range boundary {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	const examples = 5
	for _, r := range reasons {
		list := boundary[r]
		fmt.Fprintf(w, "%s not followed (%s)", plural(len(list), "URL"), r)
		if r == crawl.ReasonLimit {
			fmt.Fprint(w, "; raise --max-pages to crawl more")
		}
		if r == crawl.ReasonDepth {
			fmt.Fprint(w, "; raise --max-depth to go further")
		}
		fmt.Fprintln(w, ":")
		for i, s := range list {
			if i == examples && !verbose {
				fmt.Fprintf(w, "  ... and %d more (--verbose or --json lists them all)\n", len(list)-examples)
				break
			}
			fmt.Fprintf(w, "  %s: %s\n", s.URL, s.Detail)
		}
	}
}

// crawlIngest is the ingest half of a crawl: `kura ingest`'s options, fed
// with the crawled documents through the application layer.
type crawlIngest struct {
	g   *globalOptions
	o   *ingestOptions
	req app.IngestRequest
	cfg appConfig
}

// prepareCrawlIngest checks the ingest flags before any time is spent on
// the network; the store is opened only after the crawl, so that a long
// crawl does not hold the collection.
func prepareCrawlIngest(cmd *cobra.Command, g *globalOptions, o *ingestOptions) (*crawlIngest, error) {
	flags := cmd.Flags()
	o.embedder.resolve(flags)
	if err := o.embedder.validate(); err != nil {
		return nil, err
	}
	splitOpts, err := o.splitter.options()
	if err != nil {
		return nil, err
	}
	set, err := app.ParseSet(o.Set)
	if err != nil {
		return nil, flagError(err)
	}
	p := &crawlIngest{g: g, o: o}
	p.req = app.IngestRequest{
		Collection: g.Collection, Settings: o.settings(flags), Explicit: explicitSettings(flags),
		Splitter: splitOpts, Set: set, BatchSize: o.embedder.BatchSize, EmbedWorkers: o.EmbedWorkers,
	}
	p.cfg = appConfig{embedding: o.embedder.options(flags), providers: o.embedder.providers, trace: true, noHistory: true}
	check := app.Options{Store: g.Store, Collection: g.Collection, Embedding: p.cfg.embedding,
		Providers: p.cfg.providers(app.ProvidersFromEnv(os.Getenv))}
	if err := app.ValidateIngest(check, p.req); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *crawlIngest) run(cmd *cobra.Command, res *crawl.Result) (ingest.Summary, error) {
	var rep *reporter
	cfg := p.cfg
	cfg.notify = func(msg string) {
		if rep != nil {
			rep.problem(errors.New(msg))
		} else {
			fmt.Fprintln(cmd.ErrOrStderr(), msg)
		}
	}
	a, err := p.g.openApp(cmd, cfg)
	if err != nil {
		return ingest.Summary{}, err
	}
	defer a.Close()
	req := p.req
	for _, d := range res.Documents {
		req.Inputs = append(req.Inputs, ingest.Input{Source: d.Source, Load: func() ([]document.Document, []error, error) {
			return []document.Document{d}, nil, nil
		}})
	}
	req.Gone = res.Gone
	rep = newReporter(cmd.ErrOrStderr(), p.o.JSON)
	req.Progress, req.OnProblem, req.OnFile = rep.progress, rep.problem, rep.file
	out, err := a.Ingest(cmd.Context(), req)
	rep.stop()
	sum := out.Summary
	if errors.Is(err, app.ErrNothingToIngest) {
		// Every page was unchanged and nothing is gone: nothing to do.
		sum, err = ingest.Summary{Collection: p.req.Collection, Unsupported: []string{}}, nil
	}
	var ae *api.Error
	switch {
	case errors.As(err, &ae), errors.Is(err, embed.ErrConfig), errors.Is(err, store.ErrInvalid):
		return sum, err
	case err != nil:
		return sum, fmt.Errorf("ingest stopped: %w (chunks stored so far are kept; crawl again to finish)", err)
	}
	if !p.o.JSON {
		printIngestSummary(cmd.OutOrStdout(), cmd.ErrOrStderr(), sum, false)
	}
	return sum, nil
}

// crawlUI shows crawl progress on stderr: a live line on a terminal, one
// line per page otherwise, nothing with --json.
type crawlUI struct {
	out      io.Writer
	progress *crawl.Progress
	tty      bool
	quiet    bool
	start    time.Time
	done     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
}

func newCrawlUI(out io.Writer, quiet bool) *crawlUI {
	u := &crawlUI{out: out, progress: &crawl.Progress{}, quiet: quiet, start: time.Now(), done: make(chan struct{})}
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		u.tty = true
		u.wg.Add(1)
		go u.loop()
	}
	return u
}

func (u *crawlUI) loop() {
	defer u.wg.Done()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-u.done:
			return
		case <-tick.C:
			p := u.progress
			done := p.Fetched.Load() + p.NotModified.Load()
			u.mu.Lock()
			fmt.Fprintf(u.out, "\r\033[Kpages %d fetched, %d unchanged, %d queued, %d skipped  %.1f MB  %.1f pages/s",
				p.Fetched.Load(), p.NotModified.Load(), p.Queued.Load()-done, p.Skipped.Load(),
				float64(p.Bytes.Load())/1e6, float64(done)/time.Since(u.start).Seconds())
			u.mu.Unlock()
		}
	}
}

func (u *crawlUI) page(url string, status int) {
	if u.tty || u.quiet {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	what := "fetched"
	if status == 304 {
		what = "unchanged"
	}
	fmt.Fprintf(u.out, "%s %s\n", what, url)
}

func (u *crawlUI) stop() {
	if !u.tty {
		return
	}
	close(u.done)
	u.wg.Wait()
	fmt.Fprint(u.out, "\r\033[K")
}

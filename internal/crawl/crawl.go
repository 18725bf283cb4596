package crawl

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/kura-rag/kura/internal/document"
)

// Progress holds live counters of a crawl; a UI may read them at any time.
type Progress struct {
	Queued      atomic.Int64 // requests handed to the fetcher
	Fetched     atomic.Int64 // pages downloaded (200)
	NotModified atomic.Int64 // pages answered 304 Not Modified
	Skipped     atomic.Int64 // URLs not fetched or not usable, boundaries included
	Bytes       atomic.Int64 // response bytes downloaded
}

// Reasons a URL was skipped. The first three are the crawl's own
// boundaries (the user's scope); the others are failures a user should
// hear about.
const (
	ReasonScope    = "scope"    // another host, or outside --include/--exclude
	ReasonDepth    = "depth"    // too many links away from a start URL
	ReasonLimit    = "limit"    // the page limit was reached
	ReasonRobots   = "robots"   // disallowed by robots.txt
	ReasonStatus   = "status"   // an HTTP error status
	ReasonSize     = "size"     // response larger than the limit
	ReasonType     = "type"     // not HTML
	ReasonRefused  = "refused"  // a non-public address (see ErrBlockedAddress)
	ReasonRedirect = "redirect" // too many redirects, or one out of scope
	ReasonError    = "error"    // network failure, timeout, undecodable page
)

// Skip is a URL that was not crawled, and why.
type Skip struct {
	URL    string `json:"url"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
	Status int    `json:"status,omitempty"`
	Err    error  `json:"-"`
}

// Boundary reports whether the skip is the crawl's scope at work rather
// than a failure.
func (s Skip) Boundary() bool {
	return s.Reason == ReasonScope || s.Reason == ReasonDepth || s.Reason == ReasonLimit
}

func (s Skip) Error() string { return fmt.Sprintf("%s: skipped (%s): %s", s.URL, s.Reason, s.Detail) }

func (s Skip) Unwrap() error { return s.Err }

// Stats counts what a crawl did; it is part of `kura crawl --json`.
type Stats struct {
	Fetched     int   `json:"fetched"`      // pages downloaded
	NotModified int   `json:"not_modified"` // pages unchanged since the last crawl (304)
	Failed      int   `json:"failed"`       // URLs skipped for a failure (robots, status, size, type, refused, redirect, error)
	OutOfScope  int   `json:"out_of_scope"` // links not followed: other hosts, patterns, depth, page limit
	NoText      int   `json:"no_text"`      // pages without main text (index pages); their links were followed
	Documents   int   `json:"documents"`    // documents assembled (a paginated article is one)
	Gone        int   `json:"gone"`         // documents of the last crawl that no longer exist
	Bytes       int64 `json:"bytes"`
	Truncated   bool  `json:"truncated"` // the page limit stopped the crawl
}

// Result is the outcome of a crawl.
type Result struct {
	// Documents are sorted by Source (the canonical URL of their first
	// page). Meta holds "url", "pages" and, when known, "published".
	Documents []document.Document
	// Skipped lists every URL not crawled, in the order met.
	Skipped []Skip
	// Gone are the sources of documents the previous crawl produced that
	// no longer exist: their first page answered 404/410, or was not
	// reached by a crawl that ran to completion, or became part of another
	// document.
	Gone  []string
	Stats Stats
	// State is the updated memory for the next crawl; save it once the
	// documents are stored.
	State *State
}

// Failed reports whether any URL was skipped for a failure.
func (r *Result) Failed() bool { return r.Stats.Failed > 0 }

type crawler struct {
	ctx    context.Context
	opts   Options
	col    *colly.Collector
	robots *robots
	ext    *extractor
	old    *State

	mu         sync.Mutex
	seeds      map[string]bool // normalized seed URLs
	scopeHosts map[string]bool
	seen       map[string]bool
	requested  int
	pages      map[string]*page // by requested URL and by final URL
	reached    map[string]bool  // requested URLs answered 200 or 304
	status     map[string]int   // requested URL -> error status
	failed     map[string]bool  // requested URL -> failed for another reason
	hostRules  map[string]bool
	skips      []Skip
	stats      Stats
}

// Crawl fetches the start URLs and what they link to within scope, and
// assembles the documents. It returns an error only when it could not run
// at all (bad options, cancellation); everything else is a Skip.
func Crawl(ctx context.Context, seeds []string, opts Options) (*Result, error) {
	opts.withDefaults()
	ext, err := newExtractor(opts.ContentSelector, opts.NextSelector)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOptions, err)
	}
	cr := &crawler{
		ctx: ctx, opts: opts, ext: ext, old: opts.State,
		seeds: map[string]bool{}, scopeHosts: map[string]bool{}, seen: map[string]bool{},
		pages: map[string]*page{}, reached: map[string]bool{}, status: map[string]int{},
		failed: map[string]bool{}, hostRules: map[string]bool{},
	}
	var seedURLs []*url.URL
	g := &guard{allowAll: false, privateHosts: map[string]bool{}}
	for _, s := range seeds {
		u, err := parseSeed(s)
		if err != nil {
			return nil, err
		}
		seedURLs = append(seedURLs, u)
		cr.seeds[u.String()] = true
		cr.scopeHosts[u.Host] = true
		if opts.AllowPrivate {
			g.allowPrivate(u)
		}
	}
	var sitemapURLs []*url.URL
	for _, s := range opts.Sitemaps {
		u, err := parseSeed(s)
		if err != nil {
			return nil, err
		}
		sitemapURLs = append(sitemapURLs, u)
		cr.scopeHosts[u.Host] = true
		if opts.AllowPrivate {
			g.allowPrivate(u)
		}
	}
	if len(seedURLs)+len(sitemapURLs) == 0 {
		return nil, fmt.Errorf("%w: no start URL", ErrOptions)
	}

	transport := &http.Transport{
		Proxy:                 nil, // a proxy would make the address check judge the proxy, not the site
		DialContext:           g.dialer(opts.Timeout),
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: opts.Timeout,
		MaxIdleConnsPerHost:   opts.Parallelism,
		IdleConnTimeout:       90 * time.Second,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: opts.Timeout, CheckRedirect: cr.checkRedirect}
	cr.robots = &robots{client: client, userAgent: opts.UserAgent, agent: "kura", hosts: map[string]*robotsEntry{}}

	col := colly.NewCollector(
		colly.Async(true),
		colly.StdlibContext(ctx),
		colly.UserAgent(opts.UserAgent),
		// colly truncates a body at its limit without telling; one byte
		// more lets an oversized page be recognised and skipped instead.
		colly.MaxBodySize(int(opts.MaxBodyBytes+1)),
	)
	// robots.txt is checked here, not by colly, which ignores Crawl-delay
	// and cannot say why it refused a URL.
	col.IgnoreRobotsTxt = true
	col.WithTransport(transport)
	col.SetRequestTimeout(opts.Timeout)
	col.SetRedirectHandler(cr.checkRedirect)
	col.OnResponseHeaders(cr.onHeaders)
	col.OnResponse(cr.onResponse)
	col.OnError(cr.onError)
	cr.col = col

	for _, sm := range sitemapURLs {
		locs, err := fetchSitemap(ctx, client, opts.UserAgent, sm, opts.MaxBodyBytes)
		if err != nil {
			cr.skip(sm.String(), classify(err))
			continue
		}
		for _, u := range locs {
			seedURLs = append(seedURLs, u)
		}
	}
	for _, u := range seedURLs {
		cr.visit(u, 0, false)
	}
	col.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return cr.finish(), nil
}

// normalize makes equal URLs equal strings: no fragment, lower-case
// scheme and host, no default port, "/" for an empty path.
func normalize(u *url.URL) *url.URL {
	n := *u
	n.Fragment, n.RawFragment = "", ""
	n.Scheme = strings.ToLower(n.Scheme)
	n.Host = strings.ToLower(n.Host)
	if p := n.Port(); (n.Scheme == "http" && p == "80") || (n.Scheme == "https" && p == "443") {
		n.Host = n.Hostname()
		if strings.Contains(n.Host, ":") {
			n.Host = "[" + n.Host + "]"
		}
	}
	if n.Path == "" && n.Opaque == "" {
		n.Path = "/"
	}
	n.User = nil
	return &n
}

func (cr *crawler) inScope(u *url.URL) (bool, string) {
	if !isHTTP(u) {
		return false, "not an http(s) URL"
	}
	if !cr.scopeHosts[u.Host] {
		return false, "another host"
	}
	s := u.String()
	if len(cr.opts.Include) > 0 && !matchAny(cr.opts.Include, s) {
		return false, "matches no include pattern"
	}
	if matchAny(cr.opts.Exclude, s) {
		return false, "matches an exclude pattern"
	}
	return true, ""
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// visit queues u unless it was seen or falls outside the crawl. depth
// counts link hops from a start URL; a "next page" link keeps its
// article's depth, since it is the same document.
func (cr *crawler) visit(raw *url.URL, depth int, viaNext bool) {
	u := normalize(raw)
	key := u.String()
	cr.mu.Lock()
	if cr.seen[key] {
		cr.mu.Unlock()
		return
	}
	cr.seen[key] = true
	if ok, why := cr.inScope(u); !ok {
		cr.skipLocked(Skip{URL: key, Reason: ReasonScope, Detail: why})
		cr.mu.Unlock()
		return
	}
	if depth > cr.opts.MaxDepth && !viaNext {
		cr.skipLocked(Skip{URL: key, Reason: ReasonDepth, Detail: fmt.Sprintf("more than %d links from a start URL", cr.opts.MaxDepth)})
		cr.mu.Unlock()
		return
	}
	cr.mu.Unlock()

	var crawlDelay time.Duration
	if !cr.opts.IgnoreRobots {
		ok, delay, err := cr.robots.allowed(cr.ctx, u)
		if err != nil {
			cr.skip(key, classify(err))
			return
		}
		if !ok {
			cr.skip(key, Skip{Reason: ReasonRobots, Detail: "disallowed by robots.txt"})
			return
		}
		crawlDelay = delay
	}

	cr.mu.Lock()
	if cr.requested >= cr.opts.MaxPages {
		cr.stats.Truncated = true
		cr.skipLocked(Skip{URL: key, Reason: ReasonLimit, Detail: fmt.Sprintf("the crawl stopped at %d pages", cr.opts.MaxPages)})
		cr.mu.Unlock()
		return
	}
	cr.requested++
	if !cr.hostRules[u.Host] {
		cr.hostRules[u.Host] = true
		// One rule per host: colly's rules limit per rule, so a single
		// "*" rule would throttle all hosts together.
		cr.col.Limit(&colly.LimitRule{
			DomainRegexp: "^" + regexp.QuoteMeta(u.Host) + "$",
			Parallelism:  cr.opts.Parallelism,
			Delay:        max(cr.opts.Delay, crawlDelay),
		})
	}
	cr.mu.Unlock()

	hdr := http.Header{}
	hdr.Set("User-Agent", cr.opts.UserAgent)
	hdr.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1")
	if old := cr.old.Pages[key]; old != nil {
		if old.ETag != "" {
			hdr.Set("If-None-Match", old.ETag)
		}
		if old.LastModified != "" {
			hdr.Set("If-Modified-Since", old.LastModified)
		}
	}
	ctx := colly.NewContext()
	ctx.Put("key", key)
	ctx.Put("depth", depth)
	cr.opts.Progress.Queued.Add(1)
	if err := cr.col.Request(http.MethodGet, key, nil, ctx, hdr); err != nil {
		var av *colly.AlreadyVisitedError
		if !errors.As(err, &av) {
			cr.skip(key, classify(err))
		}
	}
}

func (cr *crawler) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= cr.opts.MaxRedirects {
		return fmt.Errorf("%w: stopped after %d redirects", errRedirect, len(via))
	}
	if !isHTTP(req.URL) {
		return fmt.Errorf("%w: to a %s URL", errRedirect, req.URL.Scheme)
	}
	first := normalize(via[0].URL).String()
	cr.mu.Lock()
	defer cr.mu.Unlock()
	// A start URL may redirect to another host (http -> https, a www
	// prefix); that host then belongs to the crawl. Other pages must stay
	// in scope.
	if cr.seeds[first] {
		return nil
	}
	if ok, why := cr.inScope(normalize(req.URL)); !ok {
		return fmt.Errorf("%w: to %s (%s)", errRedirect, req.URL, why)
	}
	return nil
}

var (
	errRedirect = errors.New("redirect not followed")
	errType     = errors.New("not an HTML page")
	errSize     = errors.New("response too large")
)

func (cr *crawler) onHeaders(r *colly.Response) {
	ct := r.Headers.Get("Content-Type")
	if r.StatusCode != http.StatusOK {
		return
	}
	mt, params, _ := mime.ParseMediaType(ct)
	r.Ctx.Put("charset", params["charset"])
	// Without a charset parameter colly leaves the body alone; the page
	// is decoded here, where its <meta charset> and detection are known.
	r.Headers.Set("Content-Type", mt)
	key := r.Ctx.Get("key")
	if mt != "" && mt != "text/html" && mt != "application/xhtml+xml" {
		cr.skip(key, Skip{Reason: ReasonType, Detail: fmt.Sprintf("%s is not HTML", mt), Err: errType})
		r.Ctx.Put("reported", true)
		r.Request.Abort()
		return
	}
	if n, err := strconv.ParseInt(r.Headers.Get("Content-Length"), 10, 64); err == nil && n > cr.opts.MaxBodyBytes {
		cr.skip(key, sizeSkip(n, cr.opts.MaxBodyBytes))
		r.Ctx.Put("reported", true)
		r.Request.Abort()
	}
}

func sizeSkip(n, limit int64) Skip {
	what := fmt.Sprintf("%d bytes", n)
	if n < 0 {
		what = "larger"
	}
	return Skip{Reason: ReasonSize, Detail: fmt.Sprintf("response is %s, the limit is %d bytes", what, limit), Err: errSize}
}

func (cr *crawler) onResponse(r *colly.Response) {
	key := r.Ctx.Get("key")
	depth, _ := r.Ctx.GetAny("depth").(int)
	cr.opts.Progress.Bytes.Add(int64(len(r.Body)))
	if int64(len(r.Body)) > cr.opts.MaxBodyBytes {
		cr.skip(key, sizeSkip(-1, cr.opts.MaxBodyBytes))
		return
	}
	final := normalize(r.Request.URL)
	p, err := cr.ext.extract(final, r.Body, r.Ctx.Get("charset"))
	if err != nil {
		cr.skip(key, Skip{Reason: ReasonError, Detail: "cannot read the page: " + err.Error(), Err: err})
		return
	}
	p.ETag = r.Headers.Get("ETag")
	p.LastModified = r.Headers.Get("Last-Modified")
	cr.mu.Lock()
	if cr.seeds[key] && final.Host != normalize(mustParse(key)).Host {
		cr.scopeHosts[final.Host] = true
	}
	cr.seen[final.String()] = true
	cr.pages[key] = p
	cr.pages[final.String()] = p
	cr.reached[key] = true
	cr.stats.Fetched++
	cr.stats.Bytes += int64(len(r.Body))
	cr.mu.Unlock()
	cr.opts.Progress.Fetched.Add(1)
	if cr.opts.OnPage != nil {
		cr.opts.OnPage(key, r.StatusCode)
	}
	cr.follow(p, depth)
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		return &url.URL{}
	}
	return u
}

func (cr *crawler) onError(r *colly.Response, err error) {
	key := r.Ctx.Get("key")
	if key == "" && r.Request != nil {
		key = normalize(r.Request.URL).String()
	}
	depth, _ := r.Ctx.GetAny("depth").(int)
	switch {
	case r.StatusCode == http.StatusNotModified:
		old := cr.old.Pages[key]
		if old == nil {
			cr.skip(key, Skip{Reason: ReasonStatus, Status: 304, Detail: "answered 304 Not Modified to a request that was not conditional"})
			return
		}
		p := *old
		if r.Headers != nil {
			if v := r.Headers.Get("ETag"); v != "" {
				p.ETag = v
			}
			if v := r.Headers.Get("Last-Modified"); v != "" {
				p.LastModified = v
			}
		}
		cr.mu.Lock()
		cr.pages[key] = &p
		cr.pages[p.URL] = &p
		cr.seen[p.URL] = true
		cr.reached[key] = true
		cr.stats.NotModified++
		cr.mu.Unlock()
		cr.opts.Progress.NotModified.Add(1)
		if cr.opts.OnPage != nil {
			cr.opts.OnPage(key, r.StatusCode)
		}
		cr.follow(&p, depth)
	case r.Ctx.GetAny("reported") != nil:
		// Refused after the headers (type, size); already reported.
	case r.StatusCode >= 400:
		cr.mu.Lock()
		cr.status[key] = r.StatusCode
		cr.mu.Unlock()
		cr.skip(key, Skip{Reason: ReasonStatus, Status: r.StatusCode, Detail: fmt.Sprintf("HTTP %d %s", r.StatusCode, http.StatusText(r.StatusCode))})
	default:
		var av *colly.AlreadyVisitedError
		if errors.As(err, &av) {
			return // a redirect to a page crawled under its own name
		}
		cr.skip(key, classify(err))
	}
}

// follow queues a page's links and its next page.
func (cr *crawler) follow(p *page, depth int) {
	if p.Next != "" {
		if u, err := url.Parse(p.Next); err == nil {
			cr.visit(u, depth, true)
		}
	}
	for _, l := range p.Links {
		if u, err := url.Parse(l); err == nil {
			cr.visit(u, depth+1, false)
		}
	}
}

// classify turns a fetch error into a Skip with a reason a user can act on.
func classify(err error) Skip {
	var be *BlockedAddressError
	var ne net.Error
	switch {
	case errors.As(err, &be), errors.Is(err, ErrBlockedAddress):
		msg := err.Error()
		if be != nil {
			msg = be.Error()
		}
		return Skip{Reason: ReasonRefused, Detail: msg, Err: err}
	case errors.Is(err, errRedirect):
		return Skip{Reason: ReasonRedirect, Detail: innermost(err), Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Skip{Reason: ReasonError, Detail: "timed out", Err: err}
	}
	return Skip{Reason: ReasonError, Detail: err.Error(), Err: err}
}

// innermost drops the url.Error wrapper ("Get \"...\": ") whose URL the
// Skip already names.
func innermost(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func (cr *crawler) skip(key string, s Skip) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	s.URL = key
	cr.skipLocked(s)
}

func (cr *crawler) skipLocked(s Skip) {
	if s.Boundary() {
		cr.stats.OutOfScope++
	} else {
		cr.stats.Failed++
		cr.failed[s.URL] = true
	}
	cr.skips = append(cr.skips, s)
	cr.opts.Progress.Skipped.Add(1)
}

// finish assembles the documents and the next state.
func (cr *crawler) finish() *Result {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	docs, heads, noText := assemble(cr.pages)
	cr.stats.NoText = noText
	cr.stats.Documents = len(docs)

	st := newState()
	for k, p := range cr.old.Pages {
		// Pages this crawl did not meet are forgotten, unless the crawl
		// was cut short or could not reach them.
		if !isGoneStatus(cr.status[k]) && (cr.stats.Truncated || cr.failed[k] || cr.seen[k]) {
			st.Pages[k] = p
		}
	}
	for k := range cr.reached {
		st.Pages[k] = cr.pages[k]
	}
	produced := map[string]bool{}
	for i, d := range docs {
		produced[d.Source] = true
		st.Documents[d.Source] = heads[i]
	}
	var gone []string
	for src, head := range cr.old.Documents {
		if produced[src] {
			continue
		}
		switch {
		case cr.reached[head], isGoneStatus(cr.status[head]),
			!cr.stats.Truncated && !cr.failed[head] && !cr.seen[head]:
			gone = append(gone, src)
		default:
			st.Documents[src] = head // not seen this time, but maybe still there
		}
	}
	sort.Strings(gone)
	// A gone document stays in the state until it has been pruned, so a
	// later crawl with --prune still finds it.
	for _, src := range gone {
		st.Documents[src] = cr.old.Documents[src]
	}
	cr.stats.Gone = len(gone)
	return &Result{Documents: docs, Skipped: cr.skips, Gone: gone, Stats: cr.stats, State: st}
}

// Forget drops pruned documents from the state.
func (s *State) Forget(sources []string) {
	for _, src := range sources {
		delete(s.Documents, src)
	}
}

func isGoneStatus(code int) bool { return code == http.StatusNotFound || code == http.StatusGone }

package crawl

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/temoto/robotstxt"
)

// maxRobotsBytes bounds a robots.txt; Google reads the first 500 KiB.
const maxRobotsBytes = 500 << 10

// MaxCrawlDelay caps a robots.txt Crawl-delay: a site asking for an hour
// between requests would stall the crawl, so kura waits at most this long
// and says so in the documentation.
const MaxCrawlDelay = 60 * time.Second

// robots fetches and caches each host's robots.txt (RFC 9309): a 4xx
// answer allows everything, a 5xx answer disallows everything, and a host
// whose robots.txt cannot be fetched at all is not crawled.
type robots struct {
	client    *http.Client
	userAgent string
	agent     string // the product token matched against User-agent lines

	mu    sync.Mutex
	hosts map[string]*robotsEntry
}

type robotsEntry struct {
	once  sync.Once
	group *robotstxt.Group
	err   error
}

func (r *robots) entry(ctx context.Context, u *url.URL) *robotsEntry {
	r.mu.Lock()
	e, ok := r.hosts[u.Host]
	if !ok {
		e = &robotsEntry{}
		r.hosts[u.Host] = e
	}
	r.mu.Unlock()
	e.once.Do(func() { e.group, e.err = r.fetch(ctx, u) })
	return e
}

func (r *robots) fetch(ctx context.Context, u *url.URL) (*robotstxt.Group, error) {
	robotsURL := u.Scheme + "://" + u.Host + "/robots.txt"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, robotsURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", r.userAgent)
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", robotsURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRobotsBytes))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", robotsURL, err)
	}
	data, err := robotstxt.FromStatusAndBytes(resp.StatusCode, body)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: status %d", robotsURL, resp.StatusCode)
	}
	return data.FindGroup(r.agent), nil
}

// allowed reports whether u may be fetched, and the host's Crawl-delay.
func (r *robots) allowed(ctx context.Context, u *url.URL) (bool, time.Duration, error) {
	e := r.entry(ctx, u)
	if e.err != nil {
		return false, 0, e.err
	}
	if e.group == nil {
		return true, 0, nil
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return e.group.Test(p), min(e.group.CrawlDelay, MaxCrawlDelay), nil
}

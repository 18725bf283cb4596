package crawl

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"
)

// Defaults for [Options] fields left at zero.
const (
	DefaultMaxPages     = 1000
	DefaultMaxDepth     = 10
	DefaultParallelism  = 2
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBodyBytes = 10 << 20
	DefaultMaxRedirects = 10
	// DefaultDelay is the pause the CLI puts between two requests to one
	// host. Options.Delay itself means what it says: 0 is no pause.
	DefaultDelay = time.Second
	// maxSitemapURLs bounds what one sitemap (index included) may seed.
	maxSitemapURLs = 50000
)

// ErrOptions is wrapped by errors from [Options.check].
var ErrOptions = errors.New("invalid crawl options")

// Options configures a [Crawl]. Zero values mean the defaults above,
// except Delay (0 is no delay).
type Options struct {
	// UserAgent is sent with every request and matched against robots.txt
	// groups by its product token ("kura"). "" means "kura/<version>
	// (+https://github.com/kura-rag/kura)"; Contact, if set, is added so a
	// site owner can reach whoever runs the crawl.
	UserAgent string
	Contact   string

	MaxPages int // pages requested (HTML or not), at most
	MaxDepth int // link hops from a start URL; "next page" links do not count
	// Include and Exclude narrow the scope (same host as a start URL): a
	// URL must match one Include pattern, if any are given, and no Exclude.
	Include, Exclude []*regexp.Regexp
	// Sitemaps are sitemap.xml URLs whose <loc> entries seed the crawl.
	Sitemaps []string

	// ContentSelector is a CSS selector for the main text; "" lets the
	// readability extractor find it.
	ContentSelector string
	// NextSelector finds the "next page" link of a paginated article; ""
	// means [DefaultNextSelector].
	NextSelector string

	Delay        time.Duration // pause between two requests to one host (raised to the host's Crawl-delay)
	Parallelism  int           // requests in flight per host
	Timeout      time.Duration // per request, redirects and body included
	MaxBodyBytes int64         // a larger response is skipped, not truncated
	MaxRedirects int
	IgnoreRobots bool

	// AllowPrivate lets the start URLs' and sitemaps' hosts, on their own
	// ports (and on 80 and 443), resolve to loopback, private and
	// link-local addresses: an intranet, a test site. Every other host and
	// port, a redirect target included, still must be public.
	AllowPrivate bool

	// State is the previous crawl's memory (conditional requests); nil
	// crawls everything afresh. Crawl updates it in place.
	State *State

	Progress *Progress
	// OnPage is called after each page is fetched or found unchanged.
	OnPage func(url string, status int)
}

func (o *Options) withDefaults() {
	if o.UserAgent == "" {
		o.UserAgent = "kura/dev (+https://github.com/kura-rag/kura)"
	}
	if o.Contact != "" {
		o.UserAgent = fmt.Sprintf("%s; contact: %s", o.UserAgent, o.Contact)
	}
	if o.MaxPages <= 0 {
		o.MaxPages = DefaultMaxPages
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.Parallelism <= 0 {
		o.Parallelism = DefaultParallelism
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.State == nil {
		o.State = newState()
	}
	if o.Progress == nil {
		o.Progress = &Progress{}
	}
}

// parseSeed accepts an absolute http or https URL.
func parseSeed(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a URL: %v", ErrOptions, s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: %q: only http and https URLs are crawled", ErrOptions, s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: %q has no host", ErrOptions, s)
	}
	return normalize(u), nil
}

// Package crawl is the "collect" stage for web pages: it fetches pages
// from start URLs (and sitemaps) within the same host, keeps each page's
// main text, joins paginated articles into one document, and hands the
// documents to the rest of the pipeline (internal/ingest) or to Markdown
// files (see [WriteFiles]).
//
//	Crawl(seeds) → fetch (colly) → extract (trafilatura) → assemble → []document.Document
//
// # What colly does and what kura adds
//
// github.com/gocolly/colly/v2 fetches concurrently, deduplicates URLs,
// limits requests per host (one LimitRule per host: parallelism and delay)
// and exposes redirect and header hooks. kura adds what colly lacks:
//   - robots.txt through temoto/robotstxt with the reason for each refusal
//     and Crawl-delay, which raises the host's delay (capped at
//     [MaxCrawlDelay]);
//   - an address check at connect time ([ErrBlockedAddress]): a net.Dialer
//     Control hook refuses loopback, private, link-local, metadata and other
//     non-public addresses after name resolution, so DNS tricks and
//     redirects meet the same check; Options.AllowPrivate opens them for
//     the hosts the user named, and for those only;
//   - a size cap that skips a response rather than truncating it (colly
//     truncates silently), and a redirect cap;
//   - charset decoding in kura's order (header, <meta>, detection), so
//     Shift_JIS and EUC-JP pages are read right;
//   - conditional requests from a [State] (ETag, Last-Modified); a page
//     answered 304 is rebuilt from the state, its links followed again;
//   - pagination: "next page" links (rel=next, common pager markup, or a
//     selector) chain pages, and a chain becomes one document in which each
//     page's text appears once (a paragraph already given by an earlier page
//     of the article, such as a repeated heading, is not repeated).
//
// # Errors
//
// Crawl fails only when it cannot run (bad options, cancellation). Every
// URL it does not crawl becomes a [Skip] with a reason; [Skip.Boundary]
// separates the crawl's own scope (other hosts, depth, page limit) from
// failures (robots, HTTP status, size, type, refused address, redirect,
// network). Messages name the URL and the rule, never a command-line flag.
package crawl

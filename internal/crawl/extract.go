package crawl

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/markusmobius/go-trafilatura"
	"golang.org/x/net/html"

	"github.com/kura-rag/kura/internal/document"
)

// DefaultNextSelector finds the "next page" link of a paginated article:
// the standard rel=next, then the pager markup of common CMSs (Drupal's
// li.pager-next and .pager__item--next, WordPress's .nav-next and
// a.next.page-numbers).
const DefaultNextSelector = `link[rel~="next"], a[rel~="next"], li.pager-next a, .pager__item--next a, .nav-next a, a.next.page-numbers, .pagination a.next`

// page is what one fetched HTML page contributes: its text, metadata and
// the links to follow. It is also what the crawl state remembers, so a page
// answered 304 Not Modified is rebuilt from it.
type page struct {
	URL       string   `json:"url"` // final URL, after redirects
	Title     string   `json:"title,omitempty"`
	Canonical string   `json:"canonical,omitempty"`
	Published string   `json:"published,omitempty"`
	Text      string   `json:"text,omitempty"`
	Links     []string `json:"links,omitempty"`
	Next      string   `json:"next,omitempty"`

	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// extractor turns HTML into a [page]. The main text is the content
// selector's, or else go-trafilatura's, chosen over go-readability after
// measuring both on Japanese pages (see docs/benchmarks.md).
type extractor struct {
	content cascadia.SelectorGroup // nil: the readability extractor decides
	next    cascadia.SelectorGroup
}

// newExtractor compiles the selectors; "" means the default.
func newExtractor(contentSel, nextSel string) (*extractor, error) {
	e := &extractor{}
	if contentSel != "" {
		sel, err := cascadia.ParseGroup(contentSel)
		if err != nil {
			return nil, fmt.Errorf("content selector %q: %w", contentSel, err)
		}
		e.content = sel
	}
	if nextSel == "" {
		nextSel = DefaultNextSelector
	}
	sel, err := cascadia.ParseGroup(nextSel)
	if err != nil {
		return nil, fmt.Errorf("next-page selector %q: %w", nextSel, err)
	}
	e.next = sel
	return e, nil
}

// extract decodes body (charset from the Content-Type header, else the
// page's meta, else detection) and fills a page. The page's Text is empty
// when it has no main text (an index page, or the content selector matched
// nothing); its links still count.
func (e *extractor) extract(pageURL *url.URL, body []byte, charset string) (*page, error) {
	text, err := document.DecodeHTML(body, charset)
	if err != nil {
		return nil, err
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	base := pageURL
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if b, err := pageURL.Parse(strings.TrimSpace(href)); err == nil && isHTTP(b) {
			base = b
		}
	}
	p := &page{URL: pageURL.String()}
	p.Title = collapse(doc.Find("title").First().Text())
	if href, ok := doc.Find(`link[rel~="canonical"]`).First().Attr("href"); ok {
		// A canonical URL on another host would let a page claim to be
		// someone else's; only the page's own host is believed.
		if c, err := pageURL.Parse(strings.TrimSpace(href)); err == nil && isHTTP(c) && strings.EqualFold(c.Host, pageURL.Host) {
			c.Fragment = ""
			p.Canonical = c.String()
		}
	}
	for _, n := range cascadia.QueryAll(doc.Nodes[0], e.next) {
		if href := attr(n, "href"); href != "" {
			if u, err := base.Parse(strings.TrimSpace(href)); err == nil && isHTTP(u) {
				u.Fragment = ""
				p.Next = u.String()
				break
			}
		}
	}
	seen := map[string]bool{}
	doc.Find("a[href], area[href]").Each(func(_ int, s *goquery.Selection) {
		href, _ := s.Attr("href")
		u, err := base.Parse(strings.TrimSpace(href))
		if err != nil || !isHTTP(u) {
			return
		}
		u.Fragment = ""
		if k := u.String(); !seen[k] {
			seen[k] = true
			p.Links = append(p.Links, k)
		}
	})

	// trafilatura works on a copy, so selectors and links above see the
	// page as served. Its metadata (JSON-LD, Open Graph, Dublin Core) gives
	// the title without the site name and the publication date; dates are
	// taken from metadata only, not guessed from the text, where a
	// copyright year would pass for one.
	res, terr := trafilatura.ExtractDocument(doc.Nodes[0], trafilatura.Options{
		Config:          trafilaturaConfig,
		OriginalURL:     pageURL,
		ExcludeComments: true,
		HtmlDateMode:    trafilatura.Disabled,
	})
	if terr == nil {
		if t := collapse(res.Metadata.Title); t != "" {
			p.Title = t
		}
		if !res.Metadata.Date.IsZero() {
			p.Published = res.Metadata.Date.UTC().Format(time.RFC3339)
		}
	}
	if p.Published == "" {
		p.Published = publishedDate(doc)
	}
	switch {
	case e.content != nil:
		var parts []string
		for _, n := range cascadia.QueryAll(doc.Nodes[0], e.content) {
			if t := document.HTMLText(n); strings.TrimSpace(t) != "" {
				parts = append(parts, t)
			}
		}
		p.Text = strings.Join(parts, "\n\n")
	case terr == nil && res.ContentNode != nil:
		p.Text = document.HTMLText(res.ContentNode)
	}
	if e.content == nil && strings.TrimSpace(p.Text) == "" {
		// Too little text for trafilatura to call it an article (a short
		// page): its paragraphs outside the page furniture, else kura's
		// HTML loader heuristic.
		if p.Text = paragraphText(doc); p.Text == "" {
			p.Text = document.HTMLMainText(doc.Nodes[0])
		}
	}
	p.Text = strings.TrimSpace(p.Text)
	return p, nil
}

// furniture are the containers whose paragraphs are never main text.
const furniture = `nav, header, footer, aside, form, [role="navigation"], [role="banner"], [role="contentinfo"], [role="complementary"], [role="search"]`

// paragraphText joins the page's paragraphs (p, pre, blockquote) that sit
// outside navigation, headers, footers and sidebars, each once.
func paragraphText(doc *goquery.Document) string {
	var parts []string
	seen := map[string]bool{}
	doc.Find("p, pre, blockquote").Each(func(_ int, s *goquery.Selection) {
		if s.ParentsFiltered(furniture).Length() > 0 || s.ParentsFiltered("p, pre, blockquote").Length() > 0 {
			return
		}
		if t := strings.TrimSpace(document.HTMLText(s.Get(0))); t != "" && !seen[t] {
			seen[t] = true
			parts = append(parts, t)
		}
	})
	return strings.Join(parts, "\n\n")
}

// trafilaturaConfig turns off trafilatura's "baseline" rescue for pages
// with under 250 characters of main text: it returns the whole page text,
// navigation and all (and the paragraphs twice), which is worse than
// kura's own fallbacks, used instead for such pages.
var trafilaturaConfig = func() *trafilatura.Config {
	c := trafilatura.DefaultConfig()
	c.MinExtractedSize = 0
	return c
}()

func isHTTP(u *url.URL) bool {
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// publishedSelectors name the publication date in the metadata vocabularies
// that trafilatura's metadata-only mode does not read.
var publishedSelectors = []string{
	`meta[property="article:published_time"]`, `meta[name="article:published_time"]`,
	`meta[itemprop="datePublished"]`, `meta[name="date"]`, `meta[name="dc.date"]`,
	`meta[name="DC.date.issued"]`, `meta[name="pubdate"]`,
}

var dateLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02", "2006/01/02"}

// publishedDate finds a publication date in the page's metadata or JSON-LD
// and returns it as RFC 3339 in UTC, or "".
func publishedDate(doc *goquery.Document) string {
	var candidates []string
	for _, sel := range publishedSelectors {
		if v, ok := doc.Find(sel).First().Attr("content"); ok {
			candidates = append(candidates, v)
		}
	}
	doc.Find(`script[type="application/ld+json"]`).Each(func(_ int, s *goquery.Selection) {
		text := s.Text()
		if i := strings.Index(text, `"datePublished"`); i >= 0 {
			rest := text[i+len(`"datePublished"`):]
			if a := strings.IndexByte(rest, '"'); a >= 0 {
				if b := strings.IndexByte(rest[a+1:], '"'); b >= 0 {
					candidates = append(candidates, rest[a+1:a+1+b])
				}
			}
		}
	})
	for _, c := range candidates {
		c = strings.TrimSpace(c)
		for _, layout := range dateLayouts {
			if t, err := time.Parse(layout, c); err == nil {
				return t.UTC().Format(time.RFC3339)
			}
		}
	}
	return ""
}

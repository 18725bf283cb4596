package crawl

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"codeberg.org/readeck/go-readability/v2"
	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
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

// extractor turns HTML into a [page].
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

	// readability parses a copy, so selectors and links above see the page
	// as served. Its metadata (JSON-LD, Open Graph, Dublin Core) gives the
	// title without the site name and the publication date.
	art, rerr := readability.FromDocument(doc.Nodes[0], pageURL)
	if rerr == nil {
		if t := collapse(art.Title()); t != "" {
			p.Title = t
		}
		if ts, err := art.PublishedTime(); err == nil {
			p.Published = ts.UTC().Format(time.RFC3339)
		}
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
	case rerr == nil && art.Node != nil:
		p.Text = document.HTMLText(art.Node)
		if strings.TrimSpace(p.Text) == "" {
			p.Text = document.HTMLMainText(doc.Nodes[0])
		}
	default:
		p.Text = document.HTMLMainText(doc.Nodes[0])
	}
	p.Text = strings.TrimSpace(p.Text)
	return p, nil
}

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

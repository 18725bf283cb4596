package crawl

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzExtract(f *testing.F) {
	f.Add([]byte(articlePage(2)), "")
	f.Add([]byte(`<html><head><base href="http://x/"><link rel=canonical href="//evil/"></head><body><a href="javascript:x">j</a><a href="/a#f">a</a></body></html>`), "text/html; charset=shift_jis")
	f.Add([]byte("\x82\xa0\x82\xa2<p>sjis</p>"), "")
	ext, err := newExtractor("div.field-name-body, article", "")
	if err != nil {
		f.Fatal(err)
	}
	base, _ := url.Parse("http://example.com/dir/page")
	f.Fuzz(func(t *testing.T, body []byte, charset string) {
		p, err := ext.extract(base, body, charset)
		if err != nil {
			return
		}
		for _, s := range []string{p.Text, p.Title, p.Published} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8: %q", s)
			}
		}
		for _, l := range append(p.Links, p.Next) {
			if l == "" {
				continue
			}
			u, err := url.Parse(l)
			if err != nil || !isHTTP(u) || u.Fragment != "" {
				t.Fatalf("bad link %q", l)
			}
		}
		if p.Canonical != "" && !strings.HasPrefix(p.Canonical, "http://example.com/") {
			t.Fatalf("canonical URL on another host accepted: %q", p.Canonical)
		}
	})
}

func FuzzSitemap(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://a/1</loc></url></urlset>`))
	f.Add([]byte(`<sitemapindex><sitemap><loc> http://a/s.xml </loc></sitemap></sitemapindex>`))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		_, locs, err := parseSitemap(body, 1<<20)
		if err == nil && len(locs) > maxSitemapURLs+1 {
			t.Fatalf("%d locs", len(locs))
		}
	})
}

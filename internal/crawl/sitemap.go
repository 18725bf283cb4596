package crawl

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// fetchSitemap reads a sitemap (RFC-less, sitemaps.org 0.9) or a sitemap
// index and returns the page URLs it lists, at most maxSitemapURLs. An
// index is followed one level down; gzip-compressed sitemaps are read too.
func fetchSitemap(ctx context.Context, client *http.Client, ua string, u *url.URL, maxBytes int64) ([]*url.URL, error) {
	var out []*url.URL
	var read func(u *url.URL, level int) error
	read = func(u *url.URL, level int) error {
		body, err := get(ctx, client, ua, u, maxBytes)
		if err != nil {
			return err
		}
		index, locs, err := parseSitemap(body, maxBytes)
		if err != nil {
			return fmt.Errorf("sitemap %s: %w", u, err)
		}
		for _, loc := range locs {
			l, err := u.Parse(loc)
			if err != nil || !isHTTP(l) {
				continue
			}
			if index {
				if level == 0 {
					if err := read(l, 1); err != nil {
						return err
					}
				}
				continue
			}
			if len(out) >= maxSitemapURLs {
				return nil
			}
			out = append(out, l)
		}
		return nil
	}
	return out, read(u, 0)
}

func get(ctx context.Context, client *http.Client, ua string, u *url.URL, maxBytes int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", ua)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sitemap %s: HTTP %d %s", u, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("sitemap %s: %w: more than %d bytes", u, errSize, maxBytes)
	}
	return body, nil
}

// parseSitemap returns the <loc> values of a <urlset> or <sitemapindex>.
// A gzip body is inflated up to maxBytes: a sitemap bomb stops there.
func parseSitemap(body []byte, maxBytes int64) (index bool, locs []string, err error) {
	if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return false, nil, err
		}
		body, err = io.ReadAll(io.LimitReader(zr, maxBytes+1))
		if err != nil {
			return false, nil, err
		}
		if int64(len(body)) > maxBytes {
			return false, nil, fmt.Errorf("%w: inflates to more than %d bytes", errSize, maxBytes)
		}
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	var root string
	inLoc := false
	var loc strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = t.Name.Local
				if root != "urlset" && root != "sitemapindex" {
					return false, nil, fmt.Errorf("not a sitemap (root element <%s>)", root)
				}
			}
			if t.Name.Local == "loc" {
				inLoc = true
				loc.Reset()
			}
		case xml.CharData:
			if inLoc {
				loc.Write(t)
			}
		case xml.EndElement:
			if t.Name.Local == "loc" && inLoc {
				inLoc = false
				if s := strings.TrimSpace(loc.String()); s != "" {
					locs = append(locs, s)
				}
				if len(locs) > maxSitemapURLs {
					return root == "sitemapindex", locs, nil
				}
			}
		}
	}
	if root == "" {
		return false, nil, fmt.Errorf("empty sitemap")
	}
	return root == "sitemapindex", locs, nil
}

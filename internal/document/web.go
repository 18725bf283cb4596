package document

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding/htmlindex"
)

// DecodeHTML converts a fetched HTML page to UTF-8 text. charset is the
// label from the HTTP Content-Type header ("" if none); it is tried first,
// then the page's own <meta charset>, then detection as for files (see
// [Decode]). Valid UTF-8 is taken as UTF-8 whatever the labels say, because
// pages re-saved as UTF-8 often keep a stale declaration.
func DecodeHTML(data []byte, charset string) (string, error) {
	enc, name := declaredCharset(data)
	if charset != "" {
		if e, err := htmlindex.Get(strings.TrimSpace(charset)); err == nil {
			if label, _ := htmlindex.Name(e); !strings.HasPrefix(label, "utf-16") {
				enc, name = e, label
			}
		}
	}
	d, err := decode(data, enc, name)
	return d.text, err
}

// HTMLText renders the text of n as kura's HTML loader does: blocks on
// lines of their own, paragraphs separated by a blank line, scripts, forms
// and navigation dropped, Japanese line wraps joined without a space.
func HTMLText(n *html.Node) string { return nodeText(n, true) }

// HTMLMainText is the HTML loader's main-text heuristic applied to a parsed
// page: <main>, else the largest <article>, else the body without its
// navigation, headers, footers and asides.
func HTMLMainText(root *html.Node) string { return extractMain(root) }

package crawl

import (
	"net/url"
	"sort"
	"strings"

	"github.com/kura-rag/kura/internal/document"
)

// assemble turns the crawled pages into documents. Pages linked by "next
// page" links form chains; a chain starts at a page that no other page
// names as its next one, and becomes one document whose text is its pages'
// texts in order. A paragraph that an earlier page of the same article
// already had (a repeated heading, a lead, a byline) is not repeated, so
// each page's own text appears exactly once.
//
// pages maps requested and final URLs to pages; it returns the documents
// sorted by source, the URL of each document's first page, and the number
// of pages that contributed no text.
func assemble(pages map[string]*page) (docs []document.Document, heads []string, noText int) {
	// One node per distinct page, in URL order so the result does not
	// depend on the order pages arrived in.
	var nodes []*page
	seen := map[*page]bool{}
	keys := make([]string, 0, len(pages))
	for k := range pages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if p := pages[k]; !seen[p] {
			seen[p] = true
			nodes = append(nodes, p)
		}
	}
	next := map[*page]*page{}
	targeted := map[*page]bool{}
	for _, p := range nodes {
		if p.Next == "" {
			continue
		}
		u, err := url.Parse(p.Next)
		if err != nil {
			continue
		}
		if q := pages[normalize(u).String()]; q != nil && q != p {
			next[p] = q
			targeted[q] = true
		}
	}
	used := map[*page]bool{}
	var chains [][]*page
	chain := func(head *page) {
		var c []*page
		for p := head; p != nil && !used[p]; p = next[p] {
			used[p] = true
			c = append(c, p)
		}
		chains = append(chains, c)
	}
	for _, p := range nodes {
		if !targeted[p] {
			chain(p)
		}
	}
	for _, p := range nodes { // pages on a cycle of next links
		if !used[p] {
			chain(p)
		}
	}

	type built struct {
		doc  document.Document
		head string
	}
	var out []built
	sources := map[string]bool{}
	for _, c := range chains {
		text := joinPages(c)
		if text == "" {
			noText += len(c)
			continue
		}
		head := c[0]
		source := head.Canonical
		if source == "" {
			source = head.URL
		}
		if sources[source] {
			// Two URLs with one canonical URL: the same document.
			continue
		}
		sources[source] = true
		meta := map[string]any{"url": source, "pages": int64(len(c))}
		if head.Published != "" {
			meta["published"] = head.Published
		}
		title := head.Title
		if title == "" {
			title = source
		}
		out = append(out, built{doc: document.Document{Source: source, Title: title, Text: text, Meta: meta}, head: head.URL})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].doc.Source < out[j].doc.Source })
	for _, b := range out {
		docs = append(docs, b.doc)
		heads = append(heads, b.head)
	}
	return docs, heads, noText
}

// joinPages concatenates the pages' texts, paragraph by paragraph,
// leaving out paragraphs an earlier page already contributed.
func joinPages(c []*page) string {
	var parts []string
	had := map[string]bool{}
	for i, p := range c {
		var mine []string
		for _, para := range strings.Split(p.Text, "\n\n") {
			para = strings.TrimSpace(para)
			if para == "" || (i > 0 && had[para]) {
				continue
			}
			mine = append(mine, para)
		}
		for _, para := range mine {
			had[para] = true
		}
		parts = append(parts, mine...)
	}
	return strings.Join(parts, "\n\n")
}

package split

import "strings"

// characterSplitter is LangChain's CharacterTextSplitter with a literal
// separator, keep_separator=False and strip_whitespace=True.
type characterSplitter struct {
	sep           string
	size, overlap int
}

// Split cuts text at every occurrence of the separator (between every code
// point when it is empty), drops empty pieces, and merges the rest with the
// separator re-inserted between them. Chunks can exceed the chunk size:
// a piece longer than it is kept whole, as LangChain does.
func (c *characterSplitter) Split(text string) []string {
	var ps []piece
	if c.sep == "" {
		ps = runePieces(make([]piece, 0, len(text)), text, 0, len(text))
	} else {
		ps = make([]piece, 0, strings.Count(text, c.sep)+1)
		for start := 0; ; {
			i := strings.Index(text[start:], c.sep)
			if i < 0 {
				if p, ok := newPiece(text, start, len(text)); ok {
					ps = append(ps, p)
				}
				break
			}
			if p, ok := newPiece(text, start, start+i); ok {
				ps = append(ps, p)
			}
			start += i + len(c.sep)
		}
	}
	m := merger{text: text, sep: c.sep, size: c.size, overlap: c.overlap}
	return m.merge(nil, ps)
}

package split

import "strings"

// recursiveSplitter is LangChain's RecursiveCharacterTextSplitter with
// literal separators, keep_separator=True ("start") and
// strip_whitespace=True.
type recursiveSplitter struct {
	seps          []string
	size, overlap int
}

// Split cuts text at the first separator that occurs in it, keeping each
// separator at the start of the piece that follows it; pieces shorter than
// the chunk size are merged (with nothing re-inserted, the separators are
// still in the pieces), longer ones are split again with the remaining
// separators. A piece that is still too long when no separator is left is
// emitted as is, unstripped, exactly as LangChain does.
func (r *recursiveSplitter) Split(text string) []string {
	return r.split(nil, text, 0, len(text), r.seps)
}

// split handles text[lo:hi]; working on offsets into the whole text keeps
// every piece, and most chunks, substrings of the input.
func (r *recursiveSplitter) split(dst []string, text string, lo, hi int, seps []string) []string {
	s := text[lo:hi]
	sep := seps[len(seps)-1]
	var next []string
	for i, cand := range seps {
		if cand == "" {
			sep = ""
			break
		}
		if strings.Contains(s, cand) {
			sep = cand
			next = seps[i+1:]
			break
		}
	}

	// re.split(f"({sep})", s) yields [t0, sep, t1, sep, t2, ...]; with
	// keep_separator="start" the pieces are t0, sep+t1, sep+t2, ..., that is
	// each piece runs from one separator occurrence to the next.
	var ps []piece
	if sep == "" {
		ps = runePieces(make([]piece, 0, hi-lo), text, lo, hi)
	} else {
		ps = make([]piece, 0, strings.Count(s, sep)+1)
		start := lo
		for from := lo; ; {
			i := strings.Index(text[from:hi], sep)
			if i < 0 {
				break
			}
			at := from + i
			if p, ok := newPiece(text, start, at); ok {
				ps = append(ps, p)
			}
			start = at
			from = at + len(sep)
		}
		if p, ok := newPiece(text, start, hi); ok {
			ps = append(ps, p)
		}
	}

	m := merger{text: text, sep: "", size: r.size, overlap: r.overlap}
	good := 0 // ps[good:i] are the pending short pieces
	for i, p := range ps {
		if p.n < r.size {
			continue
		}
		if good < i {
			dst = m.merge(dst, ps[good:i])
		}
		good = i + 1
		if len(next) == 0 {
			dst = append(dst, text[p.start:p.end])
		} else {
			dst = r.split(dst, text, p.start, p.end, next)
		}
	}
	if good < len(ps) {
		dst = m.merge(dst, ps[good:])
	}
	return dst
}

package answer

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Citation markers in answer text. Models cite the way they were shown
// and the way their training taught them, so parsing is liberal: [1],
// [1, 2], [1][2], [1-3], ［１］, 【1】, [Source 1], [出典1], [ソース: 2],
// 【1†source】. A marker is at most maxMarkerBytes long and names source
// numbers of one to three digits; "[2024]" and "[see below]" are text.

const (
	maxMarkerBytes = 64
	maxMarkerNum   = 999
	maxRangeSpan   = 20
)

// markerStatus is what [parseMarker] found at the start of a string.
type markerStatus int

const (
	notMarker markerStatus = iota
	// partialMarker: the string is a prefix of a marker; more text may
	// complete it.
	partialMarker
	fullMarker
)

func isOpen(r rune) bool  { return r == '[' || r == '［' || r == '【' }
func isClose(r rune) bool { return r == ']' || r == '］' || r == '】' }

// digit returns the value of an ASCII or full-width digit.
func digit(r rune) (int, bool) {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0'), true
	case r >= '０' && r <= '９':
		return int(r - '０'), true
	}
	return 0, false
}

// markerLabels are words a model may put before the numbers.
var markerLabels = []string{
	"sources", "source", "src", "documents", "document", "docs", "doc", "references", "reference", "refs", "ref",
	"出典", "ソース", "資料", "文書", "参考", "参照", "情報源", "ドキュメント",
}

// parseMarker looks for a citation marker at the start of s (which begins
// with an opening bracket). For a full marker it returns its length in
// bytes and the numbers it names, in order, ranges expanded.
func parseMarker(s string) (markerStatus, int, []int) {
	r, w := utf8.DecodeRuneInString(s)
	if !isOpen(r) {
		return notMarker, 0, nil
	}
	i := w
	rest := func() string { return s[i:] }
	skipSpace := func() {
		for i < len(s) {
			r, w := utf8.DecodeRuneInString(s[i:])
			if r != ' ' && r != '\u3000' && r != '\t' {
				return
			}
			i += w
		}
	}
	partialOrNot := func() (markerStatus, int, []int) {
		if i >= len(s) && len(s) < maxMarkerBytes {
			return partialMarker, 0, nil
		}
		return notMarker, 0, nil
	}
	skipSpace()
	// An optional label: "source", "出典", ...
	for _, l := range markerLabels {
		tail := rest()
		if len(tail) < len(l) {
			if tail != "" && strings.HasPrefix(l, strings.ToLower(tail)) {
				return partialMarker, 0, nil // the label may go on in the next delta
			}
			continue
		}
		if strings.EqualFold(tail[:len(l)], l) {
			i += len(l)
			skipSpace()
			if i < len(s) && (s[i] == ':' || s[i] == '#' || strings.HasPrefix(s[i:], "：")) {
				_, w := utf8.DecodeRuneInString(s[i:])
				i += w
				skipSpace()
			}
			break
		}
	}
	var nums []int
	for {
		// A number.
		n, digits := 0, 0
		for i < len(s) {
			r, w := utf8.DecodeRuneInString(s[i:])
			d, ok := digit(r)
			if !ok {
				break
			}
			n = n*10 + d
			digits++
			i += w
			if digits > 3 {
				return notMarker, 0, nil
			}
		}
		if digits == 0 {
			return partialOrNot()
		}
		// A range "1-3".
		skipSpace()
		if i >= len(s) {
			return partialOrNot()
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == '-' || r == '–' || r == '〜' || r == '~' || r == '～' {
			i += w
			skipSpace()
			m, mdigits := 0, 0
			for i < len(s) {
				r, w := utf8.DecodeRuneInString(s[i:])
				d, ok := digit(r)
				if !ok {
					break
				}
				m = m*10 + d
				mdigits++
				i += w
				if mdigits > 3 {
					return notMarker, 0, nil
				}
			}
			if mdigits == 0 {
				return partialOrNot()
			}
			if m < n || m-n > maxRangeSpan {
				return notMarker, 0, nil
			}
			for k := n; k <= m; k++ {
				nums = append(nums, k)
			}
			skipSpace()
			if i >= len(s) {
				return partialOrNot()
			}
			r, w = utf8.DecodeRuneInString(s[i:])
		} else {
			nums = append(nums, n)
		}
		switch {
		case isClose(r):
			i += w
			return fullMarker, i, nums
		case r == ',' || r == '，' || r == '、' || r == ';' || r == '；':
			i += w
			skipSpace()
			// "[1, source 2]": a label may repeat.
			for _, l := range markerLabels {
				if len(rest()) >= len(l) && strings.EqualFold(rest()[:len(l)], l) {
					i += len(l)
					skipSpace()
					break
				}
			}
		case r == '†':
			// 【1†source】: skip the annotation up to the closing bracket.
			i += w
			for i < len(s) && i < maxMarkerBytes {
				r, w := utf8.DecodeRuneInString(s[i:])
				if isClose(r) {
					return fullMarker, i + w, nums
				}
				if isOpen(r) || r == '\n' {
					return notMarker, 0, nil
				}
				i += w
			}
			return partialOrNot()
		default:
			if _, ok := digit(r); ok && s[i-1] == ' ' {
				continue // "[1 2]"
			}
			return notMarker, 0, nil
		}
		if i >= maxMarkerBytes {
			return notMarker, 0, nil
		}
	}
}

// citeMark is one source number of a kept marker, at Pos in the output.
type citeMark struct {
	n   int
	pos int // byte offset of the marker in the output text
	end int // byte offset just after the marker
}

// segment maps a stretch of copied text from the model's output (in) to
// kura's (out).
type segment struct{ in, out, n int }

// markerFilter checks the citation markers of a streamed answer against
// the sources given: markers naming given sources are written in one
// form, "[1][2]"; numbers naming no given source are removed and counted.
// A possible marker split across deltas is held back until it is known,
// and so are spaces before it, so the text a user sees never shows a
// marker that is later removed. Not safe for concurrent use.
type markerFilter struct {
	given   int // valid numbers are 1..given
	pending string
	in      int // bytes of model output consumed before pending
	out     strings.Builder
	marks   []citeMark
	removed int
	segs    []segment
}

func newMarkerFilter(given int) *markerFilter { return &markerFilter{given: given} }

// write adds a delta and returns the text that can be shown now.
func (f *markerFilter) write(delta string) string {
	f.pending += delta
	return f.drain(false)
}

// flush ends the stream: whatever is held back is resolved as text.
func (f *markerFilter) flush() string { return f.drain(true) }

func (f *markerFilter) copyText(s string) {
	if s == "" {
		return
	}
	f.segs = append(f.segs, segment{in: f.in, out: f.out.Len(), n: len(s)})
	f.out.WriteString(s)
	f.in += len(s)
}

func (f *markerFilter) drain(final bool) string {
	start := f.out.Len()
	for f.pending != "" {
		i := strings.IndexFunc(f.pending, isOpen)
		if i < 0 {
			// No marker ahead: hold back trailing spaces, which belong
			// to a marker if one follows, and the first bytes of a
			// character cut between deltas (it may be a bracket).
			keep := len(f.pending)
			if !final {
				keep = incompleteTail(f.pending)
				keep = len(strings.TrimRight(f.pending[:keep], " \t\u3000"))
			}
			f.copyText(f.pending[:keep])
			f.pending = f.pending[keep:]
			break
		}
		view := f.pending[i:]
		if !final {
			// A character cut between deltas is not there yet.
			view = view[:incompleteTail(view)]
		}
		status, n, nums := parseMarker(view)
		if status == partialMarker && final {
			status = notMarker
		}
		switch status {
		case partialMarker:
			// Hold the possible marker and the spaces before it.
			keep := len(strings.TrimRight(f.pending[:i], " \t\u3000"))
			f.copyText(f.pending[:keep])
			f.pending = f.pending[keep:]
			return f.out.String()[start:]
		case notMarker:
			_, w := utf8.DecodeRuneInString(f.pending[i:])
			f.copyText(f.pending[:i+w])
			f.pending = f.pending[i+w:]
		case fullMarker:
			before := f.pending[:i]
			kept := f.keep(nums)
			if len(kept) == 0 {
				// The whole marker goes, with the spaces before it.
				before = strings.TrimRight(before, " \t\u3000")
			}
			f.copyText(before)
			f.in += len(f.pending[:i]) - len(before)
			pos := f.out.Len()
			for _, k := range kept {
				f.out.WriteString("[" + strconv.Itoa(k) + "]")
			}
			for _, k := range kept {
				f.marks = append(f.marks, citeMark{n: k, pos: pos, end: f.out.Len()})
			}
			f.in += n
			f.pending = f.pending[i+n:]
		}
	}
	return f.out.String()[start:]
}

// incompleteTail returns the length of s without the bytes of a
// character that is not complete at its end.
func incompleteTail(s string) int {
	for k := 1; k <= 3 && k <= len(s); k++ {
		if utf8.RuneStart(s[len(s)-k]) {
			if !utf8.FullRuneInString(s[len(s)-k:]) {
				return len(s) - k
			}
			break
		}
	}
	return len(s)
}

// keep returns the given source numbers of a marker, without repeats,
// and counts the others as removed.
func (f *markerFilter) keep(nums []int) []int {
	var kept []int
	for _, n := range nums {
		if n < 1 || n > f.given {
			f.removed++
			continue
		}
		dup := false
		for _, k := range kept {
			dup = dup || k == n
		}
		if !dup {
			kept = append(kept, n)
		}
	}
	return kept
}

// text is everything shown so far.
func (f *markerFilter) text() string { return f.out.String() }

// mapOffset maps a byte offset of the model's output to kura's text: an
// offset inside a rewritten or removed marker maps to where the marker
// starts in kura's text.
func (f *markerFilter) mapOffset(in int) int {
	out := 0
	for _, s := range f.segs {
		switch {
		case in < s.in:
			return out
		case in <= s.in+s.n:
			return s.out + in - s.in
		}
		out = s.out + s.n
	}
	return f.out.Len()
}

// stripMarkers removes citation markers from text, for a previous answer
// replayed to a model as conversation history.
func stripMarkers(text string) string {
	f := newMarkerFilter(0)
	f.write(text)
	f.flush()
	return strings.TrimFunc(f.text(), unicode.IsSpace)
}

package filter

import (
	"strings"
	"unicode/utf8"
)

type likeKind uint8

const (
	likeExact likeKind = iota
	likePrefix
	likeSuffix
	likeContains
	likeAny  // "%" alone, or only %s
	likeGlob // anything with _ or % in the middle
)

type elemKind uint8

const (
	eLit  elemKind = iota
	eOne           // _
	eMany          // %
)

type likeElem struct {
	kind elemKind
	lit  string
}

// likeMatcher is a compiled like pattern. The common shapes (exact,
// prefix%, %suffix, %infix%) use strings functions; the rest run a
// backtracking glob match that never allocates.
type likeMatcher struct {
	kind  likeKind
	lit   string
	elems []likeElem
}

// compileLike reads % (any run of characters), _ (exactly one character)
// and \% \_ \\ (the literal characters). A backslash before anything else
// is a literal backslash.
func compileLike(p string) likeMatcher {
	var elems []likeElem
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			elems = append(elems, likeElem{kind: eLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p) && (p[i+1] == '%' || p[i+1] == '_' || p[i+1] == '\\'):
			lit.WriteByte(p[i+1])
			i++
		case c == '%':
			flush()
			if len(elems) == 0 || elems[len(elems)-1].kind != eMany {
				elems = append(elems, likeElem{kind: eMany})
			}
		case c == '_':
			flush()
			elems = append(elems, likeElem{kind: eOne})
		default:
			lit.WriteByte(c)
		}
	}
	flush()

	m := likeMatcher{kind: likeGlob, elems: elems}
	switch {
	case len(elems) == 0:
		m.kind = likeExact
	case len(elems) == 1 && elems[0].kind == eMany:
		m.kind = likeAny
	case len(elems) == 1 && elems[0].kind == eLit:
		m.kind, m.lit = likeExact, elems[0].lit
	case len(elems) == 2 && elems[0].kind == eLit && elems[1].kind == eMany:
		m.kind, m.lit = likePrefix, elems[0].lit
	case len(elems) == 2 && elems[0].kind == eMany && elems[1].kind == eLit:
		m.kind, m.lit = likeSuffix, elems[1].lit
	case len(elems) == 3 && elems[0].kind == eMany && elems[1].kind == eLit && elems[2].kind == eMany:
		m.kind, m.lit = likeContains, elems[1].lit
	}
	return m
}

func (m *likeMatcher) match(s string) bool {
	switch m.kind {
	case likeExact:
		return s == m.lit
	case likePrefix:
		return strings.HasPrefix(s, m.lit)
	case likeSuffix:
		return strings.HasSuffix(s, m.lit)
	case likeContains:
		return strings.Contains(s, m.lit)
	case likeAny:
		return true
	}
	return globMatch(m.elems, s)
}

// globMatch backtracks only to the most recent %, which is enough: a later
// % can absorb whatever an earlier one would have, so the match runs in
// O(len(elems)·len(s)) at worst.
func globMatch(elems []likeElem, s string) bool {
	pi, si := 0, 0
	starPi, starSi := -1, 0
	for {
		if pi < len(elems) {
			e := &elems[pi]
			switch e.kind {
			case eMany:
				starPi, starSi = pi, si
				pi++
				continue
			case eOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			default:
				if strings.HasPrefix(s[si:], e.lit) {
					si += len(e.lit)
					pi++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starPi < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		starSi += n
		pi, si = starPi+1, starSi
	}
}

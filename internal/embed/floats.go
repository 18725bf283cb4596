package embed

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unsafe"
)

// A batch of 96 1024-dimensional vectors is about 100,000 numbers, 1 MB of
// JSON. Through encoding/json it costs ~40 ms of CPU: the body is scanned
// once to find its end, once more to skip to a custom decoder, and the
// numbers go through reflection. On a 2-core machine with 8 batches in
// flight that made ingest CPU-bound rather than latency-bound. vectorsAt
// walks the response once: it validates the whole document (fuzzed
// against encoding/json, FuzzVectorsAt) and parses the one array it needs
// straight into float32.

// vectorsAt returns the array of number arrays found under the keys of
// path in the JSON object body, e.g. vectorsAt(b, "embeddings", "float").
// found is false if the path is absent or null.
func vectorsAt(body []byte, path ...string) (m [][]float32, found bool, err error) {
	p := floatParser{b: body}
	p.ws()
	m, found, err = p.object(path, 0)
	if err == nil {
		err = p.end()
	}
	if err != nil {
		return nil, false, err
	}
	return m, found, nil
}

// maxDepth bounds nesting, so a hostile body cannot exhaust the stack.
const maxDepth = 256

type floatParser struct {
	b []byte
	i int
}

// object walks an object, descending into path and skipping the rest.
func (p *floatParser) object(path []string, depth int) (m [][]float32, found bool, err error) {
	if depth > maxDepth {
		return nil, false, p.fail("less nesting")
	}
	if !p.byte('{') {
		return nil, false, p.fail("an object")
	}
	p.ws()
	if p.byte('}') {
		return nil, false, nil
	}
	for {
		p.ws()
		key, err := p.str()
		if err != nil {
			return nil, false, err
		}
		p.ws()
		if !p.byte(':') {
			return nil, false, p.fail(`":"`)
		}
		p.ws()
		switch {
		case len(path) > 0 && key == path[0] && p.lit("null"):
		case len(path) == 1 && key == path[0]:
			if m, err = p.matrix(); err != nil {
				return nil, false, err
			}
			found = true
		case len(path) > 1 && key == path[0] && p.peek() == '{':
			if m, found, err = p.object(path[1:], depth+1); err != nil {
				return nil, false, err
			}
		default:
			if err := p.skip(depth + 1); err != nil {
				return nil, false, err
			}
		}
		p.ws()
		if p.byte('}') {
			return m, found, nil
		}
		if !p.byte(',') {
			return nil, false, p.fail(`"," or "}"`)
		}
	}
}

// matrix parses an array of arrays of numbers.
func (p *floatParser) matrix() ([][]float32, error) {
	if !p.byte('[') {
		return nil, p.fail("an array of vectors")
	}
	out := [][]float32{}
	width := 0
	p.ws()
	if p.byte(']') {
		return out, nil
	}
	for {
		p.ws()
		if !p.byte('[') {
			return nil, p.fail("a vector (array of numbers)")
		}
		row := make([]float32, 0, width)
		p.ws()
		if !p.byte(']') {
			for {
				p.ws()
				x, err := p.number()
				if err != nil {
					return nil, err
				}
				row = append(row, x)
				p.ws()
				if p.byte(']') {
					break
				}
				if !p.byte(',') {
					return nil, p.fail(`"," or "]" in a vector`)
				}
			}
		}
		width = max(width, len(row))
		out = append(out, row)
		p.ws()
		if p.byte(']') {
			return out, nil
		}
		if !p.byte(',') {
			return nil, p.fail(`"," or "]" between vectors`)
		}
	}
}

// skip validates and passes over any JSON value.
func (p *floatParser) skip(depth int) error {
	if depth > maxDepth {
		return p.fail("less nesting")
	}
	switch p.peek() {
	case '{':
		_, _, err := p.object(nil, depth)
		return err
	case '[':
		p.i++
		p.ws()
		if p.byte(']') {
			return nil
		}
		for {
			p.ws()
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.ws()
			if p.byte(']') {
				return nil
			}
			if !p.byte(',') {
				return p.fail(`"," or "]"`)
			}
		}
	case '"':
		_, err := p.str()
		return err
	case 't', 'f', 'n':
		if p.lit("true") || p.lit("false") || p.lit("null") {
			return nil
		}
		return p.fail("a value")
	default:
		_, err := p.scanNumber()
		return err
	}
}

// str reads a string; keys with escapes are unquoted by strconv-exact
// JSON rules through encoding/json (rare, so speed does not matter).
func (p *floatParser) str() (string, error) {
	if !p.byte('"') {
		return "", p.fail("a string")
	}
	start := p.i
	escaped := false
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if !escaped {
				return string(raw), nil
			}
			var s string
			if err := json.Unmarshal(p.b[start-1:p.i], &s); err != nil {
				return "", fmt.Errorf("malformed JSON string at byte %d: %w", start-1, err)
			}
			return s, nil
		case c == '\\':
			escaped = true
			if p.i+1 >= len(p.b) {
				return "", p.fail("an escape")
			}
			switch p.b[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				if p.i+6 > len(p.b) {
					return "", p.fail("four hex digits")
				}
				for _, h := range p.b[p.i+2 : p.i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return "", p.fail("four hex digits")
					}
				}
				p.i += 6
			default:
				return "", p.fail("an escape")
			}
		case c < 0x20:
			return "", p.fail("a string character")
		default:
			p.i++
		}
	}
	return "", p.fail(`the closing '"'`)
}

func (p *floatParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *floatParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *floatParser) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *floatParser) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// scanNumber passes over one JSON number and returns its bytes. The
// grammar is checked by hand: strconv accepts forms JSON does not (hex,
// "inf", "1_0").
func (p *floatParser) scanNumber() ([]byte, error) {
	start := p.i
	p.byte('-')
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	bad := func() ([]byte, error) {
		p.i = start
		return nil, p.fail("a number")
	}
	intStart := p.i
	if n := digits(); n == 0 || (n > 1 && p.b[intStart] == '0') {
		return bad()
	}
	if p.byte('.') && digits() == 0 {
		return bad()
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if !p.byte('+') {
			p.byte('-')
		}
		if digits() == 0 {
			return bad()
		}
	}
	return p.b[start:p.i], nil
}

// number reads one JSON number as a float32.
func (p *floatParser) number() (float32, error) {
	tok, err := p.scanNumber()
	if err != nil {
		return 0, err
	}
	// The bytes are not retained: a string view saves one allocation per
	// number, 100,000 per batch.
	x, err := strconv.ParseFloat(unsafe.String(&tok[0], len(tok)), 32)
	if err != nil {
		return 0, fmt.Errorf("vector value %q: %w", tok, err)
	}
	return float32(x), nil
}

func (p *floatParser) end() error {
	p.ws()
	if p.i != len(p.b) {
		return p.fail("the end of the document")
	}
	return nil
}

func (p *floatParser) fail(want string) error {
	got := "the end"
	if p.i < len(p.b) {
		got = strconv.Quote(string(p.b[p.i:min(p.i+12, len(p.b))]))
	}
	return fmt.Errorf("malformed JSON: expected %s at byte %d, found %s", want, p.i, got)
}

// indexedVectors decodes an OpenAI embeddings answer: the objects of
// "data", each with its "index" and its "embedding" (an array of
// numbers). Vectors are returned in index order; a missing, repeated or
// out-of-range index is an error, never a shifted vector.
func indexedVectors(body []byte, n int) ([][]float32, error) {
	p := floatParser{b: body}
	p.ws()
	out := make([][]float32, n)
	seen := 0
	err := p.members(func(key string) error {
		if key != "data" || p.peek() != '[' {
			return p.skip(1)
		}
		return p.elements(func() error {
			idx, vec, err := p.indexedVector()
			if err != nil {
				return err
			}
			if idx < 0 || idx >= n || out[idx] != nil {
				return fmt.Errorf("vector index %d is out of range or repeated for %d texts", idx, n)
			}
			out[idx] = vec
			seen++
			return nil
		})
	})
	if err == nil {
		err = p.end()
	}
	if err != nil {
		return nil, err
	}
	if seen != n {
		return nil, fmt.Errorf("%d vectors for %d texts", seen, n)
	}
	return out, nil
}

// indexedVector reads one {"index": i, "embedding": [...], ...} object.
func (p *floatParser) indexedVector() (int, []float32, error) {
	idx, vec := -1, []float32(nil)
	err := p.members(func(key string) error {
		switch {
		case key == "index":
			tok, err := p.scanNumber()
			if err != nil {
				return err
			}
			i, err := strconv.Atoi(string(tok))
			if err != nil {
				return fmt.Errorf("vector index %s: %w", tok, err)
			}
			idx = i
		case key == "embedding" && p.peek() == '[':
			vec = []float32{}
			return p.elements(func() error {
				x, err := p.number()
				vec = append(vec, x)
				return err
			})
		case key == "embedding":
			return p.fail("an array of numbers (kura asks for encoding_format float)")
		default:
			return p.skip(2)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	if idx < 0 || vec == nil {
		return 0, nil, fmt.Errorf("an embedding object lacks its index or its vector")
	}
	return idx, vec, nil
}

// members walks an object, calling member with each key while positioned
// at its value; member must consume the value.
func (p *floatParser) members(member func(key string) error) error {
	if !p.byte('{') {
		return p.fail("an object")
	}
	p.ws()
	if p.byte('}') {
		return nil
	}
	for {
		p.ws()
		key, err := p.str()
		if err != nil {
			return err
		}
		p.ws()
		if !p.byte(':') {
			return p.fail(`":"`)
		}
		p.ws()
		if err := member(key); err != nil {
			return err
		}
		p.ws()
		if p.byte('}') {
			return nil
		}
		if !p.byte(',') {
			return p.fail(`"," or "}"`)
		}
	}
}

// elements walks an array, calling elem at each element.
func (p *floatParser) elements(elem func() error) error {
	if !p.byte('[') {
		return p.fail("an array")
	}
	p.ws()
	if p.byte(']') {
		return nil
	}
	for {
		p.ws()
		if err := elem(); err != nil {
			return err
		}
		p.ws()
		if p.byte(']') {
			return nil
		}
		if !p.byte(',') {
			return p.fail(`"," or "]"`)
		}
	}
}

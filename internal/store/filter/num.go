package filter

import (
	"encoding/json"
	"math"
	"strconv"
)

type numKind uint8

const (
	nInt  numKind = iota // fits int64
	nUint                // above math.MaxInt64
	nFloat
)

// num is a number from a literal or a row, kept exact: integers are never
// squeezed through float64, so 9007199254740993 == 9007199254740993 holds.
type num struct {
	kind numKind
	i    int64
	u    uint64
	f    float64
}

func intNum(i int64) num { return num{kind: nInt, i: i} }

func uintNum(u uint64) num {
	if u <= math.MaxInt64 {
		return num{kind: nInt, i: int64(u)}
	}
	return num{kind: nUint, u: u}
}

// toNum converts any Go numeric type, or a json.Number, without allocating.
func toNum(v any) (num, bool) {
	switch x := v.(type) {
	case int:
		return intNum(int64(x)), true
	case int64:
		return intNum(x), true
	case float64:
		return num{kind: nFloat, f: x}, true
	case json.Number:
		return parseJSONNumber(string(x))
	case int32:
		return intNum(int64(x)), true
	case int16:
		return intNum(int64(x)), true
	case int8:
		return intNum(int64(x)), true
	case uint:
		return uintNum(uint64(x)), true
	case uint64:
		return uintNum(x), true
	case uint32:
		return intNum(int64(x)), true
	case uint16:
		return intNum(int64(x)), true
	case uint8:
		return intNum(int64(x)), true
	case uintptr:
		return uintNum(uint64(x)), true
	case float32:
		return num{kind: nFloat, f: float64(x)}, true
	}
	return num{}, false
}

// parseJSONNumber reads integers exactly and everything else as float64.
// It avoids strconv on the common small-integer path, and strconv's error
// values (which allocate) for every valid number.
func parseJSONNumber(s string) (num, bool) {
	neg := len(s) > 0 && s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	if digits != "" && len(digits) <= 18 {
		var v int64
		ok := true
		for i := 0; i < len(digits); i++ {
			c := digits[i]
			if c < '0' || c > '9' {
				ok = false
				break
			}
			v = v*10 + int64(c-'0')
		}
		if ok {
			if neg {
				v = -v
			}
			return intNum(v), true
		}
	}
	if allDigits(digits) {
		if neg {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return intNum(i), true
			}
		} else if u, err := strconv.ParseUint(digits, 10, 64); err == nil {
			return uintNum(u), true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return num{}, false
	}
	return num{kind: nFloat, f: f}, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cmpNum orders a and b; ok is false when either is NaN.
func cmpNum(a, b num) (c int, ok bool) {
	switch {
	case a.kind == nInt && b.kind == nInt:
		return cmp3(a.i, b.i), true
	case a.kind == nFloat && b.kind == nFloat:
		if math.IsNaN(a.f) || math.IsNaN(b.f) {
			return 0, false
		}
		return cmp3(a.f, b.f), true
	case a.kind == nFloat:
		c, ok := cmpIntFloat(b, a.f)
		return -c, ok
	case b.kind == nFloat:
		return cmpIntFloat(a, b.f)
	case a.kind == nUint && b.kind == nUint:
		return cmp3(a.u, b.u), true
	case a.kind == nUint:
		return 1, true
	default:
		return -1, true
	}
}

const two63 = 9223372036854775808.0 // 2^63, exact in float64

// cmpIntFloat orders an integer num against f exactly.
func cmpIntFloat(a num, f float64) (int, bool) {
	if math.IsNaN(f) {
		return 0, false
	}
	t := math.Trunc(f)
	frac := f - t
	if math.IsInf(f, 0) {
		frac = 0
	}
	if a.kind == nUint {
		switch {
		case t >= 2*two63:
			return -1, true
		case t < two63:
			return 1, true
		}
		if c := cmp3(a.u, uint64(t)); c != 0 {
			return c, true
		}
	} else {
		switch {
		case t >= two63:
			return -1, true
		case t < -two63:
			return 1, true
		}
		if c := cmp3(a.i, int64(t)); c != 0 {
			return c, true
		}
	}
	switch {
	case frac > 0:
		return -1, true
	case frac < 0:
		return 1, true
	}
	return 0, true
}

func cmp3[T int64 | uint64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

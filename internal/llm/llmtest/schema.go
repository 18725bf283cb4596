package llmtest

import (
	"fmt"
	"math"
	"sort"
)

// A small schema checker: each provider's fake lists the fields its API
// accepts with a check for each, so a client that misspells an option
// ("top_k" where Cohere says "k") or sends the wrong type gets the 400 the
// real service would answer.

type field func(v any) error

// checkFields validates m against spec: every field known, every check
// passing, every required field present.
func checkFields(where string, m map[string]any, spec map[string]field, required ...string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		check, ok := spec[k]
		if !ok {
			return fmt.Errorf("%s: unknown field %q", where, k)
		}
		if check != nil {
			if err := check(m[k]); err != nil {
				return fmt.Errorf("%s.%s: %v", where, k, err)
			}
		}
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			return fmt.Errorf("%s: %s is required", where, k)
		}
	}
	return nil
}

func str(v any) error {
	if _, ok := v.(string); !ok {
		return fmt.Errorf("must be a string, got %T", v)
	}
	return nil
}

func nonEmpty(v any) error {
	if s, ok := v.(string); !ok || s == "" {
		return fmt.Errorf("must be a non-empty string")
	}
	return nil
}

func oneOf(values ...string) field {
	return func(v any) error {
		s, _ := v.(string)
		for _, x := range values {
			if s == x {
				return nil
			}
		}
		return fmt.Errorf("must be one of %v, got %v", values, v)
	}
}

func isTrue(v any) error {
	if b, ok := v.(bool); !ok || !b {
		return fmt.Errorf("must be true for a streamed answer, got %v", v)
	}
	return nil
}

func boolean(v any) error {
	if _, ok := v.(bool); !ok {
		return fmt.Errorf("must be a boolean, got %T", v)
	}
	return nil
}

func number(lo, hi float64) field {
	return func(v any) error {
		x, ok := v.(float64)
		if !ok {
			return fmt.Errorf("must be a number, got %T", v)
		}
		if x < lo || x > hi {
			return fmt.Errorf("must be between %g and %g, got %g", lo, hi, x)
		}
		return nil
	}
}

func integer(lo, hi float64) field {
	return func(v any) error {
		x, ok := v.(float64)
		if !ok || x != math.Trunc(x) {
			return fmt.Errorf("must be an integer, got %v", v)
		}
		if x < lo || x > hi {
			return fmt.Errorf("must be between %g and %g, got %g", lo, hi, x)
		}
		return nil
	}
}

func strings_(maxN int) field {
	return func(v any) error {
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("must be an array of strings, got %T", v)
		}
		if maxN > 0 && len(arr) > maxN {
			return fmt.Errorf("at most %d strings, got %d", maxN, len(arr))
		}
		for i, x := range arr {
			if _, ok := x.(string); !ok {
				return fmt.Errorf("[%d] must be a string", i)
			}
		}
		return nil
	}
}

// objects checks an array of objects with each.
func objects(each func(i int, m map[string]any) error) field {
	return func(v any) error {
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("must be an array, got %T", v)
		}
		for i, x := range arr {
			m, ok := x.(map[string]any)
			if !ok {
				return fmt.Errorf("[%d] must be an object", i)
			}
			if err := each(i, m); err != nil {
				return err
			}
		}
		return nil
	}
}

func object(where string, spec map[string]field, required ...string) field {
	return func(v any) error {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("must be an object, got %T", v)
		}
		return checkFields(where, m, spec, required...)
	}
}

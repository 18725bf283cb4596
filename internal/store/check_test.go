package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	f := func(name string, ok bool) {
		t.Helper()
		err := ValidateName(name)
		if (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", name, err, ok)
		}
		if err != nil && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "letters, digits and underscores")) {
			t.Errorf("ValidateName(%q) error %q does not state the rule", name, err)
		}
	}
	f("kura", true)
	f("_a1", true)
	f("A_b_9", true)
	f(strings.Repeat("x", 255), true)
	f(strings.Repeat("x", 256), false)
	f("", false)
	f("9a", false)
	f("a-b", false)
	f("a.b", false)
	f("蔵", false)
}

func TestEntity(t *testing.T) {
	r := Row{ID: 7, Text: "t", Vector: []float32{1}, Fields: map[string]any{"source": "s", "n": 1}}
	f := func(fields []string, want string) {
		t.Helper()
		b, _ := json.Marshal(r.Entity(fields))
		if string(b) != want {
			t.Errorf("Entity(%q) = %s, want %s", fields, b, want)
		}
	}
	f(nil, `{}`)
	f([]string{"text"}, `{"text":"t"}`)
	f([]string{"id", "n", "missing", "vector"}, `{"id":7,"n":1}`)
	f([]string{"*"}, `{"n":1,"source":"s","text":"t"}`)
}

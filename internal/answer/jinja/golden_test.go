package jinja

import (
	"encoding/json"
	"os"
	"testing"
)

// TestGolden renders testdata/cases.json and compares with what Jinja2
// 3.1 itself rendered (testdata/golden.json, written by golden.py): the
// same text, or an error where Jinja2 raised one.
func TestGolden(t *testing.T) {
	var cases []struct {
		Name     string         `json:"name"`
		Template string         `json:"template"`
		Vars     map[string]any `json:"vars"`
	}
	var golden []struct {
		Name  string `json:"name"`
		Out   string `json:"out"`
		Error string `json:"error"`
	}
	readJSON(t, "testdata/cases.json", &cases)
	readJSON(t, "testdata/golden.json", &golden)
	if len(cases) != len(golden) {
		t.Fatalf("%d cases but %d golden results; run python3 golden.py in testdata", len(cases), len(golden))
	}
	for i, c := range cases {
		want := golden[i]
		t.Run(c.Name, func(t *testing.T) {
			got, err := render(c.Template, fromJSON(c.Vars).(map[string]any))
			if want.Error != "" {
				if err == nil {
					t.Fatalf("rendered %q; Jinja2 raised %s", got, want.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v; Jinja2 rendered %q", err, want.Out)
			}
			if got != want.Out {
				t.Fatalf("got  %q\nwant %q (Jinja2)", got, want.Out)
			}
		})
	}
}

func render(src string, vars map[string]any) (string, error) {
	tpl, err := Parse("case", src)
	if err != nil {
		return "", err
	}
	return tpl.Render(vars)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// fromJSON turns JSON numbers that are whole into integers, as Python's
// json module does.
func fromJSON(v any) any {
	switch v := v.(type) {
	case float64:
		if v == float64(int64(v)) {
			return int64(v)
		}
	case []any:
		for i := range v {
			v[i] = fromJSON(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = fromJSON(v[k])
		}
	}
	return v
}

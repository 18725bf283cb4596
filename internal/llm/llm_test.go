package llm

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	info := Info{Provider: "openai", Options: []string{OptMaxTokens, OptTemperature, OptTopP}}
	f := func(o Options, wantBad string) {
		t.Helper()
		err := Check(info, o)
		if wantBad == "" {
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			return
		}
		if !errors.Is(err, ErrUnsupportedOption) || !strings.Contains(err.Error(), wantBad) {
			t.Fatalf("Check = %v, want ErrUnsupportedOption naming %s", err, wantBad)
		}
	}
	n, x := 3, 0.5
	f(Options{}, "")
	f(Options{MaxTokens: &n, Temperature: &x}, "")
	f(Options{TopK: &n}, "top_k")
	f(Options{TopK: &n, Stop: []string{"\n"}}, "stop, top_k")
}

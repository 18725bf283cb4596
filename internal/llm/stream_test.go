package llm

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/llm/llmtest"
	"github.com/kura-rag/kura/internal/provider"
)

// testAnswer is an answer that records what it emits.
func testAnswer(docs []Document) (*answer, *[]Event) {
	var events []Event
	_, wd := provider.NewWatchdog(context.Background(), time.Hour)
	a := newAnswer(func(ev Event) error { events = append(events, ev); return nil }, wd, time.Hour, docs)
	return a, &events
}

func TestCitationResolution(t *testing.T) {
	text := "GitOpsは宣言的です。Argo CDが同期します。"
	f := func(c charCitation, want *Citation) {
		t.Helper()
		a, events := testAnswer(sources)
		if err := a.cite(c); err != nil {
			t.Fatal(err)
		}
		// Citations wait for the text they cover.
		for _, piece := range []string{"GitOpsは", "宣言的です。", "Argo CDが同期します。"} {
			a.delta(piece)
		}
		a.finishCitations()
		var got []Citation
		for _, ev := range *events {
			if ev.Citation != nil {
				got = append(got, *ev.Citation)
			}
		}
		switch {
		case want == nil && len(got) != 0:
			t.Fatalf("%+v: got %+v, want none", c, got)
		case want != nil && (len(got) != 1 || !reflect.DeepEqual(got[0], *want)):
			t.Fatalf("%+v: got %+v, want %+v", c, got, *want)
		}
		if want != nil && text[want.Start:want.End] != want.Text {
			t.Fatalf("offsets do not point at the text")
		}
	}
	second := strings.Index(text, "Argo")
	// Character offsets, as Cohere counts.
	f(charCitation{start: 0, end: 11, text: "GitOpsは宣言的です", refs: []string{"1"}},
		&Citation{Start: 0, End: len("GitOpsは宣言的です"), Text: "GitOpsは宣言的です", DocumentIDs: []string{"1"}})
	// Byte offsets (a provider counting differently): found by its text.
	f(charCitation{start: second, end: second + 7, text: "Argo CD", refs: []string{"doc:1"}},
		&Citation{Start: second, End: second + 7, Text: "Argo CD", DocumentIDs: []string{"2"}})
	// Positional names and repeats map onto kura's IDs once.
	f(charCitation{start: 0, end: 6, text: "GitOps", refs: []string{"doc_1", "2", "doc-0", "tool:x"}},
		&Citation{Start: 0, End: 6, Text: "GitOps", DocumentIDs: []string{"2", "1"}})
	// A citation of text that is not in the answer, or of no known
	// document, is dropped rather than shown wrong.
	f(charCitation{start: 0, end: 3, text: "Flux", refs: []string{"1"}}, nil)
	f(charCitation{start: 0, end: 6, text: "GitOps", refs: []string{"99", "doc_7"}}, nil)
	f(charCitation{start: 5, end: 2, refs: []string{"1"}}, nil)
}

func TestNormalFinish(t *testing.T) {
	for in, want := range map[string]string{"COMPLETE": "stop", "stop": "stop", "MAX_TOKENS": "length", "length": "length",
		"STOP_SEQUENCE": "stop_sequence", "content_filter": "content_filter", "": ""} {
		if got := normalFinish(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// decoders are the providers' stream readers, for fuzzing and
// benchmarks.
var decoders = map[string]func(body []byte, a *answer) error{
	"cohere": func(b []byte, a *answer) error { return readCohere(bytes.NewReader(b), true, a) },
	"oci":    func(b []byte, a *answer) error { return readOCI(bytes.NewReader(b), true, a) },
	"ollama": func(b []byte, a *answer) error { return readOllama(bytes.NewReader(b), false, a, nil) },
}

// checkAnswer verifies what a decoder made of any input: the text is what
// was emitted, and every citation points at that text and at a document
// that was sent.
func checkAnswer(t *testing.T, a *answer, events []Event) {
	t.Helper()
	var text strings.Builder
	for _, ev := range events {
		text.WriteString(ev.Delta)
	}
	if text.String() != string(a.text) || len(a.offsets) != utf8.RuneCount(a.text) {
		t.Fatalf("emitted %q, answer %q (%d offsets)", text.String(), a.text, len(a.offsets))
	}
	for _, c := range a.citations {
		if c.Start < 0 || c.End < c.Start || c.End > len(a.text) || string(a.text[c.Start:c.End]) != c.Text {
			t.Fatalf("citation %+v does not point into %q", c, a.text)
		}
		for _, id := range c.DocumentIDs {
			if !a.docIDs[id] {
				t.Fatalf("citation of unknown document %q", id)
			}
		}
	}
}

// FuzzDecoders feeds arbitrary bytes to each provider's stream reader.
func FuzzDecoders(f *testing.F) {
	for _, seed := range []string{
		"event: content-delta\ndata: {\"type\":\"content-delta\",\"delta\":{\"message\":{\"content\":{\"text\":\"GitOps\"}}}}\n\n" +
			"data: {\"type\":\"citation-start\",\"delta\":{\"message\":{\"citations\":{\"start\":0,\"end\":3,\"text\":\"Git\",\"sources\":[{\"type\":\"document\",\"id\":\"1\"}]}}}}\n\n" +
			"data: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"COMPLETE\",\"usage\":{\"tokens\":{\"input_tokens\":3,\"output_tokens\":1}}}}\n\n",
		"data: {\"apiFormat\":\"COHERE\",\"text\":\"日本\"}\n\ndata: {\"text\":\"日本\",\"finishReason\":\"COMPLETE\",\"citations\":[{\"start\":0,\"end\":2,\"text\":\"日本\",\"documentIds\":[\"doc_0\"]}]}\n\n",
		"data: {\"index\":0,\"message\":{\"role\":\"ASSISTANT\",\"content\":[{\"type\":\"TEXT\",\"text\":\"x\"}]}}\n\ndata: {\"finishReason\":\"stop\"}\n\n",
		"data: {\"code\":\"500\",\"message\":\"boom\"}\n\n",
		"{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"done\":true,\"done_reason\":\"stop\",\"eval_count\":2}\n",
		"{\"error\":\"model requires more system memory\"}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, decode := range decoders {
			a, events := testAnswer(sources)
			err := decode(body, a)
			if err == nil {
				err = a.finishCitations()
			}
			_ = name
			checkAnswer(t, a, *events)
		}
	})
}

// TestDecodersOnFakes runs each decoder over a fake's real output, so the
// fuzz corpus and the benchmarks start from the wire format itself.
func TestDecodersOnFakes(t *testing.T) {
	for name, body := range fakeStreams(t, llmtest.Options{Reply: llmtest.DefaultReply}) {
		decode := decoders[strings.TrimSuffix(name, "-generic")]
		if decode == nil {
			continue // openai's stream is read by the SDK
		}
		a, events := testAnswer(sources)
		if err := decode(body, a); err != nil || !a.done {
			t.Fatalf("%s: %v (done %v)", name, err, a.done)
		}
		a.finishCitations()
		checkAnswer(t, a, *events)
		if string(a.text) != llmtest.DefaultReply {
			t.Fatalf("%s: %q", name, a.text)
		}
	}
}

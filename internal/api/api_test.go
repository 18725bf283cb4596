package api

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/store"
)

func ptr[T any](v T) *T { return &v }

// keys returns the top-level JSON keys of v, sorted.
func keys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestHitIsTheStoreHit(t *testing.T) {
	// The search --json line and the API hit are one shape: a store hit
	// converts directly and marshals to the same bytes.
	sh := store.Hit{ID: 42, Score: 0.83, Entity: map[string]any{"text": "t", "source": "s"}}
	a, _ := json.Marshal(sh)
	b, _ := json.Marshal(Hit(sh))
	if string(a) != string(b) || string(a) != `{"id":42,"score":0.83,"entity":{"source":"s","text":"t"}}` {
		t.Fatalf("store %s api %s", a, b)
	}
}

func TestAnswerShape(t *testing.T) {
	// The ask --json keys of issue 10 and the contract; optional ones are
	// left out when empty, trace_id is always there (empty when untraced).
	a := Answer{ID: "ans_1", Question: "q", Answer: "a [1]",
		Citations: []Citation{{N: 1, ID: 42, Source: "s", Title: "t", ChunkIndex: 3, Text: "span"}},
		Sources:   []Source{{N: 1, Hit: Hit{ID: 42, Score: 0.8, Entity: map[string]any{"text": "x"}}}},
		LLM:       "extractive", Extractive: true}
	got := strings.Join(keys(t, a), ",")
	want := "answer,citations,extractive,id,llm,not_found,question,removed_citations,sources,timings,trace_id,usage"
	if got != want {
		t.Fatalf("keys %s, want %s", got, want)
	}
	b, _ := json.Marshal(a.Sources[0])
	if string(b) != `{"n":1,"id":42,"score":0.8,"entity":{"text":"x"}}` {
		t.Fatalf("source %s", b)
	}
	b, _ = json.Marshal(a.Citations[0])
	if string(b) != `{"n":1,"id":42,"source":"s","title":"t","chunk_index":3,"text":"span"}` {
		t.Fatalf("citation %s", b)
	}
	a.TraceID, a.ConversationID, a.Created = "0123", "c1", time.Unix(1, 0)
	a.Timings = Timings{RetrieveMS: 3.1, FirstTokenMS: 5, TotalMS: 40.2}
	b, _ = json.Marshal(a.Timings)
	if string(b) != `{"retrieve_ms":3.1,"first_token_ms":5,"total_ms":40.2}` {
		t.Fatalf("timings %s", b)
	}
	var back Answer
	b, _ = json.Marshal(a)
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back.Citations, a.Citations) || back.TraceID != "0123" || !back.Created.Equal(a.Created) {
		t.Fatalf("round trip: %v %+v", err, back)
	}
}

func TestSearchResponseShape(t *testing.T) {
	f := func(r SearchResponse, want string) {
		t.Helper()
		b, _ := json.Marshal(r)
		if string(b) != want {
			t.Fatalf("got %s, want %s", b, want)
		}
	}
	f(SearchResponse{Hits: []Hit{}}, `{"hits":[]}`)
	f(SearchResponse{Results: []BatchResult{{QueryID: json.RawMessage(`"q1"`), Hits: []Hit{}}}}, `{"results":[{"query_id":"q1","hits":[]}]}`)
}

func TestSearchRequestEmbedsOptions(t *testing.T) {
	var r SearchRequest
	in := `{"collection":"kura","query":"GitOpsとは","k":3,"search_type":"hybrid","fetch_k":20,"lambda":0,
		"score_threshold":0.2,"filter":"year > 2020","output_fields":["text","source"],"rrf_k":60,"alpha":0.5,"nprobe":16,"ef":64,"unknown":1}`
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.K != 3 || r.Lambda == nil || *r.Lambda != 0 || *r.ScoreThreshold != 0.2 || r.Ef != 64 || r.Query != "GitOpsとは" {
		t.Fatalf("%+v", r)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	f := func(name string, err error, field string) {
		t.Helper()
		var e *Error
		if field == "" {
			if err != nil {
				t.Fatalf("%s: unexpected %v", name, err)
			}
			return
		}
		if !errors.As(err, &e) || e.Field != field || e.Code != CodeInvalidRequest {
			t.Fatalf("%s: got %#v, want invalid_request on %s", name, err, field)
		}
		if strings.Contains(e.Message, "--") {
			t.Fatalf("%s: message names a flag: %s", name, e.Message)
		}
	}
	q := func(r SearchRequest) error { return r.Validate() }
	f("ok", q(SearchRequest{Query: "x"}), "")
	f("no query", q(SearchRequest{}), "query")
	f("both", q(SearchRequest{Query: "x", Queries: []BatchQuery{{Query: "y"}}}), "query")
	f("empty batch item", q(SearchRequest{Queries: []BatchQuery{{Query: "y"}, {Query: " "}}}), "queries[1].query")
	f("k", q(SearchRequest{Query: "x", SearchOptions: SearchOptions{K: MaxK + 1}}), "k")
	f("k negative", q(SearchRequest{Query: "x", SearchOptions: SearchOptions{K: -1}}), "k")
	f("type", q(SearchRequest{Query: "x", SearchOptions: SearchOptions{SearchType: "fuzzy"}}), "search_type")
	f("similarity", q(SearchRequest{Query: "x", SearchOptions: SearchOptions{SearchType: "similarity"}}), "")
	f("hybrid+mmr", q(SearchRequest{Query: "x", SearchOptions: SearchOptions{SearchType: "Hybrid+MMR"}}), "")
	f("lambda", q(SearchRequest{Query: "x", SearchOptions: SearchOptions{Lambda: ptr(1.5)}}), "lambda")
	f("alpha", q(SearchRequest{Query: "x", SearchOptions: SearchOptions{Alpha: 2}}), "alpha")
	f("collection", q(SearchRequest{Query: "x", SearchOptions: SearchOptions{Collection: "../etc"}}), "collection")
	f("rerank", q(SearchRequest{Query: "x", SearchOptions: SearchOptions{Rerank: "bge"}}), "rerank")
	f("field", q(SearchRequest{Query: "x", SearchOptions: SearchOptions{OutputFields: []string{""}}}), "output_fields[0]")

	a := func(r AskRequest) error { return r.Validate() }
	f("ask ok", a(AskRequest{Question: "x", GenerationOptions: GenerationOptions{Temperature: ptr(0.0), TopK: ptr(0), TopP: ptr(0.75)}}), "")
	f("no question", a(AskRequest{Question: "  "}), "question")
	f("temperature", a(AskRequest{Question: "x", GenerationOptions: GenerationOptions{Temperature: ptr(3.0)}}), "temperature")
	f("max_tokens", a(AskRequest{Question: "x", GenerationOptions: GenerationOptions{MaxTokens: ptr(0)}}), "max_tokens")
	f("top_p", a(AskRequest{Question: "x", GenerationOptions: GenerationOptions{TopP: ptr(1.1)}}), "top_p")
	f("penalty", a(AskRequest{Question: "x", GenerationOptions: GenerationOptions{PresencePenalty: ptr(-3.0)}}), "presence_penalty")
	f("stop", a(AskRequest{Question: "x", GenerationOptions: GenerationOptions{Stop: []string{""}}}), "stop[0]")
	f("prompt path", a(AskRequest{Question: "x", Prompt: "/etc/passwd"}), "prompt")
	f("prompt langfuse", a(AskRequest{Question: "x", Prompt: "langfuse:rag-ja@production"}), "")
	f("fallback", a(AskRequest{Question: "x", Fallback: "retry"}), "fallback")
	f("llm", a(AskRequest{Question: "x", LLM: "gpt"}), "llm")
	f("history+conversation", a(AskRequest{Question: "x", ConversationID: "c", History: []Message{{Role: RoleUser, Content: "a"}}}), "history")
	f("history role", a(AskRequest{Question: "x", History: []Message{{Role: "tool", Content: "a"}}}), "history[0].role")
	f("search in ask", a(AskRequest{Question: "x", SearchOptions: SearchOptions{FetchK: -1}}), "fetch_k")

	fb := func(r FeedbackRequest) error { return r.Validate() }
	f("faces ok", fb(FeedbackRequest{AnswerID: "a", Value: ptr(0.75), Kind: FeedbackFaces}), "")
	f("thumbs ok", fb(FeedbackRequest{AnswerID: "a", Value: ptr(0.0), Kind: FeedbackThumbs}), "")
	f("no kind ok", fb(FeedbackRequest{AnswerID: "a", Value: ptr(0.25)}), "")
	f("thumbs 0.5", fb(FeedbackRequest{AnswerID: "a", Value: ptr(0.5), Kind: FeedbackThumbs}), "value")
	f("faces 0.3", fb(FeedbackRequest{AnswerID: "a", Value: ptr(0.3), Kind: FeedbackFaces}), "value")
	f("no value", fb(FeedbackRequest{AnswerID: "a"}), "value")
	f("no answer", fb(FeedbackRequest{Value: ptr(1.0)}), "answer_id")
	f("kind", fb(FeedbackRequest{AnswerID: "a", Value: ptr(1.0), Kind: "stars"}), "kind")
	f("comment", fb(FeedbackRequest{AnswerID: "a", Value: ptr(1.0), Comment: strings.Repeat("あ", MaxCommentRunes+1)}), "comment")

	f("title", (&ConversationUpdate{Title: ptr(" ")}).Validate(), "title")
	f("title ok", (&ConversationUpdate{Title: ptr("GitOps")}).Validate(), "")
	f("create", (&CreateCollectionRequest{Name: "docs", Index: "hnsw", Metric: "cosine"}).Validate(), "")
	f("create name", (&CreateCollectionRequest{Name: "1docs"}).Validate(), "name")
	f("create index", (&CreateCollectionRequest{Name: "d", Index: "annoy"}).Validate(), "index")
	f("ingest set", (&IngestOptions{Set: []string{"novalue"}}).Validate(), "set[0]")
	f("ingest overlap", (&IngestOptions{ChunkSize: 100, ChunkOverlap: 100}).Validate(), "chunk_overlap")
}

func TestValidateQuestion(t *testing.T) {
	var e *Error
	if err := ValidateQuestion(strings.Repeat("質", 11), 10); !errors.As(err, &e) || e.Code != CodeTooLarge || e.Status() != 413 || !strings.Contains(e.Message, "at most 10") {
		t.Fatalf("got %v", err)
	}
	if err := ValidateQuestion(strings.Repeat("質", 10), 10); err != nil {
		t.Fatal(err)
	}
}

func TestCodeStatus(t *testing.T) {
	seen := map[Code]bool{}
	for _, c := range Codes {
		if seen[c] {
			t.Fatalf("%s twice", c)
		}
		seen[c] = true
		if s := c.Status(); s < 400 || (s == 500 && c != CodeInternal) {
			t.Fatalf("%s → %d", c, s)
		}
	}
	if CodeTooManyStreams.Status() != 429 || CodeUpstream.Status() != 502 || CodeUnprocessable.Status() != 422 {
		t.Fatal("status table")
	}
	b, _ := json.Marshal(ErrorBody{Error: Errorf(CodeNotFound, "collection %q does not exist", "x")})
	if string(b) != `{"error":{"code":"not_found","message":"collection \"x\" does not exist"}}` {
		t.Fatalf("%s", b)
	}
}

func TestChatContent(t *testing.T) {
	f := func(in, want string, wantErr bool) {
		t.Helper()
		var m ChatMessage
		err := json.Unmarshal([]byte(`{"role":"user","content":`+in+`}`), &m)
		if (err != nil) != wantErr || (!wantErr && string(m.Content) != want) {
			t.Fatalf("%s: %q %v", in, m.Content, err)
		}
	}
	f(`"hello"`, "hello", false)
	f(`null`, "", false)
	f(`[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"b"}]`, "a\nb", false)
	f(`42`, "", true)
	f(`{"text":"x"}`, "", true)

	g := func(in string, want []string, wantErr bool) {
		t.Helper()
		var r ChatCompletionRequest
		err := json.Unmarshal([]byte(`{"model":"kura","stop":`+in+`}`), &r)
		if (err != nil) != wantErr || (!wantErr && !reflect.DeepEqual([]string(r.Stop), want)) {
			t.Fatalf("%s: %q %v", in, r.Stop, err)
		}
	}
	g(`"\n"`, []string{"\n"}, false)
	g(`["a","b"]`, []string{"a", "b"}, false)
	g(`null`, nil, false)
	g(`1`, nil, true)
}

func TestEventNames(t *testing.T) {
	f := func(e Event, want string) {
		t.Helper()
		if e.EventName() != want {
			t.Fatalf("%T: %s", e, e.EventName())
		}
	}
	f(Meta{}, "meta")
	f(SourcesEvent{}, "sources")
	f(Delta{}, "delta")
	f(Citation{}, "citation")
	f(Notice{}, "notice")
	f(Answer{}, "done")
	f(ErrorBody{}, "error")
	f(IngestProgress{}, "progress")
	f(Problem{}, "problem")
	f(IngestJob{}, "done")
}

func FuzzDecodeRequests(f *testing.F) {
	f.Add([]byte(`{"question":"x","k":3,"temperature":0.3,"stop":["a"]}`))
	f.Add([]byte(`{"model":"kura","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stop":"x"}`))
	f.Add([]byte(`{"answer_id":"a","value":0.75,"kind":"faces"}`))
	f.Add([]byte(`{"queries":[{"id":1,"query":"q"}],"lambda":-0}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ask AskRequest
		if json.Unmarshal(b, &ask) == nil {
			_ = ask.Validate()
		}
		var s SearchRequest
		if json.Unmarshal(b, &s) == nil {
			_ = s.Validate()
		}
		var fb FeedbackRequest
		if json.Unmarshal(b, &fb) == nil {
			_ = fb.Validate()
		}
		var c ChatCompletionRequest
		if json.Unmarshal(b, &c) == nil {
			if _, err := json.Marshal(c); err != nil {
				t.Fatalf("a decoded request does not marshal: %v", err)
			}
		}
	})
}

package serve_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/serve"
)

// TestServeEndToEnd drives a real `kura serve` — the HTTP server over the
// application layer on a temporary data directory — through the JSON API
// as a client would.
func TestServeEndToEnd(t *testing.T) {
	data := seed(t)
	s := start(t, data, nil)

	t.Run("discovery", func(t *testing.T) {
		rec, err := serve.Discover(context.Background(), data)
		if err != nil {
			t.Fatal(err)
		}
		if rec.URL != s.url || rec.PID != os.Getpid() || rec.Collection != "docs" || rec.Store != "local" || rec.AuthRequired || rec.Started.IsZero() {
			t.Fatalf("record %+v", rec)
		}
	})

	t.Run("errors do not name the server's data directory", func(t *testing.T) {
		for _, raw := range []string{
			s.must(404, "POST", "/api/v1/search", api.SearchRequest{SearchOptions: api.SearchOptions{Collection: "nosuch"}, Query: "q"}, nil),
			s.must(404, "DELETE", "/api/v1/collections/nosuch", nil, nil),
			s.must(409, "POST", "/api/v1/collections", api.CreateCollectionRequest{Name: "docs"}, nil),
		} {
			if !strings.Contains(raw, "collection") || strings.Contains(raw, data) || strings.Contains(raw, filepath.Base(data)) {
				t.Fatalf("error %s names the data directory %s", raw, data)
			}
		}
	})

	t.Run("info and readiness", func(t *testing.T) {
		s.must(200, "GET", "/readyz", nil, nil)
		var info api.ServerInfo
		s.must(200, "GET", "/api/v1/info", nil, &info)
		d := info.Defaults
		if info.DefaultCollection != "docs" || info.LLM != "extractive" || d.K != 3 || d.SearchType != "bm25" || d.FetchK != 20 ||
			d.Lambda == nil || *d.MaxTokens != 500 || *d.Temperature != 0.3 || *d.TopP != 0.75 || info.User != "default" || info.Version != "test" {
			t.Fatalf("info %+v", info)
		}
	})

	t.Run("collections", func(t *testing.T) {
		var list api.CollectionList
		s.must(200, "GET", "/api/v1/collections", nil, &list)
		if len(list.Collections) != 1 || list.Collections[0].Name != "docs" || list.Collections[0].Rows == 0 || list.Default != "docs" {
			t.Fatalf("collections %+v", list)
		}
		var info api.CollectionInfo
		s.must(200, "GET", "/api/v1/collections/docs", nil, &info)
		if info.Sources != 3 || info.Dim != 1024 || info.Embedder != "hash" {
			t.Fatalf("describe %+v", info)
		}
		s.must(201, "POST", "/api/v1/collections", api.CreateCollectionRequest{Name: "scratch", Index: "hnsw"}, &info)
		if info.Name != "scratch" || info.Rows != 0 || info.Index.Type != "HNSW" {
			t.Fatalf("created %+v", info)
		}
		s.must(409, "POST", "/api/v1/collections", api.CreateCollectionRequest{Name: "scratch"}, nil)
		s.must(204, "DELETE", "/api/v1/collections/scratch", nil, nil)
		s.must(404, "GET", "/api/v1/collections/scratch", nil, nil)
		var sources api.SourceList
		s.must(200, "GET", "/api/v1/collections/docs/sources", nil, &sources)
		if len(sources.Sources) != 3 {
			t.Fatalf("sources %+v", sources)
		}
	})

	t.Run("search", func(t *testing.T) {
		var res api.SearchResponse
		s.must(200, "POST", "/api/v1/search", map[string]any{"query": "GitOpsとは何ですか", "k": 2}, &res)
		if len(res.Hits) == 0 || len(res.Hits) > 2 || !strings.Contains(res.Hits[0].Entity["text"].(string), "GitOps") || res.Hits[0].Entity["source"] == nil {
			t.Fatalf("hits %+v", res.Hits)
		}
		s.must(200, "POST", "/api/v1/search", map[string]any{
			"queries":     []map[string]any{{"id": "q1", "query": "Tekton pipelines"}, {"id": 2, "query": "Argo CD"}},
			"search_type": "hybrid", "filter": `source like "%.txt"`}, &res)
		if len(res.Results) != 2 || string(res.Results[0].QueryID) != `"q1"` || string(res.Results[1].QueryID) != "2" ||
			len(res.Results[0].Hits) != 1 || !strings.HasSuffix(res.Results[0].Hits[0].Entity["source"].(string), "tekton.txt") {
			t.Fatalf("batch %+v", res.Results)
		}
		_, raw := s.call("POST", "/api/v1/search", map[string]any{"query": "x", "filter": "source ==="}, nil)
		if !strings.Contains(raw, `"code":"unprocessable"`) {
			t.Fatalf("bad filter: %s", raw)
		}
		s.must(404, "POST", "/api/v1/search", map[string]any{"query": "x", "collection": "nosuch"}, nil)
	})

	var first api.Answer
	t.Run("streamed ask", func(t *testing.T) {
		evs := s.stream("/api/v1/ask", map[string]any{"question": "GitOpsとは何ですか", "stream": true})
		if got := names(evs); !strings.HasPrefix(got, "meta sources delta") || !strings.HasSuffix(got, "done") || !strings.Contains(got, "citation") {
			t.Fatalf("events %s", got)
		}
		var meta api.Meta
		evs[0].decode(t, &meta)
		evs[len(evs)-1].decode(t, &first)
		var text strings.Builder
		for _, e := range evs {
			if e.name == "delta" {
				var d api.Delta
				e.decode(t, &d)
				text.WriteString(d.Text)
			}
		}
		if meta.ID == "" || meta.ID != first.ID || meta.ConversationID != first.ConversationID || !meta.Extractive || first.LLM != "extractive" || text.String() != first.Answer ||
			!strings.Contains(first.Answer, "GitOps") || len(first.Citations) == 0 || first.ConversationID == "" || len(first.Sources) == 0 {
			t.Fatalf("meta %+v answer %+v", meta, first)
		}
	})

	t.Run("follow-up in the conversation", func(t *testing.T) {
		var ans api.Answer
		s.must(200, "POST", "/api/v1/ask", map[string]any{"question": "Argo CDは何をしますか", "conversation_id": first.ConversationID}, &ans)
		if ans.ConversationID != first.ConversationID || ans.Answer == "" {
			t.Fatalf("follow-up %+v", ans)
		}
		var conv api.Conversation
		s.must(200, "GET", "/api/v1/conversations/"+first.ConversationID, nil, &conv)
		if len(conv.Turns) != 2 || conv.Turns[0].ID != first.ID || conv.Turns[1].ID != ans.ID || conv.Collection != "docs" ||
			conv.Turns[0].Sources[0].Entity["text"] == nil {
			t.Fatalf("conversation %+v", conv)
		}
	})

	t.Run("feedback and traces", func(t *testing.T) {
		var fb api.Feedback
		s.must(201, "POST", "/api/v1/feedback", map[string]any{"answer_id": first.ID, "value": 0.75, "kind": "faces", "comment": "出典が分かりやすい"}, &fb)
		if fb.AnswerID != first.ID || fb.Value != 0.75 || fb.Comment != "出典が分かりやすい" {
			t.Fatalf("feedback %+v", fb)
		}
		s.must(400, "POST", "/api/v1/feedback", map[string]any{"answer_id": first.ID, "value": 0.6, "kind": "faces"}, nil)
		s.must(404, "POST", "/api/v1/feedback", map[string]any{"answer_id": "ans_nosuch", "value": 1}, nil)
		var list api.TraceList
		s.must(200, "GET", "/api/v1/traces?limit=10", nil, &list)
		if len(list.Traces) != 2 || list.Traces[1].AnswerID != first.ID || list.Traces[1].Feedback == nil || list.Traces[1].Feedback.Value != 0.75 ||
			list.Traces[0].Timings.TotalMS <= 0 || list.Traces[1].SourceCount == 0 {
			t.Fatalf("traces %+v", list)
		}
		var tr api.Answer
		s.must(200, "GET", "/api/v1/traces/"+first.ID, nil, &tr)
		if tr.Answer != first.Answer || tr.Feedback == nil || tr.Feedback.Comment != "出典が分かりやすい" {
			t.Fatalf("trace %+v", tr)
		}
	})

	t.Run("conversations", func(t *testing.T) {
		var list api.ConversationList
		s.must(200, "GET", "/api/v1/conversations", nil, &list)
		if len(list.Conversations) != 1 || list.Conversations[0].TurnCount != 2 || !strings.Contains(list.Conversations[0].Title, "GitOps") {
			t.Fatalf("conversations %+v", list)
		}
		var sum api.ConversationSummary
		s.must(200, "PATCH", "/api/v1/conversations/"+first.ConversationID, map[string]any{"title": "GitOpsの質問"}, &sum)
		if sum.Title != "GitOpsの質問" {
			t.Fatalf("renamed %+v", sum)
		}
		s.must(204, "DELETE", "/api/v1/conversations/"+first.ConversationID, nil, nil)
		s.must(404, "GET", "/api/v1/conversations/"+first.ConversationID, nil, nil)
	})

	t.Run("uploads", func(t *testing.T) {
		files := map[string]string{
			"notes.md": "# Kura notes\n\nThe quokka handbook explains quokka feeding in detail.\n",
			"items.jsonl": `{"text": "The wombat guide covers wombat burrows.", "title": "Wombats"}` + "\n" +
				"{not json\n" +
				`{"text": "The numbat leaflet covers termite diets.", "title": "Numbats"}` + "\n",
		}
		code, job, raw := s.upload(files, map[string]string{"set": "team=zoo"})
		if code != http.StatusAccepted || job.JobID == "" || job.Collection != "docs" {
			t.Fatalf("upload: %d %s", code, raw)
		}
		final, evs := s.waitJob(job.JobID)
		if final.State != api.JobDone || final.Summary == nil || final.Summary.Added == 0 || len(final.Problems) != 1 ||
			final.Problems[0].Source != "upload/items.jsonl" || !strings.Contains(final.Problems[0].Message, ":2") {
			t.Fatalf("job %+v (events %s)", final, names(evs))
		}
		if !strings.Contains(names(evs), "problem") {
			t.Fatalf("no problem event: %s", names(evs))
		}
		var res api.SearchResponse
		s.must(200, "POST", "/api/v1/search", map[string]any{"query": "wombat burrows", "k": 1, "output_fields": []string{"text", "source", "team", "title"}}, &res)
		if len(res.Hits) != 1 || res.Hits[0].Entity["source"] != "upload/items.jsonl" || res.Hits[0].Entity["team"] != "zoo" {
			t.Fatalf("uploaded chunk: %+v", res.Hits)
		}
		// Unchanged again: nothing added.
		_, job, _ = s.upload(files, map[string]string{"set": "team=zoo"})
		final, _ = s.waitJob(job.JobID)
		if final.State != api.JobDone || final.Summary.Added != 0 || final.Summary.Unchanged == 0 {
			t.Fatalf("re-upload %+v", final.Summary)
		}
		// A type kura does not read is refused up front.
		code, _, raw = s.upload(map[string]string{"sheet.xlsx": "PK"}, nil)
		if code != 400 || !strings.Contains(raw, "sheet.xlsx") {
			t.Fatalf("xlsx: %d %s", code, raw)
		}
		var removed api.Removed
		s.must(200, "DELETE", "/api/v1/collections/docs/documents?source="+url.QueryEscape("upload/notes.md"), nil, &removed)
		if removed.Removed == 0 {
			t.Fatalf("removed %+v", removed)
		}
		s.must(404, "DELETE", "/api/v1/collections/docs/documents?source="+url.QueryEscape("upload/notes.md"), nil, nil)
	})

	t.Run("openai sdk", func(t *testing.T) {
		ctx := context.Background()
		client := openai.NewClient(option.WithBaseURL(s.url+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
		models, err := client.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(models.Data) != 1 || models.Data[0].ID != "kura/docs" {
			t.Fatalf("models %+v", models.Data)
		}
		// With the generation options OpenAI clients send by habit: the
		// extractive answerer takes none, and says it ignored them.
		c, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:       "kura/docs",
			Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is Tekton?")},
			Temperature: openai.Float(0.7),
			TopP:        openai.Float(1),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Choices) != 1 || !strings.Contains(c.Choices[0].Message.Content, "Tekton") || c.Choices[0].FinishReason != "stop" {
			t.Fatalf("completion %s", c.RawJSON())
		}
		var extra struct {
			Kura api.KuraResult `json:"kura"`
		}
		if err := json.Unmarshal([]byte(c.RawJSON()), &extra); err != nil || !strings.HasPrefix(extra.Kura.AnswerID, "ans_") || len(extra.Kura.Sources) == 0 || !extra.Kura.Extractive {
			t.Fatalf("kura field: %v %s", err, c.RawJSON())
		}
		if n := extra.Kura.Notices; len(n) != 1 || n[0].Code != api.NoticeOptionsIgnored || !strings.Contains(n[0].Message, "temperature, top_p") {
			t.Fatalf("notices %+v", n)
		}
		stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model: "kura",
			Messages: []openai.ChatCompletionMessageParamUnion{
				openai.UserMessage("GitOpsとは何ですか"),
				openai.AssistantMessage("GitOpsはGitを唯一の情報源とする運用手法です。"),
				openai.UserMessage("そのツールは？"),
			},
		})
		acc := openai.ChatCompletionAccumulator{}
		chunks := 0
		for stream.Next() {
			acc.AddChunk(stream.Current())
			chunks++
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if chunks < 3 || len(acc.Choices) != 1 || acc.Choices[0].Message.Content == "" {
			t.Fatalf("stream: %d chunks, %+v", chunks, acc.ChatCompletion)
		}
		_, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "kura/nosuch", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")},
		})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
			t.Fatalf("unknown collection: %v", err)
		}
	})

	if err := s.stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := os.Stat(serve.RecordPath(data)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the discovery file outlived the server: %v", err)
	}
	if _, err := serve.Discover(context.Background(), data); !errors.Is(err, serve.ErrNotServed) {
		t.Fatalf("discover after shutdown: %v", err)
	}
}

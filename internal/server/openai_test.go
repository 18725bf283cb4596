package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/server"
)

// The OpenAI-compatible endpoint, driven by the official OpenAI Go SDK
// with only its base URL changed.
func TestOpenAISDK(t *testing.T) {
	ks := &server.KeySet{}
	ks.Add("alice", "alice-key-0123456789")
	e := newEnv(t, server.Config{Keys: ks})
	ctx := context.Background()
	client := openai.NewClient(option.WithBaseURL(e.ts.URL+"/v1/"), option.WithAPIKey("alice-key-0123456789"), option.WithMaxRetries(0))

	models, err := client.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(models.Data) != 1 || models.Data[0].ID != "kura/kura" || models.Data[0].OwnedBy != "kura" {
		t.Fatalf("models %+v", models.Data)
	}

	// Non-streamed, with the generation options of the original app.
	c, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:       "kura/kura",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage("GitOpsとは何ですか")},
		MaxTokens:   openai.Int(500),
		Temperature: openai.Float(0.3),
		TopP:        openai.Float(0.75),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Choices) != 1 || !strings.Contains(c.Choices[0].Message.Content, "[1]") || c.Choices[0].FinishReason != "stop" || c.Usage.CompletionTokens == 0 {
		t.Fatalf("completion %s", c.RawJSON())
	}
	var extra struct {
		Kura api.KuraResult `json:"kura"`
	}
	if err := json.Unmarshal([]byte(c.RawJSON()), &extra); err != nil || !strings.HasPrefix(extra.Kura.AnswerID, "ans_") || len(extra.Kura.Sources) == 0 || len(extra.Kura.Citations) == 0 {
		t.Fatalf("kura field: %v %s", err, c.RawJSON())
	}
	got := e.fake.Asks()[0]
	if *got.MaxTokens != 500 || *got.Temperature != 0.3 || *got.TopP != 0.75 || got.Collection != "kura" {
		t.Fatalf("options arrived as %+v", got)
	}

	// Streamed, multi-turn, with usage.
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model: "kura",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Answer briefly."),
			openai.UserMessage("GitOpsとは何ですか"),
			openai.AssistantMessage("GitOpsはGitを唯一の情報源とする手法です。"),
			openai.UserMessage("そのツールは？"),
		},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	acc := openai.ChatCompletionAccumulator{}
	var chunks int
	var kuraSeen bool
	for stream.Next() {
		ch := stream.Current()
		acc.AddChunk(ch)
		chunks++
		if strings.Contains(ch.RawJSON(), `"kura":{`) {
			kuraSeen = true
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if chunks < 3 || !kuraSeen || len(acc.Choices) != 1 || acc.Choices[0].Message.Content == "" || acc.Usage.TotalTokens == 0 {
		t.Fatalf("stream: %d chunks, kura %v, %+v", chunks, kuraSeen, acc.ChatCompletion)
	}
	last := e.fake.Asks()[1]
	if len(last.History) != 2 || last.History[0].Role != api.RoleUser || last.History[1].Role != api.RoleAssistant ||
		last.Question != "そのツールは？" || last.SystemPrompt != "Answer briefly." || !last.Stream {
		t.Fatalf("multi-turn arrived as %+v", last)
	}

	// Errors are OpenAI's: the SDK reports status, type and code.
	_, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "gpt-4o", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "not_found" || apiErr.Param != "model" {
		t.Fatalf("unknown model: %v", err)
	}
	bad := openai.NewClient(option.WithBaseURL(e.ts.URL+"/v1/"), option.WithAPIKey("wrong-key-0123456789"), option.WithMaxRetries(0))
	_, err = bad.Models.List(ctx)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Type != "authentication_error" {
		t.Fatalf("bad key: %v", err)
	}
}

func TestChatCompletionRequests(t *testing.T) {
	e := newEnv(t, server.Config{})
	f := func(body string, status int, wantInBody string) {
		t.Helper()
		resp, b := e.do("POST", "/v1/chat/completions", body)
		if resp.StatusCode != status || !strings.Contains(string(b), wantInBody) {
			t.Fatalf("%s: %d %s", body, resp.StatusCode, b)
		}
	}
	f(`{"model":"kura","messages":[{"role":"user","content":"GitOps"}],"unknown_field":1,"logit_bias":{}}`, 200, `"object":"chat.completion"`)
	f(`{"model":"kura","messages":[{"role":"user","content":[{"type":"text","text":"GitOps"}]}]}`, 200, `"role":"assistant"`)
	f(`{"model":"kura","messages":[]}`, 400, `"param":"messages"`)
	f(`{"model":"kura","messages":[{"role":"assistant","content":"x"}]}`, 400, "the last message must be")
	f(`{"model":"kura","n":2,"messages":[{"role":"user","content":"x"}]}`, 400, `"param":"n"`)
	f(`{"model":"kura/nope","messages":[{"role":"user","content":"x"}]}`, 404, `"type":"not_found_error"`)
	f(`{"model":"kura/bad-name","messages":[{"role":"user","content":"x"}]}`, 404, `"code":"not_found"`)
	f(`{"model":"kura/kura","messages":[{"role":"user","content":"x"}],"kura":{"collection":"other"}}`, 400, `kura.collection`)
	f(`{"model":"kura","messages":[{"role":"user","content":"GitOps"}],"kura":{"k":1,"search_type":"bm25"}}`, 200, `"sources":[{"n":1,`)
	f(`{"model":"kura","messages":[{"role":"user","content":"x"}],"temperature":5}`, 400, `"param":"temperature"`)
	f(`{"model":"kura","messages":[{"role":"user","content":"x"}],"stop":"\n"}`, 200, `chat.completion`)
	if asks := e.fake.Asks(); asks[len(asks)-1].Stop[0] != "\n" {
		t.Fatalf("stop arrived as %q", asks[len(asks)-1].Stop)
	}
}

// TestChatCompletionWithoutModel: a request without a model is a 400 that
// says what to send, not a 404 about a model named "".
func TestChatCompletionWithoutModel(t *testing.T) {
	e := newEnv(t, server.Config{})
	for _, body := range []string{
		`{"messages":[{"role":"user","content":"x"}]}`,
		`{"model":"","messages":[{"role":"user","content":"x"}]}`,
	} {
		resp, b := e.do("POST", "/v1/chat/completions", body)
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"param":"model"`) || !strings.Contains(string(b), "model is missing") || !strings.Contains(string(b), "GET /v1/models") {
			t.Errorf("%s: %d %s", body, resp.StatusCode, b)
		}
	}
}

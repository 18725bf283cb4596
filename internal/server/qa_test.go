package server_test

import (
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/server"
)

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

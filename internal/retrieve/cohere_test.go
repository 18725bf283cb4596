package retrieve

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestCohereWireFormat pins the exact request kura sends to Cohere's v2
// rerank endpoint and how the response is read.
func TestCohereWireFormat(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.Method != http.MethodPost || r.URL.Path != "/v2/rerank" {
			t.Errorf("%s %s, want POST /v2/rerank", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer test-key" {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q", got)
		}
		body, _ := io.ReadAll(r.Body)
		want := `{"model":"rerank-multilingual-v3.0","query":"GitOpsとは","documents":["Argo CDの説明","GitOpsは宣言的な運用手法","天気"],"top_n":3}`
		if string(body) != want {
			t.Errorf("body\n got %s\nwant %s", body, want)
		}
		if calls == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"message":"slow down"}`)
			return
		}
		io.WriteString(w, `{"id":"x","results":[{"index":1,"relevance_score":0.93},{"index":0,"relevance_score":0.41},{"index":2,"relevance_score":0.01}],"meta":{"billed_units":{"search_units":1}}}`)
	}))
	defer srv.Close()
	c, err := NewCohere(CohereOptions{APIKey: "test-key", BaseURL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(context.Context, time.Duration) error { return nil }
	res, err := c.Rerank(context.Background(), "GitOpsとは", []string{"Argo CDの説明", "GitOpsは宣言的な運用手法", "天気"})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("%d calls, want 2 (one 429 retried)", calls)
	}
	if len(res) != 3 || res[0] != (RerankResult{Index: 1, Score: 0.93}) || res[2].Index != 2 {
		t.Errorf("results = %+v", res)
	}
}

func TestCohereErrors(t *testing.T) {
	if _, err := NewCohere(CohereOptions{}); err == nil || !strings.Contains(err.Error(), "COHERE_API_KEY") {
		t.Errorf("no key: %v", err)
	}
	status := http.StatusUnauthorized
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"message": "invalid api token"})
	}))
	defer srv.Close()
	c, _ := NewCohere(CohereOptions{APIKey: "bad", BaseURL: srv.URL, Retries: 2})
	c.sleep = func(context.Context, time.Duration) error { return nil }
	_, err := c.Rerank(context.Background(), "q", []string{"a"})
	if err == nil || !strings.Contains(err.Error(), "check COHERE_API_KEY") || !strings.Contains(err.Error(), "invalid api token") {
		t.Errorf("401: %v", err)
	}
	status = http.StatusServiceUnavailable
	_, err = c.Rerank(context.Background(), "q", []string{"a"})
	if err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("503: %v", err)
	}
}

// TestCohereKeyStaysOut: a gateway that echoes the key back in a 401 does
// not get it printed, and the 401 is not retried.
func TestCohereKeyStaysOut(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message":"invalid api token: `+r.Header.Get("Authorization")+`"}`)
	}))
	defer srv.Close()
	c, _ := NewCohere(CohereOptions{APIKey: "co-SECRET-abcdef123", BaseURL: srv.URL})
	_, err := c.Rerank(context.Background(), "q", []string{"a"})
	if err == nil || calls != 1 || strings.Contains(err.Error(), "co-SECRET-abcdef123") {
		t.Fatalf("calls %d, err %v", calls, err)
	}
}

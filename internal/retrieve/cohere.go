package retrieve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Cohere rerank defaults.
const (
	DefaultCohereBaseURL     = "https://api.cohere.com"
	DefaultCohereRerankModel = "rerank-multilingual-v3.0"
	// cohereMaxDocs is the API's limit of documents per request.
	cohereMaxDocs = 1000
)

// CohereOptions configure [NewCohere]. Zero values mean the defaults; the
// CLI fills APIKey and BaseURL from COHERE_API_KEY and COHERE_BASE_URL.
type CohereOptions struct {
	APIKey  string
	BaseURL string // DefaultCohereBaseURL if empty
	Model   string // DefaultCohereRerankModel if empty
	// MaxTokensPerDoc truncates long documents server-side (the API's
	// default, 4096, if 0).
	MaxTokensPerDoc int
	Client          *http.Client // a client with a 60 s timeout if nil
	// Retries of a 429 or 5xx response or a network error (3 if 0).
	Retries int
}

// Cohere calls the Cohere v2 rerank endpoint (POST {base}/v2/rerank).
type Cohere struct {
	opts CohereOptions
	// sleep waits between retries; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// NewCohere returns a Cohere reranker; it fails without an API key.
func NewCohere(o CohereOptions) (*Cohere, error) {
	if o.APIKey == "" {
		return nil, errors.New("--rerank cohere needs an API key: set COHERE_API_KEY (in the environment or .env)")
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultCohereBaseURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.Model == "" {
		o.Model = DefaultCohereRerankModel
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 60 * time.Second}
	}
	if o.Retries == 0 {
		o.Retries = 3
	}
	return &Cohere{opts: o, sleep: sleepCtx}, nil
}

func (c *Cohere) Name() string { return "cohere/" + c.opts.Model }

type cohereRequest struct {
	Model           string   `json:"model"`
	Query           string   `json:"query"`
	Documents       []string `json:"documents"`
	TopN            int      `json:"top_n"`
	MaxTokensPerDoc int      `json:"max_tokens_per_doc,omitempty"`
}

type cohereResponse struct {
	Results []struct {
		Index          int     `json:"index"`
		RelevanceScore float64 `json:"relevance_score"`
	} `json:"results"`
}

// Rerank sends the documents (in requests of at most 1,000) and returns
// every document's relevance, best first.
func (c *Cohere) Rerank(ctx context.Context, query string, docs []string) ([]RerankResult, error) {
	var out []RerankResult
	for start := 0; start < len(docs); start += cohereMaxDocs {
		part := docs[start:min(start+cohereMaxDocs, len(docs))]
		res, err := c.call(ctx, cohereRequest{Model: c.opts.Model, Query: query, Documents: part, TopN: len(part), MaxTokensPerDoc: c.opts.MaxTokensPerDoc})
		if err != nil {
			return nil, err
		}
		for _, r := range res.Results {
			if r.Index < 0 || r.Index >= len(part) {
				return nil, fmt.Errorf("cohere returned index %d for %d documents", r.Index, len(part))
			}
			out = append(out, RerankResult{Index: start + r.Index, Score: r.RelevanceScore})
		}
	}
	slices.SortStableFunc(out, func(a, b RerankResult) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return out, nil
}

func (c *Cohere) call(ctx context.Context, req cohereRequest) (*cohereResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	url := c.opts.BaseURL + "/v2/rerank"
	var lastErr error
	for attempt := 0; attempt <= c.opts.Retries; attempt++ {
		if attempt > 0 {
			if err := c.sleep(ctx, backoff(attempt, lastErr)); err != nil {
				return nil, err
			}
		}
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		hreq.Header.Set("Authorization", "Bearer "+c.opts.APIKey)
		hreq.Header.Set("Content-Type", "application/json")
		hreq.Header.Set("Accept", "application/json")
		resp, err := c.opts.Client.Do(hreq)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			lastErr = fmt.Errorf("POST %s: %w", url, err)
			continue
		}
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		switch {
		case rerr != nil:
			lastErr = fmt.Errorf("POST %s: reading the response: %w", url, rerr)
			continue
		case resp.StatusCode == http.StatusOK:
			var out cohereResponse
			if err := json.Unmarshal(data, &out); err != nil {
				return nil, fmt.Errorf("POST %s: unexpected response (%v): %.200s", url, err, data)
			}
			return &out, nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			lastErr = &httpError{status: resp.StatusCode, body: data, retryAfter: resp.Header.Get("Retry-After")}
			continue
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return nil, fmt.Errorf("cohere rejected the API key (HTTP %d: %s); check COHERE_API_KEY", resp.StatusCode, apiMessage(data))
		default:
			return nil, fmt.Errorf("cohere rerank failed (HTTP %d: %s); model %s", resp.StatusCode, apiMessage(data), c.opts.Model)
		}
	}
	return nil, fmt.Errorf("cohere rerank failed after %d attempts: %w", c.opts.Retries+1, lastErr)
}

type httpError struct {
	status     int
	body       []byte
	retryAfter string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.status, apiMessage(e.body))
}

// apiMessage extracts Cohere's {"message": "..."} or shows the body's start.
func apiMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		return m.Message
	}
	return fmt.Sprintf("%.200s", bytes.TrimSpace(body))
}

// backoff waits what Retry-After asks (up to a minute), else 0.5 s, 1 s, 2 s...
func backoff(attempt int, last error) time.Duration {
	var he *httpError
	if errors.As(last, &he) && he.retryAfter != "" {
		if s, err := strconv.Atoi(he.retryAfter); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, time.Minute)
		}
	}
	return time.Duration(250<<attempt) * time.Millisecond
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

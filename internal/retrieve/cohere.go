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
	"time"

	"github.com/kura-rag/kura/internal/provider"
)

// Cohere rerank defaults.
const (
	DefaultCohereBaseURL     = "https://api.cohere.com"
	DefaultCohereRerankModel = "rerank-multilingual-v3.0"
	// cohereMaxDocs is the API's limit of documents per request.
	cohereMaxDocs = 1000
)

// CohereOptions configure [NewCohere]. Zero values mean the defaults; the
// CLI fills APIKey and BaseURL from COHERE_API_KEY (or CO_API_KEY) and
// COHERE_BASE_URL.
type CohereOptions struct {
	APIKey  string
	BaseURL string // DefaultCohereBaseURL if empty
	Model   string // DefaultCohereRerankModel if empty
	// MaxTokensPerDoc truncates long documents server-side (the API's
	// default, 4096, if 0).
	MaxTokensPerDoc int
	// Client supplies the transport (proxies, tests); nil means the
	// shared provider layer's default. Its Timeout is not used: every
	// attempt is bounded by Timeout.
	Client *http.Client
	// Retries of a 429 or 5xx response, a timeout or a network error (3
	// if 0), with full-jitter backoff that honours Retry-After.
	Retries int
	// Timeout bounds one attempt (60 s if 0).
	Timeout time.Duration
	// RPS limits the requests started per second (0: no limit).
	RPS float64
}

// Cohere calls the Cohere v2 rerank endpoint (POST {base}/v2/rerank)
// through the shared provider HTTP layer: retries, Retry-After, rate limit,
// per-attempt timeout and redaction of the key in every error.
type Cohere struct {
	opts  CohereOptions
	url   string
	http  *http.Client
	retry *provider.Retrier
	// sleep waits between retries; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// NewCohere returns a Cohere reranker; it fails without an API key.
func NewCohere(o CohereOptions) (*Cohere, error) {
	if o.APIKey == "" {
		return nil, errors.New("the cohere reranker needs an API key: set COHERE_API_KEY (in the environment or .env)")
	}
	base := DefaultCohereBaseURL
	if o.BaseURL != "" {
		var err error
		if base, err = provider.ParseEndpoint(o.BaseURL, "COHERE_BASE_URL"); err != nil {
			return nil, err
		}
	}
	if o.Model == "" {
		o.Model = DefaultCohereRerankModel
	}
	if o.Retries == 0 {
		o.Retries = 3
	}
	c := &Cohere{opts: o, url: provider.JoinPath(base, "/v2/rerank"), http: provider.HTTPClient(o.Client), sleep: provider.SleepCtx}
	c.retry = provider.NewRetrier(provider.Policy{
		Provider: "cohere rerank",
		Attempts: o.Retries + 1,
		Timeout:  o.Timeout,
		RPS:      o.RPS,
		Sleep:    func(ctx context.Context, d time.Duration) error { return c.sleep(ctx, d) },
	})
	return c, nil
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

// hints turn a failed rerank call into advice.
func (c *Cohere) hints() provider.Hints {
	return provider.Hints{
		0:   "check COHERE_BASE_URL and the network",
		401: "the API key was rejected: check COHERE_API_KEY",
		403: "the API key may not use this model: check COHERE_API_KEY and the rerank model (" + c.opts.Model + ")",
		404: "no such model or endpoint: check the rerank model (" + c.opts.Model + ") and COHERE_BASE_URL",
		400: "the request was refused: check the rerank model (" + c.opts.Model + ")",
	}
}

func (c *Cohere) call(ctx context.Context, req cohereRequest) (*cohereResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var out cohereResponse
	err = c.retry.Do(ctx, func(ctx context.Context) error {
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		hreq.Header.Set("Authorization", "Bearer "+c.opts.APIKey)
		hreq.Header.Set("Content-Type", "application/json")
		hreq.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(hreq)
		if err != nil {
			return provider.Classify(ctx, "cohere rerank", nil, err, c.hints(), c.opts.APIKey)
		}
		if resp.StatusCode != http.StatusOK {
			return provider.ResponseStatusError("cohere rerank", resp, c.hints(), c.opts.APIKey)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		if err != nil {
			return provider.Classify(ctx, "cohere rerank", nil, err, c.hints(), c.opts.APIKey)
		}
		out = cohereResponse{}
		if err := json.Unmarshal(data, &out); err != nil {
			return &provider.ResponseError{Provider: "cohere rerank", Msg: fmt.Sprintf("%v: %s", err, provider.Shorten(string(data)))}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

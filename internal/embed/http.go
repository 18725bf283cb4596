package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/kura-rag/kura/internal/provider"
)

// Every provider's HTTP client comes from [provider.HTTPClient], whose
// observing transport records each exchange's status, Retry-After and
// error body; failures are classified from that record by
// [provider.Classify] the same way for every SDK, into [APIError] or
// [ResponseError]. The helpers below are the embed-specific part.

// hints turns a non-retryable status into advice; providers fill it in
// with the names of their own environment variables and flags.
type hints = provider.Hints

// endpointURL validates a configured base URL and strips a trailing
// slash, so "http://gw/v1/" and "http://gw/v1" mean the same; no URL
// configured means fallback (see [provider.EndpointOr]).
func endpointURL(raw, fallback, what string) (string, error) {
	u, err := provider.EndpointOr(raw, fallback, what)
	if err != nil {
		return "", &configError{err}
	}
	return u, nil
}

// maxResponse bounds an answer: 2048 vectors of 4096 numbers printed in
// full is under 200 MB.
const maxResponse = 256 << 20

// postForVectors sends body as JSON to url and returns the vectors found
// under path in a 200 answer (see [vectorsAt]). Failures are classified
// like the SDK-based providers' (see [provider.Classify]).
func postForVectors(ctx context.Context, client *http.Client, url string, header http.Header, body any, name string, h hints, secrets []string, path ...string) ([][]float32, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	ctx, ex := provider.WithExchange(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, provider.Classify(ctx, name, ex, err, h, secrets...)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, provider.Classify(ctx, name, ex, err, h, secrets...)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil, provider.Classify(ctx, name, ex, fmt.Errorf("HTTP %d", resp.StatusCode), h, secrets...)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, provider.Classify(ctx, name, ex, err, h, secrets...)
	}
	if len(raw) > maxResponse {
		return nil, &ResponseError{Provider: name, Msg: fmt.Sprintf("the answer is larger than %d MB", maxResponse>>20)}
	}
	vs, found, err := vectorsAt(raw, path...)
	if err != nil {
		return nil, &ResponseError{Provider: name, Msg: err.Error()}
	}
	if !found {
		return nil, &ResponseError{Provider: name, Msg: fmt.Sprintf("no %q in the answer", strings.Join(path, "."))}
	}
	return vs, nil
}

// checkVectors verifies a batch: n vectors, equal non-zero lengths.
func checkVectors(name string, vs [][]float32, n int) error {
	if len(vs) != n {
		return &ResponseError{Provider: name, Msg: fmt.Sprintf("%d vectors for %d texts", len(vs), n)}
	}
	for i, v := range vs {
		if len(v) == 0 {
			return &ResponseError{Provider: name, Msg: fmt.Sprintf("vector %d is empty", i)}
		}
		if len(v) != len(vs[0]) {
			return &ResponseError{Provider: name, Msg: fmt.Sprintf("vector %d has %d dimensions, vector 0 has %d", i, len(v), len(vs[0]))}
		}
	}
	return nil
}

// dimension remembers the vector length of a provider whose dimension is
// known only after the first response, and refuses a later change.
type dimension struct {
	mu       sync.Mutex
	dim      int
	observed bool // dim came from an answer, not from --dim or the model table
}

func (d *dimension) get() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dim
}

func (d *dimension) observe(name string, vs [][]float32) error {
	if len(vs) == 0 {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	got := len(vs[0])
	switch {
	case d.dim == 0:
		d.dim, d.observed = got, true
		return nil
	case got == d.dim:
		return nil
	case d.observed:
		return &ResponseError{Provider: name, Msg: fmt.Sprintf("%d-dimensional vectors, earlier answers had %d", got, d.dim)}
	default:
		return &ResponseError{Provider: name, Msg: fmt.Sprintf("%d-dimensional vectors where the model (or the requested dimension) gives %d; check the model and the dimension", got, d.dim)}
	}
}

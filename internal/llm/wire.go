package llm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/kura-rag/kura/internal/provider"
)

// This file holds what the providers' stream readers share: sending a
// request spoken with net/http, splitting a body into event payloads, and
// telling a broken connection (retryable before the first piece) from a
// broken event (never retried).

// postStream POSTs the JSON body to url with header added and hands a 200
// answer's body to read, saying whether it is an SSE stream. A failed
// request and a broken read are classified like every provider call
// ([provider.Classify], [classifyRead]), another status by
// [provider.ResponseStatusError]; secrets are removed from every message.
func postStream(ctx context.Context, client *http.Client, name, url string, header http.Header, body []byte, h provider.Hints,
	read func(body io.Reader, sse bool) error, secrets ...string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return provider.Classify(ctx, name, nil, err, h, secrets...)
	}
	if resp.StatusCode != http.StatusOK {
		return provider.ResponseStatusError(name, resp, h, secrets...)
	}
	defer resp.Body.Close()
	return classifyRead(ctx, name, read(resp.Body, isEventStream(resp)), h, secrets...)
}

// isEventStream tells an SSE body from newline-delimited JSON, which
// Cohere sends to clients that do not ask for text/event-stream.
func isEventStream(resp *http.Response) bool {
	return strings.HasPrefix(strings.ToLower(resp.Header.Get("Content-Type")), "text/event-stream")
}

// readFailure is an error reading the response body: a cut connection, a
// cancelled context, an oversized event.
type readFailure struct{ err error }

func (r *readFailure) Error() string { return r.err.Error() }
func (r *readFailure) Unwrap() error { return r.err }

// payloads calls fn with the JSON payload of every event of body: the
// data of each SSE event, or each line of NDJSON. It returns nil at the
// clean end of the body, fn's error, or a *readFailure.
func payloads(body io.Reader, sse bool, fn func([]byte) error) error {
	next := provider.NewLineReader(body, 0).Next
	if sse {
		r := provider.NewSSEReader(body, 0)
		next = func() ([]byte, error) {
			ev, err := r.Next()
			return ev.Data, err
		}
	}
	for {
		data, err := next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &readFailure{err}
		}
		if err := fn(data); err != nil {
			return err
		}
	}
}

// classifyRead classifies a read failure like a failed request (a cut
// connection is retryable before the first piece); other errors (a
// malformed event, the caller's emit error, an error event) pass as they
// are.
func classifyRead(ctx context.Context, name string, err error, h provider.Hints, secrets ...string) error {
	var rf *readFailure
	if errors.As(err, &rf) {
		if errors.Is(rf.err, provider.ErrEventTooLarge) {
			return &provider.ResponseError{Provider: name, Msg: rf.err.Error()}
		}
		return provider.Classify(ctx, name, nil, rf.err, h, secrets...)
	}
	return err
}

// badEvent is an event that is not what the provider documents: the
// stream cannot be trusted further, and retrying will not change it.
func badEvent(name string, data []byte, err error) error {
	return &provider.ResponseError{Provider: name, Msg: fmt.Sprintf("malformed event (%v): %s", err, provider.Shorten(string(data)))}
}

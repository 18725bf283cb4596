package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Hints turn a failure into advice. The key is an HTTP status; 0 is the
// advice for failures without one (the provider could not be reached) and
// for statuses without their own entry. Callers fill them in with the
// names of their own settings.
type Hints map[int]string

// For returns the advice for status, or the general advice (key 0).
func (h Hints) For(status int) string {
	if s, ok := h[status]; ok {
		return s
	}
	return h[0]
}

// Retryable reports whether an HTTP status is worth retrying: 408, 429
// and 5xx except 501 Not Implemented.
func Retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout ||
		status >= 500 && status != http.StatusNotImplemented
}

// StatusError is the [APIError] for a response with a failing status.
// body is the start of the response body (the provider's explanation);
// secrets are removed from every message.
func StatusError(provider string, status int, retryAfter time.Duration, body []byte, h Hints, err error, secrets ...string) *APIError {
	ae := &APIError{Provider: provider, Status: status, RetryAfter: retryAfter, Err: RedactError(err, secrets...),
		Msg: Redact(ServerMessage(body), secrets...), Retryable: Retryable(status)}
	if !ae.Retryable {
		ae.Hint = h.For(status)
	}
	if ae.Msg == "" && ae.Err != nil {
		ae.Msg = Shorten(ae.Err.Error())
	}
	return ae
}

// ResponseStatusError reads the start of resp's body and closes it, and
// returns the [APIError] for its status.
func ResponseStatusError(provider string, resp *http.Response, h Hints, secrets ...string) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	ra := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return StatusError(provider, resp.StatusCode, ra, body, h, fmt.Errorf("HTTP %d", resp.StatusCode), secrets...)
}

// Classify turns a failed call into an error for the user and the
// [Retrier]. ex is the call's exchange (nil if none was recorded); err is
// what the SDK or net/http returned. secrets are removed from every
// message.
func Classify(ctx context.Context, provider string, ex *Exchange, err error, h Hints, secrets ...string) error {
	if ctx.Err() != nil {
		// Cancelled or timed out by the caller: report that, not whatever
		// the SDK made of the torn connection. The Retrier tells a
		// per-attempt timeout from the user's Ctrl-C.
		return context.Cause(ctx)
	}
	var status int
	var retryAfter time.Duration
	var body []byte
	if ex != nil {
		status, retryAfter, body = ex.Snapshot()
	}
	if status >= 400 {
		return StatusError(provider, status, retryAfter, body, h, err, secrets...)
	}
	clean := RedactError(err, secrets...)
	if Transient(err) {
		return &APIError{Provider: provider, Retryable: true, Msg: Shorten(clean.Error()), Err: clean, Hint: h[0]}
	}
	var re *ResponseError
	if errors.As(err, &re) {
		return err
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF) && status == 200 {
		return &ResponseError{Provider: provider, Msg: "malformed JSON: " + Shorten(clean.Error())}
	}
	if status >= 200 && status < 300 {
		// The SDK failed on a successful response: it could not decode it.
		return &ResponseError{Provider: provider, Msg: Shorten(clean.Error())}
	}
	return &APIError{Provider: provider, Msg: Shorten(clean.Error()), Err: clean, Hint: h[0]}
}

// Transient reports network failures worth retrying: timeouts, refused or
// reset connections, a connection closed mid-response.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && (dns.IsTemporary || dns.IsTimeout) {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded)
}

// ServerMessage extracts the human part of an error body: the "message",
// "error" or "detail" field of a JSON object (Cohere, OCI, OpenAI, Ollama
// all use one of these), else the text itself, shortened.
func ServerMessage(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var obj map[string]any
	if json.Unmarshal(body, &obj) == nil {
		for _, k := range []string{"message", "error", "detail"} {
			switch v := obj[k].(type) {
			case string:
				return Shorten(v)
			case map[string]any: // OpenAI: {"error": {"message": ...}}
				if m, ok := v["message"].(string); ok {
					return Shorten(m)
				}
			}
		}
	}
	return Shorten(string(body))
}

// Shorten collapses white space and cuts s to 300 bytes at a character
// boundary, for one-line messages.
func Shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const max = 300
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The SDKs kura uses (Cohere, OpenAI, OCI) each report failures their own
// way and none of them exposes Retry-After. Rather than parse three error
// families, every provider's HTTP client goes through an observing
// transport that records the status, the Retry-After header and the start
// of an error body of each exchange in a per-call record carried by the
// context. The provider then classifies the failure from that record with
// one function, [classify], the same way for every SDK.

// exchange is what the observing transport saw of one call's last response.
type exchange struct {
	mu         sync.Mutex
	status     int
	retryAfter time.Duration
	body       []byte // first bytes of an error response
}

type exchangeKey struct{}

func withExchange(ctx context.Context) (context.Context, *exchange) {
	ex := &exchange{}
	return context.WithValue(ctx, exchangeKey{}, ex), ex
}

func (ex *exchange) snapshot() (int, time.Duration, []byte) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.status, ex.retryAfter, ex.body
}

// observer is the observing transport.
type observer struct{ base http.RoundTripper }

// maxErrorBody bounds how much of an error response is kept for messages.
const maxErrorBody = 4 << 10

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := o.base.RoundTrip(req)
	ex, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if err != nil || ex == nil {
		return resp, err
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.status = resp.StatusCode
	ex.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	ex.body = nil
	if resp.StatusCode >= 400 {
		// Keep the start of the body for the message and hand the SDK an
		// identical stream, so it can still decode its own error type.
		head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		ex.body = head
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	}
	return resp, nil
}

// parseRetryAfter reads a Retry-After header: seconds, or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// httpClient returns the client a provider uses: base (or a default
// transport tuned for many batches in flight) behind the observer. It has
// no overall timeout: the retry wrapper bounds every attempt through its
// context, which also covers the time spent reading the body.
func httpClient(base *http.Client) *http.Client {
	var rt http.RoundTripper
	if base != nil && base.Transport != nil {
		rt = base.Transport
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		rt = t
	}
	c := &http.Client{Transport: &observer{base: rt}}
	if base != nil {
		c.CheckRedirect = base.CheckRedirect
		c.Jar = base.Jar
	}
	return c
}

// hints turns a non-retryable status into advice; providers fill it in
// with the names of their own environment variables and flags.
type hints map[int]string

// classify turns a failed call into an error for the user and the retry
// wrapper. ex is the call's exchange; err is what the SDK returned.
// secrets are removed from every message.
func classify(ctx context.Context, provider string, ex *exchange, err error, h hints, secrets ...string) error {
	if ctx.Err() != nil {
		// Cancelled or timed out by the caller: report that, not whatever
		// the SDK made of the torn connection. The retry wrapper tells a
		// per-attempt timeout from the user's Ctrl-C.
		return context.Cause(ctx)
	}
	status, retryAfter, body := ex.snapshot()
	clean := redactError(err, secrets...)
	if status >= 400 {
		ae := &APIError{Provider: provider, Status: status, RetryAfter: retryAfter, Err: clean,
			Msg: redact(serverMessage(body), secrets...)}
		switch {
		case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status >= 500 && status != http.StatusNotImplemented:
			ae.Retryable = true
		default:
			ae.Hint = h[status]
			if ae.Hint == "" {
				ae.Hint = h[0]
			}
		}
		if ae.Msg == "" && clean != nil {
			ae.Msg = shorten(clean.Error())
		}
		return ae
	}
	if transient(err) {
		return &APIError{Provider: provider, Retryable: true, Msg: shorten(clean.Error()), Err: clean, Hint: h[0]}
	}
	var re *ResponseError
	if errors.As(err, &re) {
		return err
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF) && status == 200 {
		return &ResponseError{Provider: provider, Msg: "malformed JSON: " + shorten(clean.Error())}
	}
	if status >= 200 && status < 300 {
		// The SDK failed on a successful response: it could not decode it.
		return &ResponseError{Provider: provider, Msg: shorten(clean.Error())}
	}
	return &APIError{Provider: provider, Msg: shorten(clean.Error()), Err: clean, Hint: h[0]}
}

// transient reports network failures worth retrying: timeouts, refused or
// reset connections, a connection closed mid-response.
func transient(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded)
}

// serverMessage extracts the human part of an error body: the "message"
// or "error" field of a JSON object (Cohere, OCI, OpenAI, Ollama all use
// one of these), else the text itself.
func serverMessage(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var obj map[string]any
	if json.Unmarshal(body, &obj) == nil {
		for _, k := range []string{"message", "error", "detail"} {
			switch v := obj[k].(type) {
			case string:
				return shorten(v)
			case map[string]any: // OpenAI: {"error": {"message": ...}}
				if m, ok := v["message"].(string); ok {
					return shorten(m)
				}
			}
		}
	}
	return shorten(string(body))
}

func shorten(s string) string {
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

// secretParam matches credentials people put into gateway URLs
// (?api_key=..., &token=..., &sig=...).
var secretParam = regexp.MustCompile(`(?i)((?:api[-_]?key|key|token|access_token|secret|signature|sig|password|auth)=)[^&\s"']+`)

// userinfo matches https://user:password@host.
var userinfo = regexp.MustCompile(`(://)[^/@\s:]+:[^/@\s]+@`)

// bearer matches Authorization header values echoed back by a proxy.
var bearer = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}`)

// redact removes secrets from s: the given values wherever they appear,
// and anything that looks like a credential in a URL or header.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	s = secretParam.ReplaceAllString(s, "${1}[REDACTED]")
	s = userinfo.ReplaceAllString(s, "${1}[REDACTED]@")
	s = bearer.ReplaceAllString(s, "${1}[REDACTED]")
	return s
}

// redactError returns err with secrets removed from its text, keeping
// errors.Is/As working on the original chain.
func redactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// url.Error prints the full URL; keep only scheme, host and path.
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.User, u.RawQuery, u.Fragment = nil, "", ""
			ue = &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
			err = ue
		}
	}
	msg := redact(err.Error(), secrets...)
	if msg == err.Error() {
		return err
	}
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// joinPath appends an API path to a base URL, keeping the base's query
// (gateways that take a key or version as a query parameter).
func joinPath(base, path string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base + path
	}
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	return u.String()
}

// endpointURL validates a configured base URL and strips a trailing
// slash, so "http://gw/v1/" and "http://gw/v1" mean the same.
func endpointURL(raw, what string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", configErrorf("%s %q is not an http(s) URL such as https://api.example.com", what, redact(raw))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// maxResponse bounds an answer: 2048 vectors of 4096 numbers printed in
// full is under 200 MB.
const maxResponse = 256 << 20

// postForVectors sends body as JSON to url and returns the vectors found
// under path in a 200 answer (see [vectorsAt]). Failures are classified
// like the SDK-based providers' (see [classify]).
func postForVectors(ctx context.Context, client *http.Client, url string, header http.Header, body any, provider string, h hints, secrets []string, path ...string) ([][]float32, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	ctx, ex := withExchange(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, classify(ctx, provider, ex, err, h, secrets...)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, classify(ctx, provider, ex, err, h, secrets...)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil, classify(ctx, provider, ex, fmt.Errorf("HTTP %d", resp.StatusCode), h, secrets...)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, classify(ctx, provider, ex, err, h, secrets...)
	}
	if len(raw) > maxResponse {
		return nil, &ResponseError{Provider: provider, Msg: fmt.Sprintf("the answer is larger than %d MB", maxResponse>>20)}
	}
	vs, found, err := vectorsAt(raw, path...)
	if err != nil {
		return nil, &ResponseError{Provider: provider, Msg: err.Error()}
	}
	if !found {
		return nil, &ResponseError{Provider: provider, Msg: fmt.Sprintf("no %q in the answer", strings.Join(path, "."))}
	}
	return vs, nil
}

// checkVectors verifies a batch: n vectors, equal non-zero lengths.
func checkVectors(provider string, vs [][]float32, n int) error {
	if len(vs) != n {
		return &ResponseError{Provider: provider, Msg: fmt.Sprintf("%d vectors for %d texts", len(vs), n)}
	}
	for i, v := range vs {
		if len(v) == 0 {
			return &ResponseError{Provider: provider, Msg: fmt.Sprintf("vector %d is empty", i)}
		}
		if len(v) != len(vs[0]) {
			return &ResponseError{Provider: provider, Msg: fmt.Sprintf("vector %d has %d dimensions, vector 0 has %d", i, len(v), len(vs[0]))}
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

func (d *dimension) observe(provider string, vs [][]float32) error {
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
		return &ResponseError{Provider: provider, Msg: fmt.Sprintf("%d-dimensional vectors, earlier answers had %d", got, d.dim)}
	default:
		return &ResponseError{Provider: provider, Msg: fmt.Sprintf("%d-dimensional vectors where the model (or --dim) gives %d; check --embed-model and --dim", got, d.dim)}
	}
}

package langfuse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultHost is Langfuse Cloud (EU), the host Langfuse's SDKs default to.
const DefaultHost = "https://cloud.langfuse.com"

// Errors, wrapped by what the client returns.
var (
	// ErrNotConfigured: no Langfuse keys in the environment.
	ErrNotConfigured = errors.New("Langfuse is not configured (set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY)")
	// ErrAuth: Langfuse rejected the key pair (401/403); never retried.
	ErrAuth = errors.New("Langfuse rejected the API keys")
	// ErrNotFound: the prompt (or other object) does not exist (404).
	ErrNotFound = errors.New("not found in Langfuse")
	// ErrInvalid: Langfuse refused the request as malformed (400, 422).
	ErrInvalid = errors.New("Langfuse refused the request")
	// ErrUnavailable: Langfuse could not be reached, or kept answering
	// 429/5xx until the retries ran out.
	ErrUnavailable = errors.New("Langfuse is unavailable")
)

// Config is how to reach a Langfuse project.
type Config struct {
	Host      string // base URL, DefaultHost if empty
	PublicKey string
	SecretKey string // a secret: never in errors or logs
	// HTTPClient is used for every request (a client with a 15 s timeout if
	// nil).
	HTTPClient *http.Client
	// Retries is how many times a request that failed with 429, 5xx or a
	// network error is retried (3 if zero, none if negative).
	Retries int
	// RetryWait is the first backoff (200 ms if zero); it doubles, with
	// jitter, up to 5 s. A Retry-After header is honoured up to 30 s.
	RetryWait time.Duration
}

// ConfigFromEnv reads LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and
// LANGFUSE_HOST (or LANGFUSE_BASE_URL). ok is false when neither key is
// set; one key without the other is an error.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	cfg.PublicKey, cfg.SecretKey = get("LANGFUSE_PUBLIC_KEY"), get("LANGFUSE_SECRET_KEY")
	switch {
	case cfg.PublicKey == "" && cfg.SecretKey == "":
		return Config{}, false, nil
	case cfg.PublicKey == "":
		return Config{}, false, errors.New("LANGFUSE_SECRET_KEY is set but LANGFUSE_PUBLIC_KEY is not; Langfuse needs both")
	case cfg.SecretKey == "":
		return Config{}, false, errors.New("LANGFUSE_PUBLIC_KEY is set but LANGFUSE_SECRET_KEY is not; Langfuse needs both")
	}
	cfg.Host = get("LANGFUSE_HOST")
	if cfg.Host == "" {
		cfg.Host = get("LANGFUSE_BASE_URL")
	}
	return cfg, true, nil
}

// Client calls Langfuse's public API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	publicKey string
	secretKey string
	http      *http.Client
	retries   int
	wait      time.Duration
}

// New checks cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	if cfg.PublicKey == "" || cfg.SecretKey == "" {
		return nil, ErrNotConfigured
	}
	host := cfg.Host
	if host == "" {
		host = DefaultHost
	}
	u, err := url.Parse(strings.TrimRight(host, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("the Langfuse host must be an http:// or https:// URL without credentials, got %q", host)
	}
	c := &Client{base: u, publicKey: cfg.PublicKey, secretKey: cfg.SecretKey, http: cfg.HTTPClient, retries: cfg.Retries, wait: cfg.RetryWait}
	if c.http == nil {
		c.http = &http.Client{Timeout: 15 * time.Second}
	}
	if c.retries == 0 {
		c.retries = 3
	}
	if c.retries < 0 {
		c.retries = 0
	}
	if c.wait <= 0 {
		c.wait = 200 * time.Millisecond
	}
	return c, nil
}

// Host returns the base URL the client talks to.
func (c *Client) Host() string { return c.base.String() }

// APIError is a response Langfuse answered with an error status.
type APIError struct {
	Method, Path string
	Status       int
	Message      string // Langfuse's message, shortened
	kind         error
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s: %s %s answered %d", e.kind, e.Method, e.Path, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

func (e *APIError) Unwrap() error { return e.kind }

const (
	maxBackoff    = 5 * time.Second
	maxRetryAfter = 30 * time.Second
	maxErrorBody  = 2 << 10
	maxBody       = 4 << 20
)

// do sends one API request to the escaped path with retries and decodes a
// JSON answer into out (if not nil). body is marshalled once and resent as is, so a retried
// POST is byte-identical (scores carry their idempotency id in it).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("cannot encode the request to %s: %w", path, err)
		}
	}
	// path is already escaped (a prompt name may hold "/", sent as %2F).
	u := *c.base
	u.RawPath = strings.TrimRight(c.base.EscapedPath(), "/") + path
	u.Path, _ = url.PathUnescape(u.RawPath)
	u.RawQuery = query.Encode()

	var lastErr error
	for attempt := 0; ; attempt++ {
		wait, err := c.once(ctx, method, u.String(), path, payload, out)
		if err == nil {
			return nil
		}
		lastErr = err
		if wait < 0 || attempt >= c.retries {
			break
		}
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%v; gave up: %v)", ErrUnavailable, lastErr, ctx.Err())
		case <-time.After(wait):
		}
	}
	var apiErr *APIError
	if errors.As(lastErr, &apiErr) && apiErr.kind != ErrUnavailable {
		return lastErr
	}
	if errors.Is(lastErr, ErrUnavailable) {
		return lastErr
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, lastErr)
}

// once sends one attempt. wait < 0 means "do not retry"; wait > 0 is the
// server's Retry-After.
func (c *Client) once(ctx context.Context, method, rawURL, path string, payload []byte, out any) (wait time.Duration, err error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return -1, fmt.Errorf("cannot build the request to %s: %w", path, err)
	}
	req.SetBasicAuth(c.publicKey, c.secretKey)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return -1, fmt.Errorf("%w: %s %s: %v", ErrUnavailable, method, path, ctx.Err())
		}
		// Network errors (refused, reset, timeout) are worth another try.
		return 0, fmt.Errorf("%s %s: %v", method, path, stripURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
			return 0, nil
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(out); err != nil {
			return -1, fmt.Errorf("%w: %s %s: the answer is not the JSON expected: %v", ErrInvalid, method, path, err)
		}
		return 0, nil
	}
	apiErr := &APIError{Method: method, Path: path, Status: resp.StatusCode, Message: errorMessage(resp.Body)}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		apiErr.kind = ErrAuth
		return -1, apiErr
	case resp.StatusCode == http.StatusNotFound:
		apiErr.kind = ErrNotFound
		return -1, apiErr
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		apiErr.kind = ErrUnavailable
		return retryAfter(resp.Header.Get("Retry-After"), time.Now()), apiErr
	default:
		apiErr.kind = ErrInvalid
		return -1, apiErr
	}
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.wait << attempt
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	// Full jitter over the upper half, so clients that failed together do
	// not come back together.
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), capped.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}

// errorMessage extracts Langfuse's {"message": …} (or the start of the body).
func errorMessage(r io.Reader) string {
	raw, _ := io.ReadAll(io.LimitReader(r, maxErrorBody))
	var m struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	msg := strings.TrimSpace(string(raw))
	if json.Unmarshal(raw, &m) == nil {
		if m.Message != "" {
			msg = m.Message
		} else if m.Error != "" {
			msg = m.Error
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// stripURL keeps the cause of a transport error without repeating the URL.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

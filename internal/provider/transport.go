package provider

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The SDKs kura uses (OpenAI, OCI) each report failures their own way and
// none of them exposes Retry-After. Rather than parse several error
// families, every provider's HTTP client goes through an observing
// transport that records the status, the Retry-After header and the start
// of an error body of each exchange in a per-call record carried by the
// context. The caller then classifies the failure from that record with
// one function, [Classify], the same way for every SDK.

// Exchange is what the observing transport saw of one call's last
// response. Create one per call with [WithExchange].
type Exchange struct {
	mu         sync.Mutex
	status     int
	retryAfter time.Duration
	body       []byte // first bytes of an error response
}

type exchangeKey struct{}

// WithExchange returns a context that makes the transports of
// [HTTPClient] record the call's response in the returned Exchange.
func WithExchange(ctx context.Context) (context.Context, *Exchange) {
	ex := &Exchange{}
	return context.WithValue(ctx, exchangeKey{}, ex), ex
}

// Snapshot returns the status, Retry-After and error-body head recorded.
func (ex *Exchange) Snapshot() (status int, retryAfter time.Duration, body []byte) {
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
	ex, _ := req.Context().Value(exchangeKey{}).(*Exchange)
	if err != nil || ex == nil {
		return resp, err
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.status = resp.StatusCode
	ex.retryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
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

// ParseRetryAfter reads a Retry-After header: delay-seconds ("120", also
// "0.5" as some gateways send) or an HTTP date, relative to now. Anything
// else, and a date in the past, is 0.
func ParseRetryAfter(v string, now time.Time) time.Duration {
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

// HTTPClient returns the client a provider uses: base's transport (or a
// clone of the default one tuned for many requests in flight) behind the
// observer. It has no overall timeout: a [Retrier] bounds every attempt
// through its context, and a stream is bounded by its [Watchdog], which
// also covers the time spent reading the body.
func HTTPClient(base *http.Client) *http.Client {
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

package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock records the waits a Retrier asks for instead of sleeping.
type fakeClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	return ctx.Err()
}

// serve answers the i-th call (1-based) with statuses[i-1], then 200.
func serve(t *testing.T, statuses []int, retryAfter string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1))
		if n <= len(statuses) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(statuses[n-1])
			fmt.Fprintf(w, `{"message":"failure %d for key sk-SECRET-123456"}`, n)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// get is an attempt that GETs url and classifies a failure.
func get(client *http.Client, url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err != nil {
			return Classify(ctx, "fake", nil, err, Hints{0: "check FAKE_URL", 401: "check FAKE_KEY"}, "sk-SECRET-123456")
		}
		if resp.StatusCode != 200 {
			return ResponseStatusError("fake", resp, Hints{0: "check FAKE_URL", 401: "check FAKE_KEY"}, "sk-SECRET-123456")
		}
		resp.Body.Close()
		return nil
	}
}

func TestRetrierStatuses(t *testing.T) {
	f := func(statuses []int, retryAfter string, wantCalls int, wantErr string, checkWaits func([]time.Duration) bool) {
		t.Helper()
		srv, calls := serve(t, statuses, retryAfter)
		clock := &fakeClock{}
		r := NewRetrier(Policy{Provider: "fake", Attempts: 4, BaseDelay: 100 * time.Millisecond, Sleep: clock.sleep})
		err := r.Do(context.Background(), get(HTTPClient(nil), srv.URL))
		if int(calls.Load()) != wantCalls {
			t.Fatalf("statuses %v: %d calls, want %d (err %v)", statuses, calls.Load(), wantCalls, err)
		}
		switch {
		case wantErr == "" && err != nil:
			t.Fatalf("statuses %v: %v", statuses, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Fatalf("statuses %v: error %v, want it to contain %q", statuses, err, wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "sk-SECRET") {
			t.Fatalf("secret in %q", err)
		}
		if checkWaits != nil && !checkWaits(clock.waits) {
			t.Fatalf("statuses %v: waits %v", statuses, clock.waits)
		}
	}
	between := func(lo, hi time.Duration) func([]time.Duration) bool {
		return func(w []time.Duration) bool { return len(w) >= 1 && w[0] >= lo && w[0] <= hi }
	}
	f([]int{429}, "7", 2, "", between(7*time.Second, 7700*time.Millisecond))
	f([]int{429}, "0.5", 2, "", between(500*time.Millisecond, 550*time.Millisecond))
	f([]int{429}, "", 2, "", between(50*time.Millisecond, 150*time.Millisecond))
	f([]int{503, 502, 500}, "", 4, "", func(w []time.Duration) bool {
		// Full jitter: wait n lies in [base/2, base/2 + base·2^(n-1)).
		return len(w) == 3 && w[2] >= 50*time.Millisecond && w[2] < 450*time.Millisecond
	})
	f([]int{503, 503, 503, 503}, "", 4, "gave up after 4 attempts: fake: HTTP 503", nil)
	f([]int{408}, "", 2, "", nil)
	for _, code := range []int{400, 401, 403, 404, 422, 501} {
		f([]int{code}, "", 1, fmt.Sprintf("HTTP %d", code), nil)
	}
	f([]int{401}, "", 1, "check FAKE_KEY", nil)
	f([]int{400}, "", 1, "check FAKE_URL", nil) // the fallback hint
	f([]int{429}, "", 2, "", nil)
}

func TestRetryAfterDate(t *testing.T) {
	when := time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat)
	srv, calls := serve(t, []int{429}, when)
	clock := &fakeClock{}
	r := NewRetrier(Policy{Sleep: clock.sleep})
	if err := r.Do(context.Background(), get(HTTPClient(nil), srv.URL)); err != nil || calls.Load() != 2 {
		t.Fatalf("err %v, calls %d", err, calls.Load())
	}
	// The date has a resolution of a second and a moment has passed.
	if w := clock.waits[0]; w < 8*time.Second || w > 12*time.Second {
		t.Fatalf("wait %v for Retry-After %s", w, when)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "0.5": 500 * time.Millisecond, "junk": 0, "-2": 0,
		"Sat, 21 Nov 2026 12:00:10 GMT":    10 * time.Second,
		"Sat, 21 Nov 2026 11:59:00 GMT":    0, // in the past
		"Saturday, 21-Nov-26 12:00:05 GMT": 5 * time.Second,
	} {
		if got := ParseRetryAfter(in, now); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}

func TestRetrierPauseAfter429IsShared(t *testing.T) {
	srv, _ := serve(t, []int{429}, "2")
	clock := &fakeClock{}
	r := NewRetrier(Policy{Sleep: clock.sleep})
	if err := r.Do(context.Background(), get(HTTPClient(nil), srv.URL)); err != nil {
		t.Fatal(err)
	}
	// Another caller starting now waits for the rest of the pause.
	clock.waits = nil
	if err := r.Do(context.Background(), func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(clock.waits) != 1 || clock.waits[0] < time.Second {
		t.Fatalf("second caller waited %v", clock.waits)
	}
}

func TestRetrierAttemptTimeout(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
	}))
	defer srv.Close()
	var retried error
	r := NewRetrier(Policy{Provider: "fake", Timeout: 100 * time.Millisecond, Sleep: (&fakeClock{}).sleep,
		OnRetry: func(_ int, err error, _ time.Duration) { retried = err }})
	if err := r.Do(context.Background(), get(HTTPClient(nil), srv.URL)); err != nil || calls.Load() != 2 {
		t.Fatalf("err %v, calls %d", err, calls.Load())
	}
	if retried == nil || !strings.Contains(retried.Error(), "no answer within 100ms") {
		t.Fatalf("retried after %v", retried)
	}
}

func TestRetrierUnreachable(t *testing.T) {
	clock := &fakeClock{}
	r := NewRetrier(Policy{Provider: "fake", Attempts: 3, Sleep: clock.sleep})
	err := r.Do(context.Background(), get(HTTPClient(nil), "http://127.0.0.1:1/x?api_key=s3cr3t"))
	var ae *APIError
	if !errors.As(err, &ae) || !ae.Retryable || len(clock.waits) != 2 || !strings.Contains(err.Error(), "check FAKE_URL") {
		t.Fatalf("err %v, waits %v", err, clock.waits)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("secret in %q", err)
	}
}

func TestRetrierFinalAndCancel(t *testing.T) {
	retryable := &APIError{Provider: "fake", Status: 503, Retryable: true}
	r := NewRetrier(Policy{Sleep: (&fakeClock{}).sleep})
	calls := 0
	err := r.Do(context.Background(), func(context.Context) error { calls++; return Final(fmt.Errorf("cut: %w", retryable)) })
	if calls != 1 || !errors.Is(err, retryable) || IsRetryable(err) {
		t.Fatalf("Final: calls %d, err %v", calls, err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("interrupted")
	calls = 0
	err = NewRetrier(Policy{}).Do(ctx, func(context.Context) error {
		calls++
		cancel(stop)
		return retryable
	})
	if calls != 1 || !errors.Is(err, stop) {
		t.Fatalf("cancel: calls %d, err %v", calls, err)
	}
}

func TestRetrierRateLimit(t *testing.T) {
	r := NewRetrier(Policy{RPS: 20})
	start := time.Now()
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Do(context.Background(), func(context.Context) error { return nil })
		}()
	}
	wg.Wait()
	// Six calls at 20/s: the last starts 5 intervals (250 ms) after the first.
	if d := time.Since(start); d < 240*time.Millisecond {
		t.Fatalf("6 calls at 20 rps took %v", d)
	}
	// A cancelled wait gives its slot back and returns at once.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	slow := NewRetrier(Policy{RPS: 0.1})
	slow.Do(context.Background(), func(context.Context) error { return nil })
	t0 := time.Now()
	if err := slow.Do(ctx, func(context.Context) error { return nil }); !errors.Is(err, context.DeadlineExceeded) || time.Since(t0) > time.Second {
		t.Fatalf("cancelled wait: %v after %v", err, time.Since(t0))
	}
}

// TestObserver: the observing transport records what Classify needs while
// the SDK reading the response still gets the whole error body.
func TestObserver(t *testing.T) {
	body := `{"error":{"message":"Incorrect API key provided: sk-SECRET-123456"}}` + strings.Repeat(" ", 5000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	ctx, ex := WithExchange(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := HTTPClient(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != body {
		t.Fatalf("the SDK would read %d bytes of %d", len(got), len(body))
	}
	status, ra, head := ex.Snapshot()
	if status != 401 || ra != 3*time.Second || len(head) != maxErrorBody {
		t.Fatalf("recorded %d %v %d bytes", status, ra, len(head))
	}
	err = Classify(ctx, "openai", ex, errors.New("POST: 401"), Hints{401: "check OPENAI_API_KEY"}, "sk-SECRET-123456")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Retryable || !ae.Rejected() || strings.Contains(err.Error(), "sk-SECRET") ||
		!strings.Contains(err.Error(), "Incorrect API key provided") || !strings.Contains(err.Error(), "check OPENAI_API_KEY") {
		t.Fatalf("classified as %v", err)
	}
}

package server

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// sseWriter writes Server-Sent Events. Headers go out with the first
// event or keep-alive comment, so an error before anything was streamed
// can still be a plain HTTP error. Every event is flushed at once; each
// write has its own deadline (the server's write timeout would otherwise
// end a long stream); writes are serialised because keep-alive comments
// come from another goroutine.
type sseWriter struct {
	w            http.ResponseWriter
	rc           *http.ResponseController
	writeTimeout time.Duration
	mu           sync.Mutex
	started      bool
	err          error
}

func newSSE(w http.ResponseWriter, writeTimeout time.Duration) *sseWriter {
	return &sseWriter{w: w, rc: http.NewResponseController(w), writeTimeout: writeTimeout}
}

// Started reports whether the stream's headers have been sent.
func (s *sseWriter) Started() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

func (s *sseWriter) startLocked() {
	if s.started {
		return
	}
	s.started = true
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	h.Del("Content-Length")
	s.w.WriteHeader(http.StatusOK)
}

// write sends one complete SSE block.
func (s *sseWriter) write(block []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.startLocked()
	s.rc.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	if _, err := s.w.Write(block); err != nil {
		s.err = err
		return err
	}
	if err := s.rc.Flush(); err != nil {
		s.err = err
	}
	return s.err
}

// Event sends `event: name` with v as JSON.
func (s *sseWriter) Event(name string, v any) error {
	b, err := marshal(v)
	if err != nil {
		return err
	}
	block := make([]byte, 0, len(b)+len(name)+16)
	block = append(block, "event: "...)
	block = append(block, name...)
	block = append(block, "\ndata: "...)
	block = append(block, b...)
	block = append(block, "\n\n"...)
	return s.write(block)
}

// Data sends a data-only event (the OpenAI stream format): v as JSON, or
// a []byte as is.
func (s *sseWriter) Data(v any) error {
	b, ok := v.([]byte)
	if !ok {
		var err error
		if b, err = marshal(v); err != nil {
			return err
		}
	}
	block := make([]byte, 0, len(b)+8)
	block = append(block, "data: "...)
	block = append(block, b...)
	block = append(block, "\n\n"...)
	return s.write(block)
}

// KeepAlive sends a comment every interval until ctx ends or the
// returned stop is called; stop waits for the goroutine to exit.
// Comments keep proxies and browsers from closing an idle stream while
// the model thinks.
func (s *sseWriter) KeepAlive(ctx context.Context, interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if s.write([]byte(": keep-alive\n\n")) != nil {
					return
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

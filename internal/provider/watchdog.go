package provider

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// ErrIdle is the cause of a stream's context cancelled by its [Watchdog].
var ErrIdle = errors.New("the provider stopped sending")

// Watchdog cancels a streamed call that stops sending: it is started with
// the time allowed until the first event, and every event read kicks it
// with the time allowed until the next one. Without it a stream whose
// server goes quiet (a hung upstream, a dropped connection nobody told the
// kernel about) would hang the answer forever.
type Watchdog struct {
	timer  *time.Timer
	cancel context.CancelCauseFunc
	fired  atomic.Bool
}

// NewWatchdog returns a context that is cancelled with cause [ErrIdle] if
// d passes without a [Watchdog.Kick], and the watchdog. Call Stop when the
// stream is done.
func NewWatchdog(ctx context.Context, d time.Duration) (context.Context, *Watchdog) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &Watchdog{cancel: cancel}
	w.timer = time.AfterFunc(d, func() {
		w.fired.Store(true)
		cancel(ErrIdle)
	})
	context.AfterFunc(ctx, func() { w.timer.Stop() })
	return ctx, w
}

// Kick allows d more until the next event. A watchdog that has fired
// stays fired.
func (w *Watchdog) Kick(d time.Duration) {
	if !w.fired.Load() {
		w.timer.Reset(d)
	}
}

// Fired reports whether the watchdog cancelled the stream.
func (w *Watchdog) Fired() bool { return w.fired.Load() }

// Stop disarms the watchdog and releases its context: call it when the
// stream has been read to its end or abandoned.
func (w *Watchdog) Stop() {
	w.timer.Stop()
	w.cancel(context.Canceled)
}

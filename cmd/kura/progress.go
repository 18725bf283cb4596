package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/kura-rag/kura/internal/ingest"
)

// reporter shows ingest feedback on stderr: a live progress line on a
// terminal, one plain log line per file otherwise (CI logs, pipes), and
// every problem on a line of its own in both cases.
type reporter struct {
	out      io.Writer
	progress *ingest.Progress
	tty      bool
	quiet    bool // --json: problems only

	mu    sync.Mutex
	start time.Time
	done  chan struct{}
	wg    sync.WaitGroup
	drawn bool
}

func newReporter(out io.Writer, quiet bool) *reporter {
	r := &reporter{out: out, progress: &ingest.Progress{}, quiet: quiet, start: time.Now(), done: make(chan struct{})}
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.tty = true
		r.wg.Add(1)
		go r.loop()
	}
	return r
}

func (r *reporter) loop() {
	defer r.wg.Done()
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-tick.C:
			r.mu.Lock()
			r.draw()
			r.mu.Unlock()
		}
	}
}

// draw prints the progress line; callers hold mu.
func (r *reporter) draw() {
	p := r.progress
	total, done := p.FilesTotal.Load(), p.FilesDone.Load()
	secs := time.Since(r.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(p.Stored.Load()) / secs
	}
	// Files loaded says little for one big JSONL file, so the bar also
	// weighs the share of known chunks already stored.
	const width = 24
	frac := 0.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	if chunks := p.Chunks.Load(); chunks > 0 {
		frac *= min(1, float64(p.Stored.Load())/float64(chunks))
	}
	filled := int(width * frac)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	fmt.Fprintf(r.out, "\r\033[K%s files %d/%d  chunks %d  embedded %d  stored %d  %.0f chunks/s",
		bar, done, total, p.Chunks.Load(), p.Embedded.Load(), p.Stored.Load(), rate)
	r.drawn = true
}

// clear removes the progress line so a log line can take its place;
// callers hold mu.
func (r *reporter) clear() {
	if r.drawn {
		fmt.Fprint(r.out, "\r\033[K")
		r.drawn = false
	}
}

func (r *reporter) problem(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clear()
	fmt.Fprintln(r.out, problemText(err))
}

func (r *reporter) file(f ingest.FileReport) {
	if r.tty || r.quiet {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.out, "%s: %s (%d new, %d updated, %d unchanged, %d stale)\n", f.Source, plural(f.Chunks, "chunk"), f.New, f.Updated, f.Unchanged, f.Stale)
}

func (r *reporter) stop() {
	if !r.tty {
		return
	}
	close(r.done)
	r.wg.Wait()
	r.mu.Lock()
	r.clear()
	r.mu.Unlock()
}

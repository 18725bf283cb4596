package provider

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readSSE reads every event of in, as "name|data" strings, and the final
// error.
func readSSE(in string, max int) ([]string, error) {
	r := NewSSEReader(strings.NewReader(in), max)
	var out []string
	for {
		ev, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, ev.Name+"|"+string(ev.Data))
	}
}

func TestSSEReader(t *testing.T) {
	f := func(in string, want []string, wantErr error) {
		t.Helper()
		got, err := readSSE(in, 0)
		if !errors.Is(err, wantErr) {
			t.Fatalf("%q: error %v, want %v", in, err, wantErr)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%q:\n got %q\nwant %q", in, got, want)
		}
	}
	f("data: a\n\ndata: b\n\n", []string{"|a", "|b"}, io.EOF)
	f("event: content-delta\ndata: {\"x\":1}\n\n", []string{"content-delta|{\"x\":1}"}, io.EOF)
	f("data:no space\r\n\r\n", []string{"|no space"}, io.EOF)
	f("data:  two spaces\n\n", []string{"| two spaces"}, io.EOF)
	f("data: l1\ndata: l2\n\n", []string{"|l1\nl2"}, io.EOF)
	f(": keep-alive\n\n: ping\ndata: x\n\n", []string{"|x"}, io.EOF)
	f("event: ping\n\ndata: x\n\n", []string{"|x"}, io.EOF) // an event without data is not dispatched, its name forgotten
	f("id: 7\nretry: 100\ndata: x\n\n", []string{"|x"}, io.EOF)
	f("\xef\xbb\xbfdata: bom\n\n", []string{"|bom"}, io.EOF)
	f("data\n\n", []string{"|"}, io.EOF) // a field without a colon has an empty value
	f("data: 日本語の回答\n\n", []string{"|日本語の回答"}, io.EOF)
	// A stream cut inside an event loses the incomplete event.
	f("data: a\n\ndata: b\n", []string{"|a"}, io.EOF)
	f("data: a\n\ndata: b", []string{"|a"}, io.ErrUnexpectedEOF)
	// A huge event is refused, not buffered without end.
	_, err := readSSE("data: "+strings.Repeat("x", 100)+"\n\n", 50)
	if !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("oversized event: %v", err)
	}
	_, err = readSSE("data: "+strings.Repeat("x", 100<<10)+"\n\n", 50<<10)
	if !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("oversized line: %v", err)
	}
	// Lines longer than the read buffer are assembled.
	long := strings.Repeat("y", 40<<10)
	got, err := readSSE("data: "+long+"\n\n", 0)
	if err != io.EOF || len(got) != 1 || got[0] != "|"+long {
		t.Fatalf("long line: %v, %d events", err, len(got))
	}
	// Byte by byte reads give the same events.
	r := NewSSEReader(iotest.OneByteReader(strings.NewReader("event: e\r\ndata: 1\r\n\r\ndata: 2\n\n")), 0)
	var seen []string
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		seen = append(seen, ev.Name+"|"+string(ev.Data))
	}
	if strings.Join(seen, ",") != "e|1,|2" {
		t.Fatalf("one byte at a time: %q", seen)
	}
}

func TestLineReader(t *testing.T) {
	r := NewLineReader(strings.NewReader("{\"a\":1}\r\n\n   \n{\"b\":2}\n{\"c\""), 0)
	var got []string
	var err error
	for {
		var line []byte
		if line, err = r.Next(); err != nil {
			break
		}
		got = append(got, string(line))
	}
	if strings.Join(got, ",") != `{"a":1},{"b":2}` || err != io.ErrUnexpectedEOF {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := NewLineReader(strings.NewReader(strings.Repeat("z", 100<<10)+"\n"), 64<<10).Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("oversized line: %v", err)
	}
}

// FuzzSSEReader checks that no input makes the reader panic, loop or
// exceed its limit, and that every event it returns comes from data
// lines of the input.
func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{
		"data: a\n\n", "event: x\ndata: {\"type\":\"content-delta\"}\n\n", ": c\r\n\r\ndata:\r\n\r\n",
		"data: a\ndata: b\n\n", "\xef\xbb\xbfdata: x\n\n", "data: cut", "event: only\n\n", "\n\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewSSEReader(bytes.NewReader(in), 1<<10)
		for n := 0; ; n++ {
			if n > len(in) {
				t.Fatalf("%d events from %d bytes", n, len(in))
			}
			ev, err := r.Next()
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, ErrEventTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(ev.Data) > 1<<10 {
				t.Fatalf("event of %d bytes over the limit", len(ev.Data))
			}
			for _, line := range bytes.Split(ev.Data, []byte("\n")) {
				if len(line) > 0 && !bytes.Contains(in, line) {
					t.Fatalf("data %q is not in the input", line)
				}
			}
		}
	})
}

// FuzzLineReader checks the NDJSON reader the same way.
func FuzzLineReader(f *testing.F) {
	for _, s := range []string{"{\"message\":{\"content\":\"a\"}}\n", "{}\r\n\n{}", "\n\n", "x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewLineReader(bytes.NewReader(in), 1<<10)
		for n := 0; ; n++ {
			if n > len(in) {
				t.Fatalf("%d lines from %d bytes", n, len(in))
			}
			line, err := r.Next()
			if err != nil {
				return
			}
			if len(bytes.TrimSpace(line)) == 0 || !bytes.Contains(in, line) || bytes.ContainsAny(line, "\n") {
				t.Fatalf("line %q", line)
			}
		}
	})
}

func TestWatchdog(t *testing.T) {
	ctx, w := NewWatchdog(context.Background(), 50*time.Millisecond)
	for range 5 {
		time.Sleep(20 * time.Millisecond)
		w.Kick(50 * time.Millisecond)
	}
	if ctx.Err() != nil || w.Fired() {
		t.Fatal("a kicked watchdog fired")
	}
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("an idle stream was not cancelled")
	}
	if !w.Fired() || !errors.Is(context.Cause(ctx), ErrIdle) {
		t.Fatalf("cause %v", context.Cause(ctx))
	}
	ctx, w = NewWatchdog(context.Background(), time.Hour)
	w.Stop()
	if ctx.Err() == nil || w.Fired() {
		t.Fatal("Stop must release the context without firing")
	}
}

package provider

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxEvent bounds one streamed event or line. The largest event a
// chat provider sends is its final one, which may repeat the whole answer
// with its citations (OCI's Cohere format): well under a megabyte.
const DefaultMaxEvent = 8 << 20

// ErrEventTooLarge is returned by [SSEReader] and [LineReader] for an event
// or line longer than their limit.
var ErrEventTooLarge = errors.New("streamed event too large")

// SSEEvent is one Server-Sent Event: its type ("" when the stream names
// none) and its data, the data lines joined with "\n". Data is only valid
// until the next call to Next.
type SSEEvent struct {
	Name string
	Data []byte
}

// SSEReader reads a text/event-stream body as the HTML standard's event
// stream interpretation does: fields "event" and "data" (several data
// lines joined with "\n", one space after the colon dropped), comment
// lines starting with ":" and other fields ignored, an event dispatched on
// a blank line and only if it has data. Lines end in LF or CRLF; a UTF-8
// byte order mark at the start is skipped. An event the stream ends in the
// middle of is discarded, as the standard says: it is incomplete.
type SSEReader struct {
	r       *bufio.Reader
	max     int
	line    []byte // a line longer than the bufio buffer, assembled here
	data    []byte
	name    []byte
	started bool
}

// NewSSEReader reads events from r; max bounds one event's data (0 means
// [DefaultMaxEvent]).
func NewSSEReader(r io.Reader, max int) *SSEReader {
	if max <= 0 {
		max = DefaultMaxEvent
	}
	return &SSEReader{r: bufio.NewReaderSize(r, 16<<10), max: max}
}

// Next returns the next event, io.EOF at the clean end of the stream, or
// the read error (io.ErrUnexpectedEOF and friends for a cut connection).
func (s *SSEReader) Next() (SSEEvent, error) {
	s.data, s.name = s.data[:0], s.name[:0]
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			return SSEEvent{}, err
		}
		if len(line) == 0 {
			if !hasData {
				s.name = s.name[:0]
				continue
			}
			data := s.data
			if n := len(data); n > 0 && data[n-1] == '\n' {
				data = data[:n-1]
			}
			return SSEEvent{Name: string(s.name), Data: data}, nil
		}
		if line[0] == ':' {
			continue // a comment, often a keep-alive
		}
		field, value, found := bytes.Cut(line, []byte{':'})
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(field) {
		case "data":
			if len(s.data)+len(value)+1 > s.max {
				return SSEEvent{}, fmt.Errorf("%w: more than %d bytes", ErrEventTooLarge, s.max)
			}
			s.data = append(s.data, value...)
			s.data = append(s.data, '\n')
			hasData = true
		case "event":
			s.name = append(s.name[:0], value...)
		}
	}
}

// readLine returns the next line without its line ending. At the end of
// the stream a last line without an ending is returned with io.EOF, which
// the caller treats as the end (the pending event is incomplete).
func (s *SSEReader) readLine() ([]byte, error) {
	line, err := readLine(s.r, &s.line, s.max)
	if err != nil {
		return nil, err
	}
	if !s.started {
		s.started = true
		line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
	}
	return line, nil
}

// readLine reads one LF- or CRLF-terminated line from r, without its
// ending. A line that does not fit r's buffer is assembled in *buf, up to
// max bytes. A final line without a line ending is not returned: the
// stream was cut in the middle of it, or it was not a stream of lines.
func readLine(r *bufio.Reader, buf *[]byte, max int) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		*buf = append((*buf)[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(*buf) > max {
				return nil, fmt.Errorf("%w: a line of more than %d bytes", ErrEventTooLarge, max)
			}
			line, err = r.ReadSlice('\n')
			*buf = append(*buf, line...)
		}
		line = *buf
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			// The stream ended inside a line.
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// LineReader reads newline-delimited JSON (Ollama's application/x-ndjson):
// one value per line, blank lines skipped, LF or CRLF endings.
type LineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// NewLineReader reads lines from r; max bounds one line (0 means
// [DefaultMaxEvent]).
func NewLineReader(r io.Reader, max int) *LineReader {
	if max <= 0 {
		max = DefaultMaxEvent
	}
	return &LineReader{r: bufio.NewReaderSize(r, 16<<10), max: max}
}

// Next returns the next non-blank line, valid until the next call; io.EOF
// at the clean end, io.ErrUnexpectedEOF if the stream ends inside a line.
func (l *LineReader) Next() ([]byte, error) {
	for {
		line, err := readLine(l.r, &l.buf, l.max)
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) > 0 {
			return line, nil
		}
	}
}

package filter

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// SyntaxError reports a filter expression that [Parse] cannot compile. Its
// Error text names what was expected and echoes the offending line with a
// caret under the position, so the CLI can print it as is.
type SyntaxError struct {
	// Expr is the whole expression as given to Parse.
	Expr string
	// Pos is the byte offset of the problem in Expr; len(Expr) means "at the end".
	Pos int
	// Line is the 1-based line of Pos; it is 1 unless Expr spans several lines.
	Line int
	// Column is the 1-based rune column of Pos within its line.
	Column int
	// Msg says what went wrong, without position.
	Msg string
}

// snippetWidth bounds the echoed context so a huge one-line filter still
// yields a readable message.
const snippetWidth = 72

func (e *SyntaxError) Error() string {
	var b strings.Builder
	b.WriteString("filter: ")
	b.WriteString(e.Msg)
	if strings.ContainsAny(e.Expr, "\n") {
		b.WriteString(" at line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(", column ")
	} else {
		b.WriteString(" at column ")
	}
	b.WriteString(strconv.Itoa(e.Column))

	line, col := e.contextLine()
	if strings.TrimSpace(line) == "" && col == 0 {
		return b.String()
	}
	b.WriteString("\n  ")
	b.WriteString(line)
	b.WriteString("\n  ")
	b.WriteString(strings.Repeat(" ", col))
	b.WriteString("^")
	return b.String()
}

// contextLine returns the printable line around Pos and the caret's rune
// offset in it.
func (e *SyntaxError) contextLine() (string, int) {
	pos := min(max(e.Pos, 0), len(e.Expr))
	start := strings.LastIndexByte(e.Expr[:pos], '\n') + 1
	end := len(e.Expr)
	if i := strings.IndexByte(e.Expr[pos:], '\n'); i >= 0 {
		end = pos + i
	}
	before := []rune(printable(e.Expr[start:pos]))
	after := []rune(printable(e.Expr[pos:end]))
	prefix, suffix := "", ""
	if len(before) > snippetWidth-12 {
		before = before[len(before)-(snippetWidth-12):]
		prefix = "..."
	}
	if len(after) > snippetWidth-len(before) {
		after = after[:max(snippetWidth-len(before), 12)]
		suffix = "..."
	}
	return prefix + string(before) + string(after) + suffix, utf8.RuneCountInString(prefix) + len(before)
}

// printable maps every rune to exactly one printable rune so the caret
// stays under the right column: tabs and control characters become spaces,
// invalid bytes become U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// newSyntaxError fills in Line and Column from pos.
func newSyntaxError(expr string, pos int, msg string) *SyntaxError {
	pos = min(max(pos, 0), len(expr))
	start := strings.LastIndexByte(expr[:pos], '\n') + 1
	return &SyntaxError{
		Expr:   expr,
		Pos:    pos,
		Line:   strings.Count(expr[:pos], "\n") + 1,
		Column: utf8.RuneCountInString(expr[start:pos]) + 1,
		Msg:    msg,
	}
}

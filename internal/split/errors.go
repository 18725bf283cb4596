package split

import "errors"

// ErrOptions is wrapped by every error [New] returns for invalid [Options].
// Callers test it with errors.Is; the message of the wrapping error names
// the offending command-line flag and is fit to show to a user as is.
var ErrOptions = errors.New("invalid splitter options")

// optionsError keeps the user-facing message exact (no ": invalid splitter
// options" suffix) while still matching [ErrOptions] with errors.Is.
type optionsError struct{ msg string }

func (e *optionsError) Error() string { return e.msg }
func (e *optionsError) Unwrap() error { return ErrOptions }

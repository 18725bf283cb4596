package split

import "errors"

// ErrOptions is wrapped by every error [New] returns for invalid [Options].
// Callers test it with errors.Is, and find the option at fault with
// errors.As and [*OptionsError].
var ErrOptions = errors.New("invalid splitter options")

// OptionsError is an invalid option. Its message names options the way
// the JSON API does (splitter, chunk_size, chunk_overlap), never a
// command-line flag: a front end that has flags says which one it is.
type OptionsError struct {
	// Option is the option at fault: "splitter", "chunk_size" or
	// "chunk_overlap".
	Option string
	msg    string
}

func (e *OptionsError) Error() string { return e.msg }

// Unwrap makes the error match [ErrOptions].
func (e *OptionsError) Unwrap() error { return ErrOptions }

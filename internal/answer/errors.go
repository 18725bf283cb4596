package answer

import "errors"

// Errors of the answer stage. Errors of the language model pass through
// wrapped (llm.ErrAuth, llm.ErrUnavailable, llm.ErrStreamCut, ...), and so
// do the retriever's.
var (
	// ErrPrompt is a prompt template that cannot be used: a syntax error
	// (with its line), a construct kura does not support, an unknown
	// variable.
	ErrPrompt = errors.New("prompt template")
	// ErrQuestion is an empty question.
	ErrQuestion = errors.New("the question is empty")
	// ErrConfig is a stage built without a language model or retriever,
	// or with generation options the model does not support.
	ErrConfig = errors.New("answer stage configuration")
)

package app

import (
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/kura-rag/kura/internal/answer"
	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/llm"
	"github.com/kura-rag/kura/internal/store"
)

// AskBatchRequest answers many questions alike: `kura ask --queries` and
// the answer evaluation.
type AskBatchRequest struct {
	Questions []api.BatchQuery
	// Ask is the template of every question: retrieval and generation
	// options, model, prompt. Its Question and QueryID are set per
	// question; each answer stands alone.
	Ask AskInput
	// Concurrency is the number of questions answered at once
	// (GOMAXPROCS if 0).
	Concurrency int
	// OnAnswer is called once per question asked, as it is answered
	// (from several goroutines at once), with the question's index in
	// Questions and the error of a question that got no answer.
	OnAnswer func(i int, ans api.Answer, err error)
}

// AskBatch answers the questions of req concurrently. A failure that
// would fail every question alike ([StopsBatch]: a rejected key, an
// invalid option, cancellation) stops the run and is returned; questions
// not asked by then get no OnAnswer call. Any other failure is one
// question's, given to OnAnswer, and the run goes on.
func (a *App) AskBatch(ctx context.Context, req AskBatchRequest) error {
	if len(req.Questions) == 0 {
		return api.Invalid("queries", "there are no questions to answer")
	}
	workers := req.Concurrency
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(req.Questions)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				q := req.Questions[i]
				in := req.Ask
				in.Question, in.QueryID = q.Query, q.ID
				ans, err := a.AskWith(ctx, in, nil)
				if err != nil && StopsBatch(err) {
					cancel(err)
					return
				}
				if req.OnAnswer != nil {
					req.OnAnswer(i, ans, err)
				}
			}
		}()
	}
feed:
	for i := range req.Questions {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// StopsBatch reports whether err, the failure of one question, would
// fail every question of a batch alike, so that a batch (or a chat)
// stops at the first instead of repeating it.
func StopsBatch(err error) bool {
	var ae *api.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.Is(err, llm.ErrAuth), errors.Is(err, llm.ErrConfig), errors.Is(err, llm.ErrUnsupportedOption),
		errors.Is(err, answer.ErrConfig), errors.Is(err, answer.ErrPrompt), errors.Is(err, store.ErrMismatch):
		return true
	case errors.As(err, &ae):
		switch ae.Code {
		case api.CodeInvalidRequest, api.CodeNotFound, api.CodeConflict, api.CodeUnprocessable, api.CodeUnauthorized:
			return true
		}
	}
	return false
}

package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
)

type askOptions struct {
	embedder    embedderOptions
	retrieval   retrievalOptions
	answer      answerOptions
	JSON        bool
	Queries     string
	Concurrency int
	SessionID   string
	UserID      string
}

func newAskCommand(g *globalOptions) *cobra.Command {
	var o askOptions
	cmd := &cobra.Command{
		Use:   "ask QUESTION",
		Short: "Answer a question from a collection, with its sources",
		Long: `Retrieve the chunks that answer QUESTION (exactly as kura search does, with
the same flags), and stream an answer written from them, citing them as [n];
then list the numbered sources. Every citation is checked against the sources
given: a number that names no source is removed.

Who answers (--llm, env KURA_LLM): extractive (the default; offline, no key:
the sentences of the sources that best answer the question, labelled as
extracted), cohere (COHERE_API_KEY), oci (COMPARTMENT_ID, ~/.oci/config),
openai (any OpenAI-compatible server: OPENAI_BASE_URL, OPENAI_API_KEY) or
ollama (OLLAMA_HOST). Generation options are sent only when set; an option
the provider does not support is refused.

With --json, one JSON object at the end:
  {"id": "ans_…", "trace_id": "…", "answer": "…[1]…", "citations": [...],
   "sources": [...], "llm": "…", "model": "…", "usage": {...}, "timings": {...}}
With --queries FILE.jsonl (lines {"id": "...", "query": "..."}), one such
object per line, with "query_id", answering --concurrency questions at once.
The id is what kura feedback refers to.

Exit status: 0 answered, 1 failed (or the model could not be reached and no
--fallback answered; the sources are still shown), 2 bad usage, 3 some
questions of --queries were skipped or got no answer, 130 interrupted.`,
		Example: `  kura ask "GitOpsとは何ですか"
  KURA_LLM=openai OPENAI_BASE_URL=http://localhost:8000/v1 kura ask --llm-model qwen2.5 "Argo CDの同期とは"
  kura ask --llm cohere --temperature 0 --prompt prompt.j2 "What is Tekton?"
  kura ask --queries questions.jsonl --json --concurrency 8 > answers.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			question := strings.TrimSpace(strings.Join(args, " "))
			switch {
			case o.Queries == "" && len(args) == 0:
				return &usageError{errors.New("give a QUESTION, or --queries FILE.jsonl for batch mode")}
			case o.Queries == "" && question == "":
				return &usageError{errors.New("the QUESTION is empty; ask something, e.g. kura ask \"GitOpsとは何ですか\"")}
			case o.Queries != "" && len(args) > 0:
				return &usageError{errors.New("give either a QUESTION or --queries, not both")}
			case o.Concurrency < 1:
				return &usageError{fmt.Errorf("--concurrency %d must be at least 1", o.Concurrency)}
			}
			return runAsk(cmd, g, &o, question)
		},
	}
	f := cmd.Flags()
	o.embedder.register(f)
	o.retrieval.register(f, app.DefaultK)
	o.answer.register(f)
	f.BoolVar(&o.JSON, "json", false, "print the answer as one JSON object at the end instead of streaming it")
	f.StringVar(&o.Queries, "queries", "", "batch mode: a JSONL file of {\"id\", \"query\"} lines; prints one JSON answer per line")
	f.IntVar(&o.Concurrency, "concurrency", 4, "batch mode: questions answered at once")
	f.StringVar(&o.SessionID, "session-id", "", "session id of the trace (default: a new one per question)")
	f.StringVar(&o.UserID, "user-id", "", "user the answer is recorded for (traces, feedback; default \"default\")")
	g.registerTraceFlag(f)
	return cmd
}

// askSetup resolves the retrieval and answer flags and opens the
// application for answering.
func askSetup(cmd *cobra.Command, g *globalOptions, e *embedderOptions, r *retrievalOptions, ao *answerOptions) (*app.App, api.AskRequest, error) {
	flags := cmd.Flags()
	e.resolve(flags)
	if err := e.validate(); err != nil {
		return nil, api.AskRequest{}, err
	}
	if err := ao.resolve(flags); err != nil {
		return nil, api.AskRequest{}, err
	}
	search, err := r.options(flags)
	if err != nil {
		return nil, api.AskRequest{}, err
	}
	req := api.AskRequest{SearchOptions: search, GenerationOptions: ao.generation()}
	a, err := g.openApp(cmd, appConfig{
		readOnly: true, embedding: e.options(flags), answers: ao.defaults(), trace: true,
		providers: func(p app.Providers) app.Providers { return ao.providers(e.providers(p)) },
	})
	return a, req, err
}

func runAsk(cmd *cobra.Command, g *globalOptions, o *askOptions, question string) error {
	a, req, err := askSetup(cmd, g, &o.embedder, &o.retrieval, &o.answer)
	if err != nil {
		return err
	}
	defer a.Close()
	in := app.AskInput{AskRequest: req, User: o.UserID, SessionID: o.SessionID, Standalone: true}
	if o.Queries != "" {
		return askBatch(cmd, a, in, o.Queries, o.Concurrency)
	}
	in.Question = question
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if o.JSON {
		ans, err := a.AskWith(cmd.Context(), in, nil)
		if err != nil {
			return err
		}
		if err := newJSONEncoder(stdout).Encode(ans); err != nil {
			return err
		}
		return answerStatus(ans)
	}
	view := &answerView{out: stdout, errw: stderr}
	ans, err := a.AskWith(cmd.Context(), in, view.event)
	view.endText()
	if err != nil {
		return err
	}
	view.finish(ans)
	fmt.Fprintf(stderr, "answer %s; rate it with: kura feedback %s 1 (or 0)\n", ans.ID, ans.ID)
	return answerStatus(ans)
}

// answerStatus is the exit status of an answer that was shown: a failure
// when the model could not be reached and nothing answered in its place,
// or when the stream was cut (the text so far was shown).
func answerStatus(ans api.Answer) error {
	for _, n := range ans.Notices {
		switch n.Code {
		case api.NoticeStreamCut:
			return errors.New(n.Message + "; the text above is incomplete")
		case api.NoticeLLMUnavailable:
			if strings.TrimSpace(ans.Answer) == "" {
				return errReported
			}
		}
	}
	return nil
}

// answerView shows a streamed answer on a terminal: the text as it
// arrives on stdout, notices on stderr as they come, then the numbered
// sources. An extracted answer is labelled so, outside its text.
type answerView struct {
	out, errw io.Writer
	// rewritten, when set, shows the standalone question a follow-up was
	// rewritten into (kura chat).
	showRewritten bool

	wrote    bool // answer text was written and not yet ended by a newline
	labelled bool
	sources  []api.Source
}

const extractedLabel = "(extracted from the sources, not generated)"

func (v *answerView) event(ev api.Event) error {
	switch e := ev.(type) {
	case api.Meta:
		if v.showRewritten && e.RewrittenQuestion != "" {
			fmt.Fprintf(v.errw, "(searching for: %s)\n", e.RewrittenQuestion)
		}
		if e.Extractive {
			fmt.Fprintln(v.out, extractedLabel)
			v.labelled = true
		}
	case api.SourcesEvent:
		v.sources = e.Sources
	case api.Delta:
		// Model (and document) text is untrusted: no escape sequences
		// reach the terminal.
		if _, err := io.WriteString(v.out, terminalText(e.Text)); err != nil {
			return err
		}
		if e.Text != "" {
			v.wrote = !strings.HasSuffix(e.Text, "\n")
		}
	case api.Notice:
		if e.Code == api.NoticeNotFound {
			return nil // the answer says so itself
		}
		v.endText()
		fmt.Fprintf(v.errw, "kura: note: %s\n", e.Message)
		if e.Code == api.NoticeFallback && !v.labelled {
			// The fallback's extracted text follows: label it first.
			fmt.Fprintln(v.out, extractedLabel)
			v.labelled = true
		}
	}
	return nil
}

// endText ends the answer's last line, if it has no newline yet.
func (v *answerView) endText() {
	if v.wrote {
		fmt.Fprintln(v.out)
		v.wrote = false
	}
}

// finish prints what follows the text: the label of an extracted answer
// that came as a fallback, and the sources.
func (v *answerView) finish(ans api.Answer) {
	v.endText()
	if ans.Extractive && !v.labelled && !ans.NotFound {
		fmt.Fprintln(v.out, extractedLabel)
	}
	if len(ans.Sources) > 0 {
		v.sources = ans.Sources
	}
	printSources(v.out, v.sources, ans.Citations)
}

// printSources lists the sources given to the answerer, numbered as the
// answer cites them, cited ones marked.
func printSources(w io.Writer, sources []api.Source, citations []api.Citation) {
	if len(sources) == 0 {
		return
	}
	cited := map[int]bool{}
	for _, c := range citations {
		cited[c.N] = true
	}
	fmt.Fprintln(w, "\nSources:")
	for _, s := range sources {
		mark := " "
		if cited[s.N] {
			mark = "*"
		}
		fmt.Fprintf(w, "%s[%d] %s\n", mark, s.N, sourceLine(s.Hit))
	}
}

// sourceLine names a source: its file or URL, title and chunk (or its id,
// for a collection that records no source).
func sourceLine(h api.Hit) string {
	src, _ := h.Entity["source"].(string)
	title, _ := h.Entity["title"].(string)
	var b strings.Builder
	if src != "" {
		b.WriteString(oneLine(src))
	} else {
		fmt.Fprintf(&b, "id %d", h.ID)
	}
	if title != "" && title != src {
		b.WriteString(" — " + oneLine(title))
	}
	if ci, ok := h.Entity["chunk_index"]; ok {
		fmt.Fprintf(&b, " (chunk %v)", ci)
	}
	return b.String()
}

// oneLine keeps untrusted document text on one line of the terminal, with
// control characters (escape sequences) dropped.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return -1
		}
		return r
	}, s)
}

// askBatch answers every question of a JSONL file, concurrency at a time,
// printing one JSON answer per line in file order. Bad lines are reported
// and skipped; a question that gets no answer is reported and the rest go
// on (exit 3), unless the failure would fail every question (a rejected
// key, an invalid option), which stops the run.
func askBatch(cmd *cobra.Command, a *app.App, in app.AskInput, file string, concurrency int) error {
	stderr := cmd.ErrOrStderr()
	var queries []api.BatchQuery
	skipped, err := readQueryLines(file, stderr, func(q api.BatchQuery) error {
		queries = append(queries, q)
		return nil
	})
	if err != nil {
		return err
	}
	if len(queries) == 0 {
		return &usageError{fmt.Errorf("--queries %s has no usable questions", file)}
	}
	enc := newJSONEncoder(cmd.OutOrStdout())

	// Answers are printed in file order as soon as all before them are.
	var mu sync.Mutex
	results := make([]*api.Answer, len(queries))
	finished := make([]bool, len(queries))
	printed, unanswered := 0, 0
	var writeErr error
	err = a.AskBatch(cmd.Context(), app.AskBatchRequest{Questions: queries, Ask: in, Concurrency: concurrency,
		OnAnswer: func(i int, ans api.Answer, err error) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				unanswered++
				fmt.Fprintf(stderr, "%s: question %s got no answer: %s\n", file, queries[i].ID, errorText(err))
			case answerStatus(ans) != nil:
				unanswered++
			}
			if err == nil {
				results[i] = &ans
			}
			finished[i] = true
			for printed < len(queries) && finished[printed] {
				if r := results[printed]; r != nil && writeErr == nil {
					writeErr = enc.Encode(r)
				}
				results[printed] = nil
				printed++
			}
		}})
	if err != nil {
		return err
	}
	if writeErr != nil {
		return writeErr
	}
	switch {
	case skipped > 0 && unanswered > 0:
		return &partialError{fmt.Sprintf("%s skipped, %s unanswered", plural(skipped, "query line"), plural(unanswered, "question"))}
	case skipped > 0:
		return &partialError{fmt.Sprintf("%s skipped", plural(skipped, "query line"))}
	case unanswered > 0:
		return &partialError{fmt.Sprintf("%s unanswered", plural(unanswered, "question"))}
	}
	return nil
}

package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/langfuse/langfusetest"
	"github.com/kura-rag/kura/internal/llm/llmtest"
)

// askCorpus ingests the test corpus and returns the data directory.
func askCorpus(t *testing.T) string {
	t.Helper()
	dir := corpus(t)
	data := filepath.Join(dir, "data")
	mustKura(t, "ingest", "--data", data, filepath.Join(dir, "docs"))
	return data
}

func askJSON(t *testing.T, wantCode int, args ...string) (api.Answer, string) {
	t.Helper()
	out, errs, code := kura(t, append([]string{"ask", "--json"}, args...)...)
	if code != wantCode {
		t.Fatalf("ask %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, errs)
	}
	var a api.Answer
	if out != "" {
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatalf("ask --json is not one JSON object: %v\n%s", err, out)
		}
	}
	return a, errs
}

// TestAskExtractive: the offline default answers from the sources, cites
// them, says so outside the text, and records the answer for feedback.
func TestAskExtractive(t *testing.T) {
	data := askCorpus(t)
	out, errs, code := kura(t, "ask", "--data", data, "Argo CDは何を同期しますか")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{extractedLabel, "Argo CD", "[1]", "\nSources:\n", "gitops.md", "(chunk "} {
		if !strings.Contains(out, want) {
			t.Errorf("ask output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, "kura feedback ans_") {
		t.Errorf("stderr does not say how to rate the answer: %q", errs)
	}

	a, _ := askJSON(t, 0, "--data", data, "Argo CDは何を同期しますか")
	if !strings.HasPrefix(a.ID, "ans_") || a.LLM != "extractive" || !a.Extractive || a.NotFound {
		t.Fatalf("answer %+v", a)
	}
	if a.Answer == "" || strings.Contains(a.Answer, "extracted") || strings.Contains(a.Answer, "Sources") {
		t.Errorf("answer field holds more than the answer: %q", a.Answer)
	}
	if len(a.Citations) == 0 || len(a.Sources) == 0 || a.Citations[0].Source == "" || a.Sources[0].Entity["source"] == nil {
		t.Errorf("citations %+v sources %+v", a.Citations, a.Sources)
	}
	// The documented keys of ask --json are all there.
	raw := mustKura(t, "ask", "--json", "--data", data, "Conftestとは")
	keys := strings.Join(jsonKeys(t, raw), ",")
	for _, k := range []string{"id", "answer", "citations", "sources", "llm", "usage", "timings"} {
		if !strings.Contains(","+keys+",", ","+k+",") {
			t.Errorf("ask --json lacks %q: %s", k, keys)
		}
	}

	// The same retrieval flags as search: a filter nothing matches finds
	// nothing, and the answer says so without asking a model.
	a, _ = askJSON(t, 0, "--data", data, "--filter", `source like "%.none"`, "Argo CD")
	if !a.NotFound || len(a.Sources) != 0 || a.Answer == "" {
		t.Errorf("not found: %+v", a)
	}

	// Usage errors name the flag.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ask", "--data", data}, "give a QUESTION"},
		{[]string{"ask", "--data", data, " "}, "the QUESTION is empty"},
		{[]string{"ask", "--data", data, "--temperature", "0.5", "q"}, "--temperature"},
		{[]string{"ask", "--data", data, "--top-p", "3", "q"}, "--top-p"},
		{[]string{"ask", "--data", data, "--llm", "gpt", "q"}, "unknown --llm"},
		{[]string{"ask", "--data", data, "--fallback", "maybe", "q"}, "--fallback"},
		{[]string{"ask", "--data", data, "--prompt", filepath.Join(t.TempDir(), "none.j2"), "q"}, "--prompt"},
		{[]string{"ask", "--data", data, "--search-type", "fuzzy", "q"}, "unknown search type"},
	} {
		_, errs, code := kura(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with %q", c.args[1:], code, errs, c.want)
		}
	}
	_, errs, code = kura(t, "ask", "--data", data, "--collection", "nosuch", "q")
	if code != exitFailure || !strings.Contains(errs, "does not exist") || !strings.Contains(errs, "kura ingest") {
		t.Errorf("missing collection: exit %d, %q", code, errs)
	}
}

// openAIFake starts an OpenAI-compatible fake and points kura at it.
func openAIFake(t *testing.T, o llmtest.Options) *llmtest.Server {
	t.Helper()
	srv := llmtest.NewOpenAI(o)
	t.Cleanup(srv.Close)
	t.Setenv("OPENAI_BASE_URL", srv.URL+"/v1")
	t.Setenv("OPENAI_API_KEY", o.Key)
	return srv
}

const openAIKey = "sk-cli-test-SECRET-7788"

// TestAskOpenAI: the retrieved chunks and the options set reach the
// model; options not set are the seed app's; the answer streams.
func TestAskOpenAI(t *testing.T) {
	data := askCorpus(t)
	srv := openAIFake(t, llmtest.Options{Key: openAIKey, Reply: "Argo CDはマニフェストとクラスタを同期します[1]。存在しない出典[7]。"})
	out, errs, code := kura(t, "ask", "--data", data, "--llm", "openai", "--llm-model", "test-model", "-k", "2",
		"--temperature", "0.1", "--seed", "42", "--stop", "END", "Argo CDは何を同期しますか")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if srv.Calls() != 1 {
		t.Fatalf("%d calls to the model", srv.Calls())
	}
	body := srv.Last().Body
	if body["model"] != "test-model" || body["temperature"] != 0.1 || body["seed"] != float64(42) || body["max_tokens"] != float64(500) || body["top_p"] != 0.75 {
		t.Errorf("options sent: %v", body)
	}
	if stop, _ := body["stop"].([]any); len(stop) != 1 || stop[0] != "END" {
		t.Errorf("stop sent: %v", body["stop"])
	}
	prompt := string(srv.Last().Raw)
	if !strings.Contains(prompt, "Argo CDはリポジトリのマニフェストとクラスタの実際の状態を比較し") {
		t.Errorf("the retrieved chunk did not reach the model:\n%s", prompt)
	}
	if strings.Contains(out, extractedLabel) {
		t.Error("a generated answer is labelled extracted")
	}
	if !strings.Contains(out, "Argo CDはマニフェストとクラスタを同期します[1]") || strings.Contains(out, "[7]") {
		t.Errorf("answer shown:\n%s", out)
	}
	if !strings.Contains(errs, "not among the 2 sources") {
		t.Errorf("removed citation not noted: %q", errs)
	}
	if strings.Contains(out+errs, openAIKey) {
		t.Error("the key is shown")
	}

	// --json: one object; the model and usage come back.
	a, _ := askJSON(t, 0, "--data", data, "--llm", "openai", "--llm-model", "test-model", "Argo CD")
	if a.LLM != "openai" || a.Model == "" || a.Usage.OutputTokens == 0 || a.RemovedCitations != 1 || a.Extractive {
		t.Errorf("answer %+v", a)
	}

	// An option the provider does not have is refused before any call.
	calls := srv.Calls()
	_, errs, code = kura(t, "ask", "--data", data, "--llm", "openai", "--llm-model", "m", "--top-k", "5", "q")
	if code != exitUsage || !strings.Contains(errs, "--top-k") || srv.Calls() != calls {
		t.Errorf("top_k on openai: exit %d, %d calls, %q", code, srv.Calls()-calls, errs)
	}
}

// TestAskFailures: a rejected key fails fast with no secret shown; an
// unreachable model still shows the sources (and, with --fallback
// extractive, an extracted answer); a stream cut mid-answer ends with an
// error after the text.
func TestAskFailures(t *testing.T) {
	data := askCorpus(t)

	srv := openAIFake(t, llmtest.Options{Key: "sk-the-right-one", EchoKey: true})
	t.Setenv("OPENAI_API_KEY", openAIKey)
	start := time.Now()
	out, errs, code := kura(t, "ask", "--data", data, "--llm", "openai", "--llm-model", "m", "Argo CD")
	if code != exitFailure || time.Since(start) > 5*time.Second || srv.Calls() != 1 {
		t.Fatalf("401: exit %d after %v and %d calls\n%s", code, time.Since(start), srv.Calls(), errs)
	}
	if strings.Contains(out+errs, openAIKey) || !strings.Contains(errs, "401") {
		t.Errorf("401 message: %q", errs)
	}

	// Nothing listens: the sources and a notice, exit 1.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/v1"
	ln.Close()
	t.Setenv("OPENAI_BASE_URL", dead)
	out, errs, code = kura(t, "ask", "--data", data, "--llm", "openai", "--llm-model", "m", "--llm-retries", "1", "Argo CD")
	if code != exitFailure || !strings.Contains(out, "Sources:") || !strings.Contains(errs, "could not be reached") {
		t.Errorf("unreachable: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	out, errs, code = kura(t, "ask", "--data", data, "--llm", "openai", "--llm-model", "m", "--llm-retries", "1", "--fallback", "extractive", "Argo CDは何を同期しますか")
	if code != 0 || !strings.Contains(out, extractedLabel) || !strings.Contains(out, "Argo CD") || !strings.Contains(out, "Sources:") ||
		strings.Index(out, extractedLabel) > strings.Index(out, "[1]") {
		t.Errorf("fallback: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}

	// A stream cut after some text: the text stands, then an error.
	cut := openAIFake(t, llmtest.Options{Key: openAIKey, CutAfter: 3})
	out, errs, code = kura(t, "ask", "--data", data, "--llm", "openai", "--llm-model", "m", "--llm-retries", "1", "Argo CD")
	if code != exitFailure || !strings.Contains(out, "GitOps") || !strings.Contains(errs, "cut") || cut.Calls() != 1 {
		t.Errorf("cut stream: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
}

// TestAskInterrupt: Ctrl-C while the model is thinking cancels the
// upstream request and exits 130.
func TestAskInterrupt(t *testing.T) {
	data := askCorpus(t)
	arrived, cancelled := make(chan struct{}, 1), make(chan struct{})
	srv := openAIFake(t, llmtest.Options{Key: openAIKey, Latency: 30 * time.Second})
	srv.Hook = func(call int, w http.ResponseWriter, r *http.Request) bool {
		arrived <- struct{}{}
		<-r.Context().Done() // the client's cancellation ends the request
		close(cancelled)
		return true
	}
	go func() {
		select {
		case <-arrived:
			syscall.Kill(syscall.Getpid(), syscall.SIGINT)
		case <-time.After(20 * time.Second):
		}
	}()
	start := time.Now()
	_, errs, code := kura(t, "ask", "--data", data, "--llm", "openai", "--llm-model", "m", "Argo CD")
	if code != exitCanceled || time.Since(start) > 10*time.Second {
		t.Fatalf("exit %d after %v: %s", code, time.Since(start), errs)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the request to the model was not cancelled")
	}
}

// TestAskBatch: one answer per line, in file order, with query_id; bad
// lines are reported and make the exit status 3.
func TestAskBatch(t *testing.T) {
	data := askCorpus(t)
	q := filepath.Join(t.TempDir(), "q.jsonl")
	writeFile(t, q, []byte(`{"id": "a", "query": "Argo CDは何を同期しますか"}
not json
{"id": 7, "query": "Conftestとは"}
{"query": "Tekton pipelines"}
{"id": "e", "query": ""}
`))
	out, errs, code := kura(t, "ask", "--data", data, "--queries", q, "--json", "--concurrency", "3")
	if code != exitPartial || !strings.Contains(errs, "q.jsonl:2") || !strings.Contains(errs, "q.jsonl:5") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	for i, want := range []string{`"a"`, `7`, `"4"`} {
		var a api.Answer
		if err := json.Unmarshal([]byte(lines[i]), &a); err != nil {
			t.Fatal(err)
		}
		if string(a.QueryID) != want || a.Answer == "" || !strings.HasPrefix(a.ID, "ans_") {
			t.Errorf("line %d: query_id %s, answer %q", i+1, a.QueryID, a.Answer)
		}
	}
}

// TestChat: piped questions, a follow-up rewritten with the earlier
// turn's terms and retrieved with it, the conversation kept in the
// history (kura traces sees it), and the slash commands.
func TestChat(t *testing.T) {
	data := askCorpus(t)
	var out, errb bytes.Buffer
	in := strings.NewReader("Argo CDとは何ですか\nそれはいつ同期しますか\n/history\n/sources\n/reset\n/nosuch\n")
	code := runIO([]string{"chat", "--data", data, "--json"}, in, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	dec := json.NewDecoder(strings.NewReader(out.String()))
	var first, second api.Answer
	if err := dec.Decode(&first); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&second); err != nil {
		t.Fatal(err)
	}
	if first.ConversationID == "" || second.ConversationID != first.ConversationID {
		t.Fatalf("conversations %q and %q", first.ConversationID, second.ConversationID)
	}
	if !strings.Contains(second.RewrittenQuestion, "Argo CD") {
		t.Errorf("the follow-up was not rewritten with the earlier terms: %q", second.RewrittenQuestion)
	}
	if len(second.Sources) == 0 || !strings.Contains(second.Sources[0].Entity["text"].(string), "Argo CD") {
		t.Errorf("the follow-up did not retrieve with the rewritten question: %+v", second.Sources)
	}
	rest := out.String()
	for _, want := range []string{"2. Q: それはいつ同期しますか", "(searched for: ", "[1] ", "(a new conversation)", "unknown command /nosuch"} {
		if !strings.Contains(rest, want) {
			t.Errorf("chat output lacks %q:\n%s", want, rest)
		}
	}
	var list api.TraceList
	if err := json.Unmarshal([]byte(mustKura(t, "traces", "--data", data, "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Traces) != 2 || list.Traces[0].ConversationID != first.ConversationID {
		t.Errorf("traces: %+v", list.Traces)
	}

	// Without --json the follow-up's rewritten question is shown, and a
	// conversation can be continued by id.
	out.Reset()
	errb.Reset()
	code = runIO([]string{"chat", "--data", data, "--conversation-id", first.ConversationID}, strings.NewReader("それは何を比較しますか\n"), &out, &errb)
	if code != 0 || !strings.Contains(errb.String(), "(searching for: ") || !strings.Contains(out.String(), "Sources:") {
		t.Errorf("continued chat: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	_, errs, code := kura(t, "chat", "--data", data, "--conversation-id", "conv_nosuch")
	if code != exitFailure || !strings.Contains(errs, "conv_nosuch") {
		t.Errorf("unknown conversation: exit %d, %q", code, errs)
	}
}

// TestChatFollowUpWithModel: with a language model, the follow-up is
// rewritten by the model, and retrieval uses the rewritten question.
func TestChatFollowUpWithModel(t *testing.T) {
	data := askCorpus(t)
	srv := openAIFake(t, llmtest.Options{Key: openAIKey, Reply: "Conftestのポリシー検査はいつ行われますか"})
	var out, errb bytes.Buffer
	code := runIO([]string{"chat", "--data", data, "--json", "--llm", "openai", "--llm-model", "m"},
		strings.NewReader("Conftestとは何ですか\nそれはいつ使いますか\n"), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	dec := json.NewDecoder(&out)
	var first, second api.Answer
	dec.Decode(&first)
	dec.Decode(&second)
	if second.RewrittenQuestion != "Conftestのポリシー検査はいつ行われますか" {
		t.Fatalf("rewritten %q", second.RewrittenQuestion)
	}
	// Three calls: the first answer, the rewrite, the second answer,
	// whose prompt holds the Conftest chunk retrieved for the rewrite.
	reqs := srv.Requests()
	if len(reqs) != 3 || !strings.Contains(string(reqs[2].Raw), "Conftestはポリシーをコードとして書き") {
		t.Errorf("%d calls; last prompt:\n%s", len(reqs), reqs[len(reqs)-1].Raw)
	}
}

// TestFeedbackAndTraces: a rating is stored, shown by traces, refused
// when it is not a rating, and an unknown answer says what to do.
func TestFeedbackAndTraces(t *testing.T) {
	data := askCorpus(t)
	a, _ := askJSON(t, 0, "--data", data, "Argo CDとは")
	out := mustKura(t, "feedback", "--data", data, a.ID, "0.25", "--comment", "古い情報")
	if !strings.Contains(out, "0.25 (faces)") {
		t.Errorf("feedback: %q", out)
	}
	var shown api.Answer
	if err := json.Unmarshal([]byte(mustKura(t, "traces", "show", "--data", data, "--json", a.ID)), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Feedback == nil || shown.Feedback.Value != 0.25 || shown.Feedback.Comment != "古い情報" || shown.Answer != a.Answer {
		t.Errorf("trace: %+v", shown)
	}
	text := mustKura(t, "traces", "show", "--data", data, a.ID)
	for _, want := range []string{a.ID, "Argo CDとは", "0.25 faces", "Sources:"} {
		if !strings.Contains(text, want) {
			t.Errorf("traces show lacks %q:\n%s", want, text)
		}
	}
	list := mustKura(t, "traces", "--data", data)
	if !strings.Contains(list, a.ID) || !strings.Contains(list, "0.25 faces") {
		t.Errorf("traces:\n%s", list)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"feedback", "--data", data, a.ID, "5"}, exitUsage, "not a faces rating"},
		{[]string{"feedback", "--data", data, a.ID, "0.5", "--kind", "thumbs"}, exitUsage, "not a thumbs rating"},
		{[]string{"feedback", "--data", data, a.ID, "great"}, exitUsage, "not a rating"},
		{[]string{"feedback", "--data", data, "ans_nosuch", "1"}, exitFailure, "kura traces"},
		{[]string{"traces", "show", "--data", data, "ans_nosuch"}, exitFailure, "kura traces"},
	} {
		_, errs, code := kura(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want %d with %q", c.args, code, errs, c.code, c.want)
		}
	}
}

// TestEvalAnswers: kura eval --answers on a corpus made here.
func TestEvalAnswers(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	corpusFile := filepath.Join(dir, "corpus.jsonl")
	writeFile(t, corpusFile, []byte(strings.Join([]string{
		`{"id": "d1", "title": "Argo CD", "text": "Argo CDはGitリポジトリのマニフェストをKubernetesクラスタに同期するGitOpsツールです。開発はIntuitで始まりました。"}`,
		`{"id": "d2", "title": "Conftest", "text": "ConftestはRegoで書いたポリシーでマニフェストを検査します。CIで使われます。"}`,
	}, "\n")))
	queries := filepath.Join(dir, "q.jsonl")
	writeFile(t, queries, []byte(strings.Join([]string{
		`{"id": "q1", "query": "Argo CDの開発はどこで始まった？", "answers": ["Intuit"]}`,
		`{"id": "q2", "query": "Conftestのポリシーは何で書く？", "answers": ["Rego"]}`,
		`{"id": "q3", "query": "zzzqqq", "answers": ["none"]}`,
		`broken`,
	}, "\n")))
	mustKura(t, "ingest", "--data", data, corpusFile)
	out, errs, code := kura(t, "eval", "--answers", "--json", "--data", data, "--queries", queries)
	if code != exitPartial || !strings.Contains(errs, "q.jsonl:4") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var r answerEval
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	m := r.Metrics
	if m.Questions != 3 || m.ContainsAnswer < 0.66 || m.NotFoundRate < 0.33 || m.MaxChars == 0 || m.CitationValidity != 1 || r.LLM != "extractive" {
		t.Errorf("metrics %+v", r)
	}
	text, _, code := kura(t, "eval", "--answers", "--data", data, "--queries", queries, "--concurrency", "1")
	for _, want := range []string{"contains an answer", "answer length", "citations", "not found", "first token"} {
		if code != exitPartial || !strings.Contains(text, want) {
			t.Errorf("eval --answers table (exit %d) lacks %q:\n%s", code, want, text)
		}
	}
	_, errs, code = kura(t, "eval", "--answers", "--data", data, "--queries", queries, "--compare", "bm25")
	if code != exitUsage || !strings.Contains(errs, "--compare") {
		t.Errorf("--answers with --compare: exit %d, %q", code, errs)
	}
}

// TestAskPrompts: a Jinja2 prompt file and a system prompt file reach the
// model; a Langfuse prompt is fetched and used, and with Langfuse down the
// built-in prompt answers with a warning.
func TestAskPrompts(t *testing.T) {
	data := askCorpus(t)
	srv := openAIFake(t, llmtest.Options{Key: openAIKey})
	dir := t.TempDir()
	tpl := filepath.Join(dir, "prompt.j2")
	writeFile(t, tpl, []byte("PROMPT-FILE-MARKER\n{{ context }}\n質問: {{ question | trim }}\n"))
	sys := filepath.Join(dir, "system.txt")
	writeFile(t, sys, []byte("SYSTEM-FILE-MARKER: answer briefly.\n"))
	mustKura(t, "ask", "--data", data, "--llm", "openai", "--llm-model", "m", "--prompt", tpl, "--system-prompt", "@"+sys, "Argo CDとは")
	raw := string(srv.Last().Raw)
	if !strings.Contains(raw, "PROMPT-FILE-MARKER") || !strings.Contains(raw, "質問: Argo CDとは") || !strings.Contains(raw, "SYSTEM-FILE-MARKER") {
		t.Fatalf("the prompt files did not reach the model:\n%s", raw)
	}
	writeFile(t, tpl, []byte("{{ questoin }}"))
	_, errs, code := kura(t, "ask", "--data", data, "--prompt", tpl, "q")
	if code != exitUsage || !strings.Contains(errs, "questoin") {
		t.Errorf("misspelt variable: exit %d, %q", code, errs)
	}

	lf := langfuseFake(t)
	lf.AddPrompt(langfusetest.Prompt{Name: "qa", Version: 3, Labels: []string{"production"}, Text: "LANGFUSE-PROMPT {{ context }} Q: {{ question }}"})
	mustKura(t, "ask", "--data", data, "--llm", "openai", "--llm-model", "m", "--prompt", "langfuse:qa", "Argo CDとは")
	if raw := string(srv.Last().Raw); !strings.Contains(raw, "LANGFUSE-PROMPT") {
		t.Fatalf("the Langfuse prompt did not reach the model:\n%s", raw)
	}
	// Langfuse down and no copy kept for this name: the built-in prompt.
	t.Setenv("LANGFUSE_HOST", langfusetest.RefusedURL(t))
	out, errs, code := kura(t, "ask", "--data", data, "--llm", "openai", "--llm-model", "m", "--prompt", "langfuse:other", "Argo CDとは")
	if code != 0 || !strings.Contains(errs, "warning") || !strings.Contains(errs, "built-in prompt") || out == "" {
		t.Errorf("Langfuse down: exit %d, %q", code, errs)
	}
}

package answer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/answer/lang"
	"github.com/kura-rag/kura/internal/llm"
)

// Rewrite turns a follow-up question into a standalone one for retrieval:
// "それはいつから？" after a question about GitOps becomes a question about
// GitOps. With a language model it asks the model, with a short prompt;
// with the extractive answerer (or when the model fails, which the
// returned notice says) it carries the previous turn's key terms into a
// question that refers back or has none of its own. Without history, or
// with rewriting turned off, the question is returned unchanged.
func (s *Stage) Rewrite(ctx context.Context, question string, history []Turn) (string, bool, *Notice) {
	if len(history) == 0 || s.o.NoRewrite {
		return question, false, nil
	}
	if s.o.LLM.Info().Extractive {
		q := CarryTerms(question, history)
		return q, q != question, nil
	}
	q, err := s.rewriteLLM(ctx, question, history)
	if err != nil {
		q := CarryTerms(question, history)
		return q, q != question, &Notice{Code: NoticeRewriteFailed, Message: fmt.Sprintf("the follow-up question could not be rewritten by the language model (%v); the previous question's terms were added instead", err)}
	}
	return q, q != question, nil
}

// maxCarriedTerms bounds the terms carried from the previous turn.
const maxCarriedTerms = 6

// CarryTerms rewrites a follow-up without a language model: when the
// question refers back (それ, この, it, that, ...) or has no key terms of
// its own, the key terms of the previous turn's standalone question that
// it lacks are put in front of it. Other questions are left unchanged: a
// new topic must not drag the old one along.
func CarryTerms(question string, history []Turn) string {
	if len(history) == 0 {
		return question
	}
	own := lang.KeyTerms(question)
	if len(own) > 0 && !lang.HasDemonstrative(question) {
		return question
	}
	prev := history[len(history)-1]
	from := prev.Standalone
	if from == "" {
		from = prev.Question
	}
	var carried []string
	lower := strings.ToLower(question)
	for _, t := range lang.KeyTerms(from) {
		if !strings.Contains(lower, strings.ToLower(t)) && !slices.Contains(carried, t) {
			carried = append(carried, t)
		}
		if len(carried) == maxCarriedTerms {
			break
		}
	}
	if len(carried) == 0 {
		return question
	}
	return strings.Join(carried, " ") + " " + question
}

var rewriteSystem = map[lang.Language]string{
	lang.English:  "You rewrite the last question of a conversation into a standalone question that can be understood without the conversation: replace words that refer back (it, that, they, ...) with what they refer to. Keep the question's language and meaning. If it is already standalone, return it unchanged. Reply with the question only, on one line.",
	lang.Japanese: "会話の最後の質問を、会話を読まなくても意味が分かる独立した質問に書き換えてください。「それ」「その」などの指示語は、指している内容に置き換えてください。質問の言語と意味は変えないでください。すでに独立した質問なら、そのまま返してください。書き換えた質問だけを一行で答えてください。",
}

// rewriteLLM asks the model for the standalone question.
func (s *Stage) rewriteLLM(ctx context.Context, question string, history []Turn) (string, error) {
	l := pick(lang.Detect(question))
	var b strings.Builder
	turns := history
	if len(turns) > DefaultHistoryTurns {
		turns = turns[len(turns)-DefaultHistoryTurns:]
	}
	user, assistant, follow := "User", "Assistant", "Last question"
	if l == lang.Japanese {
		user, assistant, follow = "ユーザー", "アシスタント", "最後の質問"
	}
	for _, t := range turns {
		fmt.Fprintf(&b, "%s: %s\n%s: %s\n", user, t.Question, assistant, shorten(stripMarkers(t.Answer), 300))
	}
	fmt.Fprintf(&b, "\n%s: %s", follow, question)
	info := s.o.LLM.Info()
	req := llm.Request{
		Model:    s.o.Model,
		System:   rewriteSystem[l],
		Messages: []llm.Message{{Role: llm.RoleUser, Content: b.String()}},
	}
	if slices.Contains(info.Options, llm.OptMaxTokens) {
		n := 200
		req.Options.MaxTokens = &n
	}
	if slices.Contains(info.Options, llm.OptTemperature) {
		t := 0.0
		req.Options.Temperature = &t
	}
	res, err := s.o.LLM.Stream(ctx, req, func(llm.Event) error { return nil })
	if err != nil {
		return "", err
	}
	q := cleanRewrite(res.Text)
	if q == "" {
		return "", fmt.Errorf("the model returned no question")
	}
	if utf8.RuneCountInString(q) > 4*utf8.RuneCountInString(question)+200 {
		return "", fmt.Errorf("the model returned %d characters, not a question", utf8.RuneCountInString(q))
	}
	return q, nil
}

// cleanRewrite takes the question out of a model's reply: its first
// non-empty line, without a label or quotes around it.
func cleanRewrite(reply string) string {
	for _, line := range strings.Split(reply, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		for _, p := range []string{"Standalone question:", "Question:", "Rewritten question:", "独立した質問:", "書き換えた質問:", "質問:", "独立した質問：", "質問："} {
			if len(line) > len(p) && strings.EqualFold(line[:len(p)], p) {
				line = strings.TrimSpace(line[len(p):])
			}
		}
		line = strings.TrimSpace(strings.Trim(line, "\"'「」『』“”`"))
		return line
	}
	return ""
}

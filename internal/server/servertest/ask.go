package servertest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/api"
)

func japanese(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) {
			return true
		}
	}
	return false
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Ask implements server.Backend: the best sentence of each of the top two
// chunks, each cited, streamed in pieces.
func (f *Fake) Ask(ctx context.Context, user string, req api.AskRequest, emit func(api.Event) error) (api.Answer, error) {
	start := time.Now()
	f.mu.Lock()
	f.asks = append(f.asks, req)
	c, err := f.collectionLocked(req.Collection)
	if err != nil {
		f.mu.Unlock()
		return api.Answer{}, err
	}
	var conv *conversation
	if req.ConversationID != "" {
		conv = f.st.Conversations[req.ConversationID]
		if conv == nil || conv.User != user {
			f.mu.Unlock()
			return api.Answer{}, api.Errorf(api.CodeNotFound, "conversation %q does not exist", req.ConversationID)
		}
	}
	// Follow-ups are "rewritten" by prefixing the previous question, the
	// way an extractive rewriter carries the earlier turn's terms.
	question := req.Question
	rewritten := ""
	var prev string
	if conv != nil && len(conv.Answers) > 0 {
		prev = f.st.Answers[conv.Answers[len(conv.Answers)-1]].Answer.Question
	} else if n := len(req.History); n > 0 {
		for i := n - 1; i >= 0; i-- {
			if req.History[i].Role == api.RoleUser {
				prev = req.History[i].Content
				break
			}
		}
	}
	if prev != "" {
		rewritten = prev + " " + question
	}
	hits := f.searchLocked(c, cmp.Or(rewritten, question), req.SearchOptions)
	f.mu.Unlock()

	retrieved := time.Since(start)
	ans := api.Answer{
		ID: newID("ans_"), TraceID: newID("") + newID(""), Collection: c.Name, Question: question,
		RewrittenQuestion: rewritten, LLM: cmp.Or(req.LLM, f.llm()), Model: req.Model,
		Citations: []api.Citation{}, Sources: []api.Source{}, Created: start.UTC(),
	}
	ans.Extractive = ans.LLM == "extractive"
	if conv != nil {
		ans.ConversationID = conv.Summary.ID
	} else if len(req.History) == 0 {
		ans.ConversationID = newID("conv_")
	}
	for i, h := range hits {
		ans.Sources = append(ans.Sources, api.Source{N: i + 1, Hit: h})
	}
	if err := emit(api.Meta{ID: ans.ID, TraceID: ans.TraceID, ConversationID: ans.ConversationID, Collection: ans.Collection,
		Question: question, RewrittenQuestion: rewritten, LLM: ans.LLM, Model: ans.Model, Extractive: ans.Extractive}); err != nil {
		return ans, err
	}
	if err := emit(api.SourcesEvent{Sources: ans.Sources}); err != nil {
		return ans, err
	}

	// The answer: a sentence per source (at most two), each with its marker.
	type part struct {
		text string
		cite *api.Citation
	}
	var parts []part
	if len(hits) == 0 {
		ans.NotFound = true
		msg := "The documents do not contain an answer to this question."
		if japanese(question) {
			msg = "資料の中に、この質問に答える情報は見つかりませんでした。"
		}
		parts = append(parts, part{text: msg})
		ans.Notices = append(ans.Notices, api.Notice{Code: api.NoticeNotFound, Message: msg})
		if err := emit(ans.Notices[0]); err != nil {
			return ans, err
		}
	}
	q := terms(cmp.Or(rewritten, question))
	for i, h := range hits[:min(2, len(hits))] {
		text, _ := h.Entity["text"].(string)
		best := bestSentence(q, text)
		src, _ := h.Entity["source"].(string)
		title, _ := h.Entity["title"].(string)
		ci, _ := h.Entity["chunk_index"].(int)
		cite := &api.Citation{N: i + 1, ID: h.ID, Source: src, Title: title, ChunkIndex: ci, Text: strings.TrimSpace(best)}
		parts = append(parts, part{text: strings.TrimSpace(best) + fmt.Sprintf(" [%d]", i+1), cite: cite})
	}
	var b strings.Builder
	var first time.Duration
	piece := cmp.Or(f.PieceRunes, 6)
	for i, p := range parts {
		text := p.text
		if i > 0 {
			text = "\n\n" + text
		}
		rs := []rune(text)
		for len(rs) > 0 {
			n := min(piece, len(rs))
			chunk := string(rs[:n])
			rs = rs[n:]
			if f.Delay > 0 {
				select {
				case <-ctx.Done():
					return ans, ctx.Err()
				case <-time.After(f.Delay):
				}
			}
			if err := ctx.Err(); err != nil {
				return ans, err
			}
			if first == 0 {
				first = time.Since(start)
			}
			b.WriteString(chunk)
			if err := emit(api.Delta{Text: chunk}); err != nil {
				return ans, err
			}
		}
		if p.cite != nil {
			ans.Citations = append(ans.Citations, *p.cite)
			if err := emit(*p.cite); err != nil {
				return ans, err
			}
		}
	}
	ans.Answer = b.String()
	ans.Usage = api.Usage{InputTokens: utf8.RuneCountInString(question) + 50*len(hits), OutputTokens: utf8.RuneCountInString(ans.Answer)}
	ans.Timings = api.Timings{RetrieveMS: ms(retrieved), FirstTokenMS: ms(first), TotalMS: ms(time.Since(start))}

	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Answers[ans.ID] = &record{User: user, Answer: ans}
	if ans.ConversationID != "" {
		conv = f.st.Conversations[ans.ConversationID]
		if conv == nil {
			title := []rune(strings.Join(strings.Fields(question), " "))
			if len(title) > 40 {
				title = append(title[:40], '…')
			}
			conv = &conversation{User: user, Summary: api.ConversationSummary{ID: ans.ConversationID, Title: string(title), Created: ans.Created}}
			f.st.Conversations[ans.ConversationID] = conv
		}
		conv.Answers = append(conv.Answers, ans.ID)
		conv.Summary.Updated = time.Now().UTC()
		conv.Summary.TurnCount = len(conv.Answers)
		conv.Summary.Collection = ans.Collection
	}
	return ans, f.saveLocked()
}

// bestSentence is the sentence of text sharing most terms with q.
func bestSentence(q map[string]int, text string) string {
	best, bestScore := text, float32(-1)
	for _, s := range sentences(text) {
		if sc := score(q, s); sc > bestScore {
			best, bestScore = s, sc
		}
	}
	return best
}

// Feedback implements server.Backend.
func (f *Fake) Feedback(ctx context.Context, user string, req api.FeedbackRequest) (api.Feedback, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.feedbacks = append(f.feedbacks, req)
	rec := f.st.Answers[req.AnswerID]
	if rec == nil || rec.User != user {
		return api.Feedback{}, api.Errorf(api.CodeNotFound, "answer %q does not exist", req.AnswerID)
	}
	fb := &api.Feedback{ID: newID("fb_"), AnswerID: req.AnswerID, Value: *req.Value, Kind: req.Kind, Comment: req.Comment, Created: time.Now().UTC()}
	if old := f.st.Feedback[req.AnswerID]; old != nil {
		fb.ID = old.ID // a new rating replaces the old one
	}
	f.st.Feedback[req.AnswerID] = fb
	return *fb, f.saveLocked()
}

func (f *Fake) answerLocked(id string) api.Answer {
	a := f.st.Answers[id].Answer
	a.Feedback = f.st.Feedback[id]
	return a
}

// Traces implements server.Backend.
func (f *Fake) Traces(ctx context.Context, user string, limit int) (api.TraceList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []api.Answer
	for id, rec := range f.st.Answers {
		if rec.User == user {
			all = append(all, f.answerLocked(id))
		}
	}
	slices.SortFunc(all, func(a, b api.Answer) int { return b.Created.Compare(a.Created) })
	out := api.TraceList{Traces: []api.TraceSummary{}}
	for _, a := range all[:min(limit, len(all))] {
		out.Traces = append(out.Traces, a.Summarize())
	}
	return out, nil
}

// Trace implements server.Backend.
func (f *Fake) Trace(ctx context.Context, user, answerID string) (api.Answer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := f.st.Answers[answerID]
	if rec == nil || rec.User != user {
		return api.Answer{}, api.Errorf(api.CodeNotFound, "answer %q does not exist", answerID)
	}
	return f.answerLocked(answerID), nil
}

// ListConversations implements server.Backend.
func (f *Fake) ListConversations(ctx context.Context, user string, limit int, before string) (api.ConversationList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []api.ConversationSummary
	for _, c := range f.st.Conversations {
		if c.User == user {
			all = append(all, c.Summary)
		}
	}
	slices.SortFunc(all, func(a, b api.ConversationSummary) int {
		return cmp.Or(b.Updated.Compare(a.Updated), strings.Compare(a.ID, b.ID))
	})
	if before != "" {
		t, err := time.Parse(time.RFC3339Nano, before)
		if err != nil {
			return api.ConversationList{}, api.Invalid("before", "before must be a next_before value")
		}
		all = slices.DeleteFunc(all, func(c api.ConversationSummary) bool { return !c.Updated.Before(t) })
	}
	out := api.ConversationList{Conversations: all[:min(limit, len(all))]}
	if len(all) > limit {
		out.NextBefore = out.Conversations[limit-1].Updated.Format(time.RFC3339Nano)
	}
	return out, nil
}

func (f *Fake) convLocked(user, id string) (*conversation, error) {
	c := f.st.Conversations[id]
	if c == nil || c.User != user {
		return nil, api.Errorf(api.CodeNotFound, "conversation %q does not exist", id)
	}
	return c, nil
}

// GetConversation implements server.Backend.
func (f *Fake) GetConversation(ctx context.Context, user, id string) (api.Conversation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.convLocked(user, id)
	if err != nil {
		return api.Conversation{}, err
	}
	out := api.Conversation{ConversationSummary: c.Summary, Turns: []api.Answer{}}
	for _, id := range c.Answers {
		out.Turns = append(out.Turns, f.answerLocked(id))
	}
	return out, nil
}

// RenameConversation implements server.Backend.
func (f *Fake) RenameConversation(ctx context.Context, user, id, title string) (api.ConversationSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.convLocked(user, id)
	if err != nil {
		return api.ConversationSummary{}, err
	}
	c.Summary.Title = title
	return c.Summary, f.saveLocked()
}

// DeleteConversation implements server.Backend.
func (f *Fake) DeleteConversation(ctx context.Context, user, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.convLocked(user, id); err != nil {
		return err
	}
	delete(f.st.Conversations, id)
	return f.saveLocked()
}

package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/history"
	"github.com/kura-rag/kura/internal/langfuse"
)

// errNoHistory is returned by the history operations of an App opened
// with NoHistory.
var errNoHistory = &api.Error{Code: api.CodeNotFound, Message: "this kura keeps no history of answers and conversations"}

// historyError classifies an error of the history store; field is the
// request field a not-found refers to.
func historyError(err error, field string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, history.ErrNotFound):
		return api.Wrap(api.CodeNotFound, field, err)
	case errors.Is(err, history.ErrInvalid):
		return api.Wrap(api.CodeInvalidRequest, field, err)
	case errors.Is(err, history.ErrBusy):
		return api.Wrap(api.CodeUnavailable, "", err)
	}
	return err
}

// Feedback stores user's rating of one of their answers, replacing an
// earlier one, and (with Langfuse configured) sends it as a score named
// user-feedback on the answer's trace. A failed send stays in the outbox
// and is retried by later calls and by [App.DeliverFeedback]; it never
// fails the rating. With Options.FeedbackSaved set, delivery is left to
// the caller.
func (a *App) Feedback(ctx context.Context, user string, req api.FeedbackRequest) (api.Feedback, error) {
	if err := req.Validate(); err != nil {
		return api.Feedback{}, err
	}
	if a.hist == nil {
		return api.Feedback{}, errNoHistory
	}
	fb, err := a.hist.PutFeedback(ctx, history.Feedback{
		AnswerID: req.AnswerID, User: userOrDefault(user), Value: *req.Value, Kind: string(req.Kind), Comment: req.Comment,
	})
	if err != nil {
		return api.Feedback{}, historyError(err, "answer_id")
	}
	if a.opts.FeedbackSaved != nil {
		a.opts.FeedbackSaved()
	} else if a.opts.Langfuse != nil && fb.TraceID != "" {
		// Deliver now, bounded, so that a dead Langfuse does not hold the
		// user's click; what fails waits in the outbox.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if _, err := a.DeliverFeedback(dctx); err != nil {
			a.notify(fmt.Sprintf("warning: feedback is saved but not yet sent to Langfuse: %v", err))
		}
		cancel()
	}
	return toAPIFeedback(fb), nil
}

// DeliverFeedback sends the feedback waiting in the outbox to Langfuse
// (a no-op without Langfuse). Each score carries a stable id, so a retry
// replaces rather than doubles it.
func (a *App) DeliverFeedback(ctx context.Context) (history.DeliveryReport, error) {
	if a.hist == nil || a.opts.Langfuse == nil {
		return history.DeliveryReport{}, nil
	}
	return a.hist.DeliverFeedback(ctx, 100, func(ctx context.Context, fb history.Feedback) error {
		_, err := a.opts.Langfuse.CreateScore(ctx, langfuse.FeedbackScore(fb.AnswerID, fb.User, fb.TraceID, fb.ObservationID, fb.Value, fb.Comment))
		if errors.Is(err, langfuse.ErrUnavailable) {
			return err
		}
		if err != nil {
			return history.Permanent(err)
		}
		return nil
	})
}

func toAPIFeedback(fb history.Feedback) api.Feedback {
	return api.Feedback{ID: langfuse.FeedbackScoreID(fb.AnswerID, fb.User), AnswerID: fb.AnswerID, Value: fb.Value,
		Kind: api.FeedbackKind(fb.Kind), Comment: fb.Comment, Created: fb.Updated}
}

func userOrDefault(user string) string {
	if user == "" {
		return "default"
	}
	return user
}

// Traces lists user's recent answers, newest first.
func (a *App) Traces(ctx context.Context, user string, limit int) (api.TraceList, error) {
	return a.TracesQuery(ctx, history.AnswerQuery{User: userOrDefault(user), Limit: limit})
}

// TracesQuery lists answer records as q selects them (an operator may list
// every user's).
func (a *App) TracesQuery(ctx context.Context, q history.AnswerQuery) (api.TraceList, error) {
	if a.hist == nil {
		return api.TraceList{Traces: []api.TraceSummary{}}, nil
	}
	recs, err := a.hist.RecentAnswers(ctx, q)
	if err != nil {
		return api.TraceList{}, historyError(err, "")
	}
	out := api.TraceList{Traces: make([]api.TraceSummary, 0, len(recs))}
	for _, r := range recs {
		ans := recordToAnswer(r)
		out.Traces = append(out.Traces, ans.Summarize())
	}
	return out, nil
}

// Trace returns one of user's answers in detail, with its feedback and
// the text of its sources as stored now.
func (a *App) Trace(ctx context.Context, user, answerID string) (api.Answer, error) {
	if a.hist == nil {
		return api.Answer{}, errNoHistory
	}
	rec, err := a.hist.AnswerFor(ctx, userOrDefault(user), answerID)
	if err != nil {
		return api.Answer{}, historyError(err, "answer_id")
	}
	ans := recordToAnswer(rec)
	a.fillSourceTexts(ctx, &ans)
	return ans, nil
}

// TraceAny returns any user's answer (the operator's command line).
func (a *App) TraceAny(ctx context.Context, answerID string) (api.Answer, error) {
	if a.hist == nil {
		return api.Answer{}, errNoHistory
	}
	rec, err := a.hist.Answer(ctx, answerID)
	if err != nil {
		return api.Answer{}, historyError(err, "answer_id")
	}
	ans := recordToAnswer(rec)
	a.fillSourceTexts(ctx, &ans)
	return ans, nil
}

// recordToAnswer rebuilds the wire form of a recorded answer. Source
// texts are not recorded (they are in the collection); see
// fillSourceTexts.
func recordToAnswer(r history.AnswerRecord) api.Answer {
	ans := api.Answer{
		ID: r.ID, TraceID: r.TraceID, ConversationID: r.ConversationID, Collection: r.Collection,
		Question: r.Question, RewrittenQuestion: r.Rewritten, Answer: r.Answer,
		Citations: []api.Citation{}, Sources: []api.Source{},
		LLM: r.LLM, Model: r.Model, Extractive: r.LLM == "extractive", NotFound: r.NotFound,
		Usage:   api.Usage(r.Usage),
		Timings: api.Timings{RewriteMS: r.Timings.RewriteMS, RetrieveMS: r.Timings.RetrieveMS, FirstTokenMS: r.Timings.FirstTokenMS, TotalMS: r.Timings.TotalMS},
		Created: r.Created,
	}
	for _, c := range r.Citations {
		ans.Citations = append(ans.Citations, api.Citation(c))
	}
	for _, s := range r.Sources {
		ent := map[string]any{}
		if s.Source != "" {
			ent["source"] = s.Source
		}
		if s.Title != "" {
			ent["title"] = s.Title
		}
		ent["chunk_index"] = s.ChunkIndex
		ans.Sources = append(ans.Sources, api.Source{N: s.N, Hit: api.Hit{ID: s.ID, Score: float32(s.Score), Entity: ent}})
	}
	if r.Feedback != nil {
		fb := toAPIFeedback(*r.Feedback)
		ans.Feedback = &fb
	}
	if r.Error != "" {
		ans.Notices = append(ans.Notices, api.Notice{Code: "error", Message: r.Error})
	}
	return ans
}

// fillSourceTexts adds the chunks' texts to a recorded answer's sources
// from its collection, when the chunks still exist.
func (a *App) fillSourceTexts(ctx context.Context, ans *api.Answer) {
	if len(ans.Sources) == 0 || ans.Collection == "" {
		return
	}
	c, err := a.collection(ctx, ans.Collection)
	if err != nil {
		return
	}
	ids := make([]int64, len(ans.Sources))
	for i, s := range ans.Sources {
		ids[i] = s.ID
	}
	got, err := c.coll.Get(ctx, ids, []string{"text"})
	if err != nil {
		return
	}
	text := make(map[int64]string, len(got))
	for _, h := range got {
		text[h.ID], _ = h.Entity["text"].(string)
	}
	for i := range ans.Sources {
		if t, ok := text[ans.Sources[i].ID]; ok {
			ans.Sources[i].Entity["text"] = t
		}
	}
}

// ListConversations lists user's conversations, most recently updated
// first; before (a value of NextBefore) pages back.
func (a *App) ListConversations(ctx context.Context, user string, limit int, before string) (api.ConversationList, error) {
	out := api.ConversationList{Conversations: []api.ConversationSummary{}}
	if a.hist == nil {
		return out, nil
	}
	if limit <= 0 {
		limit = 50
	}
	var cut time.Time
	if before != "" {
		t, err := time.Parse(time.RFC3339Nano, before)
		if err != nil {
			return out, api.Invalid("before", "before must be a next_before value of an earlier page")
		}
		cut = t
	}
	all, err := a.hist.Conversations(ctx, userOrDefault(user), 0)
	if err != nil {
		return out, historyError(err, "")
	}
	for _, c := range all {
		if !cut.IsZero() && !c.Updated.Before(cut) {
			continue
		}
		if len(out.Conversations) == limit {
			out.NextBefore = out.Conversations[limit-1].Updated.Format(time.RFC3339Nano)
			break
		}
		out.Conversations = append(out.Conversations, conversationSummary(c))
	}
	return out, nil
}

func conversationSummary(c history.Conversation) api.ConversationSummary {
	return api.ConversationSummary{ID: c.ID, Title: c.Title, Created: c.Created, Updated: c.Updated, TurnCount: c.TurnCount}
}

// GetConversation returns one of user's conversations with its answers.
func (a *App) GetConversation(ctx context.Context, user, id string) (api.Conversation, error) {
	if a.hist == nil {
		return api.Conversation{}, errNoHistory
	}
	user = userOrDefault(user)
	c, err := a.hist.Conversation(ctx, user, id)
	if err != nil {
		return api.Conversation{}, historyError(err, "id")
	}
	out := api.Conversation{ConversationSummary: conversationSummary(c), Turns: []api.Answer{}}
	for _, t := range c.Turns {
		ans := api.Answer{ID: t.AnswerID, ConversationID: c.ID, Question: t.Question, RewrittenQuestion: t.Rewritten,
			Answer: t.Answer, Citations: []api.Citation{}, Sources: []api.Source{}, Created: t.Created}
		if t.AnswerID != "" {
			if rec, err := a.hist.AnswerFor(ctx, user, t.AnswerID); err == nil {
				ans = recordToAnswer(rec)
				a.fillSourceTexts(ctx, &ans)
			}
		}
		if ans.Collection != "" {
			out.Collection = ans.Collection
		}
		out.Turns = append(out.Turns, ans)
	}
	return out, nil
}

// RenameConversation changes the title of one of user's conversations.
func (a *App) RenameConversation(ctx context.Context, user, id, title string) (api.ConversationSummary, error) {
	if a.hist == nil {
		return api.ConversationSummary{}, errNoHistory
	}
	user = userOrDefault(user)
	if err := a.hist.RenameConversation(ctx, user, id, title); err != nil {
		return api.ConversationSummary{}, historyError(err, "id")
	}
	c, err := a.hist.Conversation(ctx, user, id)
	if err != nil {
		return api.ConversationSummary{}, historyError(err, "id")
	}
	return conversationSummary(c), nil
}

// DeleteConversation deletes one of user's conversations.
func (a *App) DeleteConversation(ctx context.Context, user, id string) error {
	if a.hist == nil {
		return errNoHistory
	}
	return historyError(a.hist.DeleteConversation(ctx, userOrDefault(user), id), "id")
}

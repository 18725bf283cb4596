package history_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kura-rag/kura/internal/history"
	"github.com/kura-rag/kura/internal/langfuse"
	"github.com/kura-rag/kura/internal/langfuse/langfusetest"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newStore(t *testing.T, opts history.Options) (*history.Store, *clock) {
	t.Helper()
	clk := &clock{now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	return history.Open(t.TempDir(), opts), clk
}

var ctx = context.Background()

func TestConversationsAreIsolatedPerUser(t *testing.T) {
	s, clk := newStore(t, history.Options{})
	alice, err := s.CreateConversation(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	bobs, _ := s.CreateConversation(ctx, "bob", "bob's chat")

	turn, err := s.AppendTurn(ctx, "alice", alice.ID, history.Turn{Question: "GitOps とは\n何ですか？", Answer: "宣言的な…", AnswerID: "a1"})
	if err != nil || turn.Index != 0 {
		t.Fatalf("AppendTurn: %+v %v", turn, err)
	}
	clk.Add(time.Second)
	if turn, err = s.AppendTurn(ctx, "alice", alice.ID, history.Turn{Question: "それはいつから？", Rewritten: "GitOps はいつから？", Answer: "2017年"}); err != nil || turn.Index != 1 {
		t.Fatalf("second AppendTurn: %+v %v", turn, err)
	}

	got, err := s.Conversation(ctx, "alice", alice.ID)
	if err != nil || got.Title != "GitOps とは 何ですか？" || got.TurnCount != 2 || len(got.Turns) != 2 ||
		got.Turns[1].Rewritten != "GitOps はいつから？" || !got.Updated.After(got.Created) {
		t.Fatalf("alice's conversation: %+v %v", got, err)
	}

	// Bob can neither see nor touch Alice's conversation.
	for name, err := range map[string]error{
		"get":    func() error { _, err := s.Conversation(ctx, "bob", alice.ID); return err }(),
		"append": func() error { _, err := s.AppendTurn(ctx, "bob", alice.ID, history.Turn{Question: "x"}); return err }(),
		"rename": s.RenameConversation(ctx, "bob", alice.ID, "mine now"),
		"delete": s.DeleteConversation(ctx, "bob", alice.ID),
	} {
		if !errors.Is(err, history.ErrNotFound) {
			t.Errorf("bob %s alice's conversation: %v, want ErrNotFound", name, err)
		}
	}
	list, _ := s.Conversations(ctx, "bob", 0)
	if len(list) != 1 || list[0].ID != bobs.ID {
		t.Errorf("bob's list: %+v", list)
	}
	// A user whose name is a prefix of another's sees nothing of it.
	if list, _ := s.Conversations(ctx, "ali", 0); len(list) != 0 {
		t.Errorf("user ali sees %+v", list)
	}

	if err := s.RenameConversation(ctx, "alice", alice.ID, "  GitOps\tの話  "); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Conversations(ctx, "alice", 0); len(list) != 1 || list[0].Title != "GitOps の話" || list[0].Turns != nil || list[0].TurnCount != 2 {
		t.Errorf("alice's list after rename: %+v", list)
	}
	if err := s.RenameConversation(ctx, "alice", alice.ID, " \n "); !errors.Is(err, history.ErrInvalid) {
		t.Errorf("empty title: %v", err)
	}
	if err := s.DeleteConversation(ctx, "alice", alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Conversation(ctx, "alice", alice.ID); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if list, _ := s.Conversations(ctx, "alice", 0); len(list) != 0 {
		t.Errorf("alice's list after delete: %+v", list)
	}
}

func TestConversationListOrderAndLimit(t *testing.T) {
	s, clk := newStore(t, history.Options{})
	var ids []string
	for i := range 4 {
		c, err := s.CreateConversation(ctx, "u", fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
		clk.Add(time.Minute)
	}
	// Touch the oldest: it moves to the top.
	if _, err := s.AppendTurn(ctx, "u", ids[0], history.Turn{Question: "q"}); err != nil {
		t.Fatal(err)
	}
	list, _ := s.Conversations(ctx, "u", 3)
	if len(list) != 3 || list[0].ID != ids[0] || list[1].ID != ids[3] || list[2].ID != ids[2] {
		t.Errorf("order: %v", titles(list))
	}
}

func titles(cs []history.Conversation) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Title)
	}
	return out
}

func answer(id, user string, created time.Time) history.AnswerRecord {
	return history.AnswerRecord{
		ID: id, User: user, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", GenerationSpanID: "00f067aa0ba902b7",
		Question: "q " + id, Answer: "a " + id, Collection: "docs", LLM: "cohere", Model: "command-r-plus-08-2024",
		Sources:   []history.Source{{N: 1, ID: 42, Source: "a.md", Score: 0.8}},
		Citations: []history.Citation{{N: 1, ID: 42, Source: "a.md", Text: "span"}},
		Options:   map[string]any{"k": 3, "temperature": 0.3},
		Usage:     history.Usage{InputTokens: 100, OutputTokens: 20},
		Timings:   history.Timings{RetrieveMS: 3.5, FirstTokenMS: 250, TotalMS: 900},
		Created:   created,
	}
}

func TestAnswerRecords(t *testing.T) {
	s, clk := newStore(t, history.Options{})
	t0 := clk.Now()
	for i, u := range []string{"alice", "bob", "alice", "alice"} {
		if err := s.PutAnswer(ctx, answer(fmt.Sprintf("a%d", i), u, t0.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := s.AnswerFor(ctx, "alice", "a0")
	if err != nil || rec.Question != "q a0" || rec.Sources[0].ID != 42 || rec.Options["k"] != 3.0 || rec.Timings.FirstTokenMS != 250 {
		t.Fatalf("AnswerFor: %+v %v", rec, err)
	}
	if _, err := s.AnswerFor(ctx, "bob", "a0"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("bob reads alice's answer: %v", err)
	}
	if rec, err := s.Answer(ctx, "a1"); err != nil || rec.User != "bob" {
		t.Errorf("operator Answer: %+v %v", rec, err)
	}
	mine, _ := s.RecentAnswers(ctx, history.AnswerQuery{User: "alice"})
	if ids := answerIDs(mine); ids != "a3 a2 a0" {
		t.Errorf("alice's recent answers: %s", ids)
	}
	all, _ := s.RecentAnswers(ctx, history.AnswerQuery{AllUsers: true, Limit: 2})
	if ids := answerIDs(all); ids != "a3 a2" {
		t.Errorf("all, limit 2: %s", ids)
	}
	page2, _ := s.RecentAnswers(ctx, history.AnswerQuery{AllUsers: true, Before: all[1].Created})
	if ids := answerIDs(page2); ids != "a1 a0" {
		t.Errorf("page 2: %s", ids)
	}
	if _, err := s.RecentAnswers(ctx, history.AnswerQuery{}); !errors.Is(err, history.ErrInvalid) {
		t.Errorf("no user and not AllUsers: %v", err)
	}
	// Replacing a record keeps one; another user cannot take its id.
	upd := answer("a0", "alice", t0)
	upd.Answer = "edited"
	if err := s.PutAnswer(ctx, upd); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.RecentAnswers(ctx, history.AnswerQuery{AllUsers: true, Limit: 100}); len(all) != 4 {
		t.Errorf("%d records after replacing one, want 4", len(all))
	}
	if err := s.PutAnswer(ctx, answer("a0", "bob", t0)); !errors.Is(err, history.ErrInvalid) {
		t.Errorf("bob overwrites alice's record: %v", err)
	}
	for _, bad := range []history.AnswerRecord{{User: "u"}, {ID: "a/b", User: "u"}, {ID: "x"}, {ID: "x", User: "a\x00b"}} {
		if err := s.PutAnswer(ctx, bad); !errors.Is(err, history.ErrInvalid) {
			t.Errorf("PutAnswer(%+v) = %v", bad, err)
		}
	}
	huge := answer("big", "u", t0)
	huge.Answer = strings.Repeat("x", history.MaxRecordBytes)
	if err := s.PutAnswer(ctx, huge); !errors.Is(err, history.ErrInvalid) || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("huge record: %v", err)
	}
}

func answerIDs(recs []history.AnswerRecord) string {
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	return strings.Join(ids, " ")
}

func TestValidateFeedback(t *testing.T) {
	f := func(kind string, v float64, wantKind string, ok bool) {
		t.Helper()
		got, err := history.ValidateFeedback(kind, v)
		if ok != (err == nil) || (ok && got != wantKind) {
			t.Fatalf("ValidateFeedback(%q, %v) = %q, %v", kind, v, got, err)
		}
		if err != nil && !errors.Is(err, history.ErrInvalid) {
			t.Fatalf("error not ErrInvalid: %v", err)
		}
	}
	f("thumbs", 1, "thumbs", true)
	f("thumbs", 0, "thumbs", true)
	f("thumbs", 0.5, "", false)
	f("faces", 0.75, "faces", true)
	f("faces", 0.25, "faces", true)
	f("faces", 0.3, "", false)
	f("", 0.5, "faces", true)
	f("", 1, "", true)
	f("", 2, "", false)
	f("", -1, "", false)
	f("", math.NaN(), "", false)
	f("", math.Inf(1), "", false)
	f("stars", 1, "", false)
}

func TestFeedbackOutbox(t *testing.T) {
	s, clk := newStore(t, history.Options{})
	if err := s.PutAnswer(ctx, answer("a1", "alice", time.Time{})); err != nil {
		t.Fatal(err)
	}
	untraced := answer("a2", "alice", time.Time{})
	untraced.TraceID, untraced.GenerationSpanID = "", ""
	if err := s.PutAnswer(ctx, untraced); err != nil {
		t.Fatal(err)
	}

	// Only the answer's own user may rate it; bad values are refused.
	if _, err := s.PutFeedback(ctx, history.Feedback{AnswerID: "a1", User: "bob", Value: 1}); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("bob rates alice's answer: %v", err)
	}
	if _, err := s.PutFeedback(ctx, history.Feedback{AnswerID: "a1", User: "alice", Value: 0.5, Kind: "thumbs"}); !errors.Is(err, history.ErrInvalid) {
		t.Errorf("thumbs 0.5: %v", err)
	}
	if _, err := s.PutFeedback(ctx, history.Feedback{AnswerID: "a1", User: "alice", Value: 1, Comment: strings.Repeat("長", history.MaxCommentRunes+1)}); !errors.Is(err, history.ErrInvalid) {
		t.Errorf("long comment: %v", err)
	}

	fb, err := s.PutFeedback(ctx, history.Feedback{AnswerID: "a1", User: "alice", Value: 0.75, Kind: "faces", Comment: " 分かりやすい "})
	if err != nil || fb.Revision != 1 || fb.TraceID == "" || fb.ObservationID != "00f067aa0ba902b7" || fb.Comment != "分かりやすい" || fb.Sent {
		t.Fatalf("PutFeedback: %+v %v", fb, err)
	}
	if _, err := s.PutFeedback(ctx, history.Feedback{AnswerID: "a2", User: "alice", Value: 0}); err != nil {
		t.Fatal(err)
	}
	pending, _ := s.PendingFeedback(ctx, 0)
	if len(pending) != 1 || pending[0].AnswerID != "a1" {
		t.Fatalf("pending = %+v, want only the traced answer's feedback", pending)
	}
	if rec, _ := s.AnswerFor(ctx, "alice", "a1"); rec.Feedback == nil || rec.Feedback.Value != 0.75 {
		t.Errorf("answer record without its feedback: %+v", rec.Feedback)
	}

	// First delivery fails: retried after a backoff, not before.
	failing := func(context.Context, history.Feedback) error { return errors.New("connection refused") }
	rep, err := s.DeliverFeedback(ctx, 10, failing)
	if err != nil || rep.Failed != 1 || rep.Sent != 0 {
		t.Fatalf("failing delivery: %+v %v", rep, err)
	}
	if p, _ := s.PendingFeedback(ctx, 0); len(p) != 0 {
		t.Errorf("due right after a failure: %+v", p)
	}
	clk.Add(31 * time.Second)
	var sent []history.Feedback
	ok := func(_ context.Context, fb history.Feedback) error { sent = append(sent, fb); return nil }
	if rep, err := s.DeliverFeedback(ctx, 10, ok); err != nil || rep.Sent != 1 {
		t.Fatalf("second delivery: %+v %v", rep, err)
	}
	got, _ := s.Feedback(ctx, "alice", "a1")
	if !got.Sent || got.Attempts != 1 || got.LastError != "" || len(sent) != 1 {
		t.Errorf("after delivery: %+v", got)
	}
	if rep, _ := s.DeliverFeedback(ctx, 10, ok); rep.Sent != 0 {
		t.Errorf("sent twice: %+v", rep)
	}

	// A change while a send is in flight leaves the new value pending.
	if _, err := s.PutFeedback(ctx, history.Feedback{AnswerID: "a1", User: "alice", Value: 0, Kind: "faces"}); err != nil {
		t.Fatal(err)
	}
	racing := func(_ context.Context, fb history.Feedback) error {
		_, err := s.PutFeedback(ctx, history.Feedback{AnswerID: "a1", User: "alice", Value: 1, Kind: "faces"})
		return err
	}
	if _, err := s.DeliverFeedback(ctx, 10, racing); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.PendingFeedback(ctx, 0); len(p) != 1 || p[0].Value != 1 || p[0].Revision != 3 {
		t.Errorf("after a racing change: %+v", p)
	}

	// A permanent failure leaves the outbox but keeps the feedback.
	perm := func(context.Context, history.Feedback) error { return history.Permanent(errors.New("400 invalid")) }
	if rep, _ := s.DeliverFeedback(ctx, 10, perm); rep.Dropped != 1 {
		t.Errorf("permanent: %+v", rep)
	}
	if p, _ := s.PendingFeedback(ctx, 0); len(p) != 0 {
		t.Errorf("pending after a permanent failure: %+v", p)
	}
	if got, _ := s.Feedback(ctx, "alice", "a1"); got.LastError != "400 invalid" || got.Sent {
		t.Errorf("kept feedback: %+v", got)
	}
}

// Feedback reaches the fake Langfuse as one user-feedback score on the
// answer's trace and generation, even though the first attempt fails.
func TestFeedbackToLangfuse(t *testing.T) {
	fake := langfusetest.New(t)
	fake.Inject(langfusetest.RouteScores, langfusetest.FailAfter, http.StatusInternalServerError, 1)
	lf, err := langfuse.New(langfuse.Config{Host: fake.URL, PublicKey: langfusetest.PublicKey, SecretKey: langfusetest.SecretKey, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	send := func(ctx context.Context, fb history.Feedback) error {
		_, err := lf.CreateScore(ctx, langfuse.FeedbackScore(fb.AnswerID, fb.User, fb.TraceID, fb.ObservationID, fb.Value, fb.Comment))
		if errors.Is(err, langfuse.ErrInvalid) {
			return history.Permanent(err)
		}
		return err
	}
	s, _ := newStore(t, history.Options{})
	rec := answer("a1", "alice", time.Time{})
	if err := s.PutAnswer(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutFeedback(ctx, history.Feedback{AnswerID: "a1", User: "alice", Value: 1, Kind: "thumbs", Comment: "助かった"}); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.DeliverFeedback(ctx, 10, send); err != nil || rep.Sent != 1 {
		t.Fatalf("deliver: %+v %v", rep, err)
	}
	// The user changes their mind: the same score is updated.
	if _, err := s.PutFeedback(ctx, history.Feedback{AnswerID: "a1", User: "alice", Value: 0, Kind: "thumbs"}); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.DeliverFeedback(ctx, 10, send); err != nil || rep.Sent != 1 {
		t.Fatalf("redeliver: %+v %v", rep, err)
	}
	scores := fake.Scores()
	if len(scores) != 1 {
		t.Fatalf("%d scores in Langfuse, want 1 (requests: %d)", len(scores), fake.ScoreRequests())
	}
	sc := scores[0]
	if sc.Name != "user-feedback" || sc.TraceID != rec.TraceID || sc.ObservationID != rec.GenerationSpanID || *sc.Value != 0 {
		t.Errorf("score %+v", sc)
	}
}

func TestRetention(t *testing.T) {
	s, clk := newStore(t, history.Options{MaxAnswers: 3, MaxAge: 24 * time.Hour, MaxConversations: 2})
	for i := range 5 {
		if err := s.PutAnswer(ctx, answer(fmt.Sprintf("a%d", i), "u", time.Time{})); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := s.PutFeedback(ctx, history.Feedback{AnswerID: "a0", User: "u", Value: 1}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.DeliverFeedback(ctx, 10, func(context.Context, history.Feedback) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
		clk.Add(time.Minute)
	}
	all, _ := s.RecentAnswers(ctx, history.AnswerQuery{AllUsers: true, Limit: 100})
	if ids := answerIDs(all); ids != "a4 a3 a2" {
		t.Errorf("after MaxAnswers: %s", ids)
	}
	if _, err := s.Feedback(ctx, "u", "a0"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("feedback of a pruned answer: %v", err)
	}

	// Pending feedback outlives its answer until it is old.
	if _, err := s.PutFeedback(ctx, history.Feedback{AnswerID: "a2", User: "u", Value: 0}); err != nil {
		t.Fatal(err)
	}
	clk.Add(25 * time.Hour)
	if err := s.PutAnswer(ctx, answer("fresh", "u", time.Time{})); err != nil {
		t.Fatal(err)
	}
	all, _ = s.RecentAnswers(ctx, history.AnswerQuery{AllUsers: true, Limit: 100})
	if ids := answerIDs(all); ids != "fresh" {
		t.Errorf("after MaxAge: %s", ids)
	}
	if p, _ := s.PendingFeedback(ctx, 0); len(p) != 0 {
		t.Errorf("old pending feedback kept: %+v", p)
	}

	// Conversations: at most 2 per user, and none older than MaxAge.
	old, _ := s.CreateConversation(ctx, "u", "old")
	clk.Add(25 * time.Hour)
	c1, _ := s.CreateConversation(ctx, "u", "c1")
	if _, err := s.Conversation(ctx, "u", old.ID); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("conversation older than MaxAge kept: %v", err)
	}
	clk.Add(time.Minute)
	c2, _ := s.CreateConversation(ctx, "u", "c2")
	clk.Add(time.Minute)
	c3, _ := s.CreateConversation(ctx, "u", "c3")
	other, _ := s.CreateConversation(ctx, "v", "v's")
	list, _ := s.Conversations(ctx, "u", 0)
	if got := titles(list); strings.Join(got, ",") != "c3,c2" {
		t.Errorf("after MaxConversations: %v (c1 %s)", got, c1.ID)
	}
	_ = c2
	_ = c3
	if _, err := s.Conversation(ctx, "v", other.ID); err != nil {
		t.Errorf("another user's conversation pruned: %v", err)
	}
}

func TestMissingFileReadsEmptyAndIsNotCreated(t *testing.T) {
	dir := t.TempDir()
	s := history.Open(dir, history.Options{})
	if list, err := s.Conversations(ctx, "u", 0); err != nil || len(list) != 0 {
		t.Errorf("Conversations: %v %v", list, err)
	}
	if recs, err := s.RecentAnswers(ctx, history.AnswerQuery{AllUsers: true}); err != nil || len(recs) != 0 {
		t.Errorf("RecentAnswers: %v %v", recs, err)
	}
	if _, err := s.Answer(ctx, "x"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("Answer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "app")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a read created %v", err)
	}
}

func TestNewerFormatIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := history.Open(dir, history.Options{})
	if _, err := s.CreateConversation(ctx, "u", "t"); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(s.Path(), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte("99")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := s.Conversations(ctx, "u", 0); !errors.Is(err, history.ErrFormat) || !strings.Contains(err.Error(), "newer kura") {
		t.Errorf("read: %v", err)
	}
	if _, err := s.CreateConversation(ctx, "u", "t"); !errors.Is(err, history.ErrFormat) {
		t.Errorf("write: %v", err)
	}
}

// Another process holding the file longer than the lock timeout: the
// operation fails with ErrBusy instead of waiting forever.
func TestBusyFile(t *testing.T) {
	s := history.Open(t.TempDir(), history.Options{LockTimeout: 100 * time.Millisecond})
	if _, err := s.CreateConversation(ctx, "u", "t"); err != nil {
		t.Fatal(err)
	}
	holder, err := bolt.Open(s.Path(), 0o600, nil) // an exclusive lock, like a writer in another process
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Conversations(ctx, "u", 0)
	holder.Close()
	if !errors.Is(err, history.ErrBusy) {
		t.Errorf("with the file held: %v", err)
	}
	if _, err := s.Conversations(ctx, "u", 0); err != nil {
		t.Errorf("after release: %v", err)
	}
}

// Many goroutines of one process (a server) writing and reading at once.
func TestConcurrentUse(t *testing.T) {
	s := history.Open(t.TempDir(), history.Options{})
	conv, err := s.CreateConversation(ctx, "u", "t")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				id := fmt.Sprintf("w%d-%d", w, i)
				if err := s.PutAnswer(ctx, answer(id, "u", time.Time{})); err != nil {
					errs <- err
					return
				}
				if _, err := s.AppendTurn(ctx, "u", conv.ID, history.Turn{Question: id, AnswerID: id}); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for range 10 {
				if _, err := s.RecentAnswers(ctx, history.AnswerQuery{User: "u"}); err != nil {
					errs <- err
					return
				}
				if _, err := s.Conversation(ctx, "u", conv.ID); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, _ := s.Conversation(ctx, "u", conv.ID)
	if got.TurnCount != 40 || len(got.Turns) != 40 {
		t.Fatalf("%d turns (%d loaded), want 40", got.TurnCount, len(got.Turns))
	}
	for i, turn := range got.Turns {
		if turn.Index != i {
			t.Fatalf("turn %d has index %d", i, turn.Index)
		}
	}
}

// Two processes writing the same file: every write of both lands. The
// second process is this test binary, re-run as a helper.
func TestTwoProcesses(t *testing.T) {
	if os.Getenv("KURA_HISTORY_HELPER_DIR") != "" {
		t.Skip("helper")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHistoryHelperProcess$")
	cmd.Env = append(os.Environ(), "KURA_HISTORY_HELPER_DIR="+dir)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := history.Open(dir, history.Options{})
	for i := range 30 {
		if err := s.PutAnswer(ctx, answer("parent-"+strconv.Itoa(i), "p", time.Time{})); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecentAnswers(ctx, history.AnswerQuery{AllUsers: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	all, err := s.RecentAnswers(ctx, history.AnswerQuery{AllUsers: true, Limit: 1000})
	if err != nil || len(all) != 60 {
		t.Fatalf("%d answers after two processes wrote 30 each (%v)", len(all), err)
	}
}

func TestHistoryHelperProcess(t *testing.T) {
	dir := os.Getenv("KURA_HISTORY_HELPER_DIR")
	if dir == "" {
		t.Skip("run by TestTwoProcesses")
	}
	s := history.Open(dir, history.Options{})
	for i := range 30 {
		if err := s.PutAnswer(ctx, answer("child-"+strconv.Itoa(i), "c", time.Time{})); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	a := history.NewID()
	time.Sleep(2 * time.Millisecond)
	b := history.NewID()
	if len(a) != 32 || a >= b || a == history.NewID() {
		t.Errorf("ids %s %s", a, b)
	}
}

package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// PutFeedback records fb.User's feedback on answer fb.AnswerID, replacing
// earlier feedback of that user on it. The answer must be the user's own.
// Feedback on a traced answer waits in the outbox until
// [Store.DeliverFeedback] sends it. It returns the stored feedback.
func (s *Store) PutFeedback(ctx context.Context, fb Feedback) (Feedback, error) {
	if err := checkUser(fb.User); err != nil {
		return Feedback{}, err
	}
	if err := checkID("answer", fb.AnswerID); err != nil {
		return Feedback{}, err
	}
	kind, err := ValidateFeedback(fb.Kind, fb.Value)
	if err != nil {
		return Feedback{}, err
	}
	if !utf8.ValidString(fb.Comment) || utf8.RuneCountInString(fb.Comment) > MaxCommentRunes {
		return Feedback{}, fmt.Errorf("%w: a comment is at most %d characters of UTF-8 (this one has %d)", ErrInvalid, MaxCommentRunes, utf8.RuneCountInString(fb.Comment))
	}
	now := s.opts.Now()
	var out Feedback
	err = s.update(ctx, func(tx *bolt.Tx) error {
		var rec AnswerRecord
		ok, err := get(tx.Bucket(bAnswers), []byte(fb.AnswerID), "answer "+fb.AnswerID, &rec)
		if err != nil {
			return err
		}
		if !ok || rec.User != fb.User {
			return fmt.Errorf("%w: answer %s (it may have passed the retention limit)", ErrNotFound, fb.AnswerID)
		}
		k := key(fb.AnswerID, fb.User)
		var prev Feedback
		had, err := get(tx.Bucket(bFeedback), k, "feedback on answer "+fb.AnswerID, &prev)
		if err != nil {
			return err
		}
		out = Feedback{
			AnswerID: fb.AnswerID, User: fb.User, Value: fb.Value, Kind: kind, Comment: strings.TrimSpace(fb.Comment),
			Created: now, Updated: now, Revision: 1,
			TraceID: rec.TraceID, ObservationID: rec.GenerationSpanID,
			NextAttempt: now,
		}
		if had {
			out.Created, out.Revision = prev.Created, prev.Revision+1
		}
		if err := put(tx.Bucket(bFeedback), k, "feedback", out); err != nil {
			return err
		}
		if out.TraceID == "" {
			return nil // tracing was off: nothing in Langfuse to attach it to
		}
		return tx.Bucket(bOutbox).Put(k, nil)
	})
	if err != nil {
		return Feedback{}, err
	}
	return out, nil
}

// Feedback returns user's feedback on answerID.
func (s *Store) Feedback(ctx context.Context, user, answerID string) (Feedback, error) {
	if err := checkUser(user); err != nil {
		return Feedback{}, err
	}
	if err := checkID("answer", answerID); err != nil {
		return Feedback{}, err
	}
	var fb Feedback
	found := false
	_, err := s.view(ctx, func(tx *bolt.Tx) error {
		ok, err := get(tx.Bucket(bFeedback), key(answerID, user), "feedback on answer "+answerID, &fb)
		found = ok
		return err
	})
	if err != nil {
		return Feedback{}, err
	}
	if !found {
		return Feedback{}, fmt.Errorf("%w: feedback of %s on answer %s", ErrNotFound, user, answerID)
	}
	return fb, nil
}

// PendingFeedback returns up to limit feedback records waiting in the
// outbox whose next attempt is due, the longest waiting first. limit <= 0
// means all due.
func (s *Store) PendingFeedback(ctx context.Context, limit int) ([]Feedback, error) {
	return s.pending(ctx, limit, true)
}

func (s *Store) pending(ctx context.Context, limit int, dueOnly bool) ([]Feedback, error) {
	now := s.opts.Now()
	out := []Feedback{}
	_, err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bOutbox).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			var fb Feedback
			ok, err := get(tx.Bucket(bFeedback), k, "feedback in the outbox", &fb)
			if err != nil {
				return err
			}
			if ok && (!dueOnly || !fb.NextAttempt.After(now)) {
				out = append(out, fb)
			}
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].NextAttempt.Before(out[j].NextAttempt) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// permanent marks a send error that retrying cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps a send error that no retry can fix (the backend refused
// the score as invalid): [Store.DeliverFeedback] then takes the feedback
// out of the outbox, keeping it locally with the error.
func Permanent(err error) error { return permanent{err} }

// Retry backoff of the outbox: 30 s, doubling, at most an hour.
const (
	firstRetry = 30 * time.Second
	maxRetry   = time.Hour
)

// DeliveryReport says what one DeliverFeedback pass did.
type DeliveryReport struct {
	Sent    int
	Failed  int // will be retried
	Dropped int // permanent failures, out of the outbox
	// LastError is the last send error, for one line of output.
	LastError string
}

// DeliverFeedback sends up to limit due feedback records with send (which
// creates the Langfuse score) and records each outcome: sent, or failed
// and retried later with backoff. send runs outside any transaction. A
// record changed while it was being sent stays in the outbox, so its newer
// value is sent next time (under the same score id, so it updates the
// score rather than adding one).
func (s *Store) DeliverFeedback(ctx context.Context, limit int, send func(context.Context, Feedback) error) (DeliveryReport, error) {
	var rep DeliveryReport
	due, err := s.PendingFeedback(ctx, limit)
	if err != nil {
		return rep, err
	}
	for _, fb := range due {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		sendErr := send(ctx, fb)
		if sendErr != nil {
			rep.LastError = sendErr.Error()
			var p permanent
			if errors.As(sendErr, &p) {
				rep.Dropped++
			} else {
				rep.Failed++
			}
		} else {
			rep.Sent++
		}
		if err := s.recordDelivery(ctx, fb, sendErr); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (s *Store) recordDelivery(ctx context.Context, sent Feedback, sendErr error) error {
	now := s.opts.Now()
	return s.update(ctx, func(tx *bolt.Tx) error {
		k := key(sent.AnswerID, sent.User)
		var cur Feedback
		ok, err := get(tx.Bucket(bFeedback), k, "feedback on answer "+sent.AnswerID, &cur)
		if err != nil || !ok {
			return err // deleted meanwhile: nothing to record
		}
		var p permanent
		switch {
		case sendErr == nil && cur.Revision == sent.Revision:
			cur.Sent, cur.SentAt, cur.LastError, cur.NextAttempt = true, now, "", time.Time{}
			if err := tx.Bucket(bOutbox).Delete(k); err != nil {
				return err
			}
		case sendErr == nil:
			// Changed while being sent: leave it due, for the new value.
		case errors.As(sendErr, &p):
			cur.Attempts++
			cur.LastError = sendErr.Error()
			cur.NextAttempt = time.Time{}
			if err := tx.Bucket(bOutbox).Delete(k); err != nil {
				return err
			}
		default:
			cur.Attempts++
			cur.LastError = sendErr.Error()
			wait := firstRetry << min(cur.Attempts-1, 10)
			cur.NextAttempt = now.Add(min(wait, maxRetry))
		}
		return put(tx.Bucket(bFeedback), k, "feedback", cur)
	})
}

// deleteFeedbackOf deletes the feedback on answerID (every user's); with
// includePending false, feedback still in the outbox is kept.
func deleteFeedbackOf(tx *bolt.Tx, answerID string, includePending bool) error {
	prefix := key(answerID, "")
	fbs, outbox := tx.Bucket(bFeedback), tx.Bucket(bOutbox)
	var doomed [][]byte
	c := fbs.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if !includePending && outbox.Get(k) != nil {
			continue
		}
		doomed = append(doomed, append([]byte(nil), k...))
	}
	for _, k := range doomed {
		if err := fbs.Delete(k); err != nil {
			return err
		}
		if err := outbox.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// pruneOutbox drops outbox entries older than MaxAge whose answer is gone:
// feedback that could not be delivered for that long never will be.
func (s *Store) pruneOutbox(tx *bolt.Tx, now time.Time) error {
	if s.opts.MaxAge <= 0 {
		return nil
	}
	cutoff := now.Add(-s.opts.MaxAge)
	var doomed [][]byte
	c := tx.Bucket(bOutbox).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		var fb Feedback
		ok, err := get(tx.Bucket(bFeedback), k, "feedback in the outbox", &fb)
		if err != nil {
			return err
		}
		if !ok || (fb.Updated.Before(cutoff) && tx.Bucket(bAnswers).Get([]byte(fb.AnswerID)) == nil) {
			doomed = append(doomed, append([]byte(nil), k...))
		}
	}
	for _, k := range doomed {
		if err := tx.Bucket(bOutbox).Delete(k); err != nil {
			return err
		}
		if err := tx.Bucket(bFeedback).Delete(k); err != nil {
			return err
		}
	}
	return nil
}

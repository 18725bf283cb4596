package history

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// PutAnswer stores rec (replacing a record with its id) and applies the
// answers' retention limits. rec.ID and rec.User are required; a zero
// Created is now.
func (s *Store) PutAnswer(ctx context.Context, rec AnswerRecord) error {
	if err := checkID("answer", rec.ID); err != nil {
		return err
	}
	if err := checkUser(rec.User); err != nil {
		return err
	}
	if rec.Created.IsZero() {
		rec.Created = s.opts.Now()
	}
	rec.Feedback = nil
	return s.update(ctx, func(tx *bolt.Tx) error {
		answers, byTime, meta := tx.Bucket(bAnswers), tx.Bucket(bAnswersTime), tx.Bucket(bMeta)
		count := u64(meta.Get(kAnswers))
		var prev AnswerRecord
		if ok, err := get(answers, []byte(rec.ID), "answer "+rec.ID, &prev); err != nil {
			return err
		} else if ok {
			if prev.User != rec.User {
				return fmt.Errorf("%w: answer %s belongs to another user", ErrInvalid, rec.ID)
			}
			if err := byTime.Delete(timeKey(prev.Created, []byte(rec.ID))); err != nil {
				return err
			}
			count--
		}
		if err := put(answers, []byte(rec.ID), "answer "+rec.ID, rec); err != nil {
			return err
		}
		if err := byTime.Put(timeKey(rec.Created, []byte(rec.ID)), nil); err != nil {
			return err
		}
		if err := putU64(meta, kAnswers, count+1); err != nil {
			return err
		}
		return s.pruneAnswers(tx, s.opts.Now())
	})
}

// Answer returns the answer record id, whoever it belongs to, with its
// user's feedback: for operators (kura traces). Front ends serving users
// call [Store.AnswerFor].
func (s *Store) Answer(ctx context.Context, id string) (AnswerRecord, error) {
	return s.answer(ctx, "", id)
}

// AnswerFor returns user's answer record id; another user's is not found.
func (s *Store) AnswerFor(ctx context.Context, user, id string) (AnswerRecord, error) {
	if err := checkUser(user); err != nil {
		return AnswerRecord{}, err
	}
	return s.answer(ctx, user, id)
}

func (s *Store) answer(ctx context.Context, user, id string) (AnswerRecord, error) {
	if err := checkID("answer", id); err != nil {
		return AnswerRecord{}, err
	}
	var rec AnswerRecord
	found := false
	_, err := s.view(ctx, func(tx *bolt.Tx) error {
		ok, err := get(tx.Bucket(bAnswers), []byte(id), "answer "+id, &rec)
		if err != nil || !ok || (user != "" && rec.User != user) {
			return err
		}
		found = true
		return attachFeedback(tx, &rec)
	})
	if err != nil {
		return AnswerRecord{}, err
	}
	if !found {
		return AnswerRecord{}, fmt.Errorf("%w: answer %s", ErrNotFound, id)
	}
	return rec, nil
}

// AnswerQuery selects answer records for [Store.RecentAnswers].
type AnswerQuery struct {
	// User restricts the list to one user's answers; AllUsers must be set
	// to list everyone's (an operator's view).
	User     string
	AllUsers bool
	// ConversationID restricts the list to one conversation.
	ConversationID string
	// Before lists answers created strictly before it (paging); zero: now.
	Before time.Time
	// Limit is the most records returned (20 if zero, at most 1000).
	Limit int
}

// RecentAnswers lists answer records, newest first, each with its user's
// feedback.
func (s *Store) RecentAnswers(ctx context.Context, q AnswerQuery) ([]AnswerRecord, error) {
	if !q.AllUsers {
		if err := checkUser(q.User); err != nil {
			return nil, fmt.Errorf("%w (or list all users' answers)", err)
		}
	}
	if q.Limit <= 0 {
		q.Limit = 20
	}
	q.Limit = min(q.Limit, 1000)
	out := []AnswerRecord{}
	_, err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bAnswersTime).Cursor()
		var k []byte
		if q.Before.IsZero() {
			k, _ = c.Last()
		} else {
			k, _ = c.Seek(timeKey(q.Before, nil))
			if k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev() // Seek lands on the first key >= Before
			}
		}
		for ; k != nil && len(out) < q.Limit; k, _ = c.Prev() {
			if len(k) <= 8 {
				continue
			}
			id := k[8:]
			var rec AnswerRecord
			ok, err := get(tx.Bucket(bAnswers), id, "answer "+string(id), &rec)
			if err != nil {
				return err
			}
			if !ok || (!q.AllUsers && rec.User != q.User) || (q.ConversationID != "" && rec.ConversationID != q.ConversationID) {
				continue
			}
			if !q.Before.IsZero() && !rec.Created.Before(q.Before) {
				continue
			}
			if err := attachFeedback(tx, &rec); err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

func attachFeedback(tx *bolt.Tx, rec *AnswerRecord) error {
	var fb Feedback
	ok, err := get(tx.Bucket(bFeedback), key(rec.ID, rec.User), "feedback on answer "+rec.ID, &fb)
	if err != nil || !ok {
		return err
	}
	rec.Feedback = &fb
	return nil
}

// pruneAnswers applies retention: answers older than MaxAge, then the
// oldest beyond MaxAnswers, go with their feedback (feedback still waiting
// in the outbox stays until it is sent or too old itself).
func (s *Store) pruneAnswers(tx *bolt.Tx, now time.Time) error {
	byTime, meta := tx.Bucket(bAnswersTime), tx.Bucket(bMeta)
	count := u64(meta.Get(kAnswers))
	var doomed [][]byte
	c := byTime.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		tooOld := s.opts.MaxAge > 0 && int64(u64(k[:8])) < now.Add(-s.opts.MaxAge).UnixNano()
		tooMany := s.opts.MaxAnswers > 0 && count-uint64(len(doomed)) > uint64(s.opts.MaxAnswers)
		if !tooOld && !tooMany {
			break
		}
		doomed = append(doomed, append([]byte(nil), k...))
	}
	for _, k := range doomed {
		id := string(k[8:])
		if err := byTime.Delete(k); err != nil {
			return err
		}
		if err := tx.Bucket(bAnswers).Delete([]byte(id)); err != nil {
			return err
		}
		if err := deleteFeedbackOf(tx, id, false); err != nil {
			return err
		}
	}
	if len(doomed) > 0 {
		if err := putU64(meta, kAnswers, count-uint64(len(doomed))); err != nil {
			return err
		}
	}
	return s.pruneOutbox(tx, now)
}

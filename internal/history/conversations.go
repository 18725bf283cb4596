package history

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// CreateConversation starts a conversation of user. An empty title is
// filled from the first question by [Store.AppendTurn].
func (s *Store) CreateConversation(ctx context.Context, user, title string) (Conversation, error) {
	return s.CreateConversationID(ctx, user, NewID(), title)
}

// CreateConversationID is CreateConversation under an id the caller
// chose with [NewID]: a front end that names the conversation to its
// client before the first turn is recorded. An id in use is ErrInvalid.
func (s *Store) CreateConversationID(ctx context.Context, user, id, title string) (Conversation, error) {
	if err := checkUser(user); err != nil {
		return Conversation{}, err
	}
	if err := checkID("conversation", id); err != nil {
		return Conversation{}, err
	}
	now := s.opts.Now()
	c := Conversation{ID: id, User: user, Title: cleanTitle(title), Created: now, Updated: now}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bConvs).Get(key(user, id)) != nil {
			return fmt.Errorf("%w: conversation %s exists", ErrInvalid, id)
		}
		if err := s.writeConversation(tx, c, time.Time{}); err != nil {
			return err
		}
		return s.pruneConversations(tx, user, now)
	})
	if err != nil {
		return Conversation{}, err
	}
	return c, nil
}

// Conversations lists user's conversations, most recently updated first,
// without their turns. limit <= 0 means all.
func (s *Store) Conversations(ctx context.Context, user string, limit int) ([]Conversation, error) {
	if err := checkUser(user); err != nil {
		return nil, err
	}
	out := []Conversation{}
	_, err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = userConversations(tx, user)
		return err
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Updated.After(out[j].Updated) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// Conversation returns one of user's conversations with its turns.
// Another user's conversation is not found.
func (s *Store) Conversation(ctx context.Context, user, id string) (Conversation, error) {
	if err := checkUser(user); err != nil {
		return Conversation{}, err
	}
	if err := checkID("conversation", id); err != nil {
		return Conversation{}, err
	}
	var conv Conversation
	found := false
	_, err := s.view(ctx, func(tx *bolt.Tx) error {
		ok, err := get(tx.Bucket(bConvs), key(user, id), "conversation "+id, &conv)
		if err != nil || !ok {
			return err
		}
		found = true
		prefix := key(user, id, "")
		c := tx.Bucket(bTurns).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var t Turn
			if err := jsonUnmarshal(v, &t, "a turn of conversation "+id); err != nil {
				return err
			}
			conv.Turns = append(conv.Turns, t)
		}
		return nil
	})
	if err != nil {
		return Conversation{}, err
	}
	if !found {
		return Conversation{}, fmt.Errorf("%w: conversation %s", ErrNotFound, id)
	}
	return conv, nil
}

// RenameConversation changes the title of user's conversation id.
func (s *Store) RenameConversation(ctx context.Context, user, id, title string) error {
	if err := checkUser(user); err != nil {
		return err
	}
	if err := checkID("conversation", id); err != nil {
		return err
	}
	title = cleanTitle(title)
	if title == "" {
		return fmt.Errorf("%w: a conversation title cannot be empty", ErrInvalid)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		var conv Conversation
		ok, err := get(tx.Bucket(bConvs), key(user, id), "conversation "+id, &conv)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: conversation %s", ErrNotFound, id)
		}
		conv.Title = title
		return put(tx.Bucket(bConvs), key(user, id), "conversation "+id, conv)
	})
}

// DeleteConversation removes user's conversation id and its turns. The
// answer records of its turns stay until retention removes them.
func (s *Store) DeleteConversation(ctx context.Context, user, id string) error {
	if err := checkUser(user); err != nil {
		return err
	}
	if err := checkID("conversation", id); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		var conv Conversation
		ok, err := get(tx.Bucket(bConvs), key(user, id), "conversation "+id, &conv)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: conversation %s", ErrNotFound, id)
		}
		return deleteConversation(tx, conv)
	})
}

// AppendTurn adds a turn to user's conversation convID and returns it with
// its index. The conversation's title, if empty, becomes the question.
func (s *Store) AppendTurn(ctx context.Context, user, convID string, t Turn) (Turn, error) {
	if err := checkUser(user); err != nil {
		return Turn{}, err
	}
	if err := checkID("conversation", convID); err != nil {
		return Turn{}, err
	}
	if t.AnswerID != "" {
		if err := checkID("answer", t.AnswerID); err != nil {
			return Turn{}, err
		}
	}
	now := s.opts.Now()
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var conv Conversation
		ok, err := get(tx.Bucket(bConvs), key(user, convID), "conversation "+convID, &conv)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: conversation %s", ErrNotFound, convID)
		}
		if conv.TurnCount >= MaxTurns {
			return fmt.Errorf("%w: conversation %s has %d turns, the most one may hold; start a new one", ErrInvalid, convID, MaxTurns)
		}
		t.Index = conv.TurnCount
		if t.Created.IsZero() {
			t.Created = now
		}
		var idx [8]byte
		binary.BigEndian.PutUint64(idx[:], uint64(t.Index))
		if err := put(tx.Bucket(bTurns), key(user, convID, string(idx[:])), "a turn", t); err != nil {
			return err
		}
		prevUpdated := conv.Updated
		conv.TurnCount++
		conv.Updated = now
		if conv.Title == "" {
			conv.Title = cleanTitle(t.Question)
		}
		return s.writeConversation(tx, conv, prevUpdated)
	})
	if err != nil {
		return Turn{}, err
	}
	return t, nil
}

// writeConversation stores conv and moves its entry in the update index
// from prevUpdated (zero: new) to conv.Updated.
func (s *Store) writeConversation(tx *bolt.Tx, conv Conversation, prevUpdated time.Time) error {
	conv.Turns = nil
	k := key(conv.User, conv.ID)
	idx := tx.Bucket(bConvsUpdated)
	if !prevUpdated.IsZero() {
		if err := idx.Delete(timeKey(prevUpdated, k)); err != nil {
			return err
		}
	}
	if err := idx.Put(timeKey(conv.Updated, k), nil); err != nil {
		return err
	}
	return put(tx.Bucket(bConvs), k, "conversation "+conv.ID, conv)
}

func deleteConversation(tx *bolt.Tx, conv Conversation) error {
	k := key(conv.User, conv.ID)
	if err := tx.Bucket(bConvsUpdated).Delete(timeKey(conv.Updated, k)); err != nil {
		return err
	}
	prefix := key(conv.User, conv.ID, "")
	turns := tx.Bucket(bTurns)
	var doomed [][]byte
	c := turns.Cursor()
	for tk, _ := c.Seek(prefix); tk != nil && bytes.HasPrefix(tk, prefix); tk, _ = c.Next() {
		doomed = append(doomed, append([]byte(nil), tk...))
	}
	for _, tk := range doomed {
		if err := turns.Delete(tk); err != nil {
			return err
		}
	}
	return tx.Bucket(bConvs).Delete(k)
}

// pruneConversations applies retention: conversations not updated within
// MaxAge (any user's), and user's beyond MaxConversations.
func (s *Store) pruneConversations(tx *bolt.Tx, user string, now time.Time) error {
	if s.opts.MaxAge > 0 {
		cutoff := now.Add(-s.opts.MaxAge)
		var old []Conversation
		var orphans [][]byte // index entries whose conversation is gone
		c := tx.Bucket(bConvsUpdated).Cursor()
		for k, _ := c.First(); k != nil && int64(u64(k[:8])) < cutoff.UnixNano(); k, _ = c.Next() {
			var conv Conversation
			if ok, err := get(tx.Bucket(bConvs), k[8:], "a conversation", &conv); err != nil {
				return err
			} else if ok {
				old = append(old, conv)
			} else {
				orphans = append(orphans, append([]byte(nil), k...))
			}
		}
		for _, conv := range old {
			if err := deleteConversation(tx, conv); err != nil {
				return err
			}
		}
		for _, k := range orphans {
			if err := tx.Bucket(bConvsUpdated).Delete(k); err != nil {
				return err
			}
		}
	}
	if s.opts.MaxConversations > 0 {
		mine, err := userConversations(tx, user)
		if err != nil {
			return err
		}
		if extra := len(mine) - s.opts.MaxConversations; extra > 0 {
			sort.Slice(mine, func(i, j int) bool { return mine[i].Updated.Before(mine[j].Updated) })
			for _, conv := range mine[:extra] {
				if err := deleteConversation(tx, conv); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// userConversations reads user's conversations (without their turns) in
// key order.
func userConversations(tx *bolt.Tx, user string) ([]Conversation, error) {
	out := []Conversation{}
	prefix := key(user, "")
	c := tx.Bucket(bConvs).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var conv Conversation
		if err := jsonUnmarshal(v, &conv, "a conversation"); err != nil {
			return nil, err
		}
		out = append(out, conv)
	}
	return out, nil
}

package langfuse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// FeedbackScoreName is the score kura's user feedback is stored under, the
// name the original application used.
const FeedbackScoreName = "user-feedback"

// MaxCommentBytes bounds a score's comment.
const MaxCommentBytes = 4000

// Score is one score on a trace (and optionally on one observation of it).
type Score struct {
	// ID is the score's idempotency key: Langfuse updates the score with
	// this id (same name, same day) instead of adding another, so a retry
	// never doubles a score. CreateScore fills it when empty.
	ID            string  `json:"id"`
	TraceID       string  `json:"traceId"`
	ObservationID string  `json:"observationId,omitempty"`
	Name          string  `json:"name"`
	Value         float64 `json:"value"`
	DataType      string  `json:"dataType,omitempty"` // "NUMERIC"
	Comment       string  `json:"comment,omitempty"`
}

// FeedbackScore is the score for a user's feedback on an answer: named
// [FeedbackScoreName], on the answer's trace and generation, with an id
// derived from the answer and the user, so that sending it again — a
// retry, or the user changing their mind — updates the one score.
func FeedbackScore(answerID, user, traceID, generationSpanID string, value float64, comment string) Score {
	return Score{
		ID:            FeedbackScoreID(answerID, user),
		TraceID:       traceID,
		ObservationID: generationSpanID,
		Name:          FeedbackScoreName,
		Value:         value,
		DataType:      "NUMERIC",
		Comment:       comment,
	}
}

// FeedbackScoreID is the stable score id of user's feedback on answerID.
func FeedbackScoreID(answerID, user string) string {
	sum := sha256.Sum256([]byte(FeedbackScoreName + "\x00" + answerID + "\x00" + user))
	return "kura-" + hex.EncodeToString(sum[:16])
}

// CreateScore stores s in Langfuse and returns its id. 429, 5xx and network
// errors are retried with backoff; every attempt carries the same id, so
// however many attempts reach Langfuse there is one score.
func (c *Client) CreateScore(ctx context.Context, s Score) (string, error) {
	if s.TraceID == "" {
		return "", fmt.Errorf("%w: a score needs the trace id of what it rates", ErrInvalid)
	}
	if s.Name == "" {
		return "", fmt.Errorf("%w: a score needs a name", ErrInvalid)
	}
	if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
		return "", fmt.Errorf("%w: score %s has no finite value", ErrInvalid, s.Name)
	}
	if len(s.Comment) > MaxCommentBytes || !utf8.ValidString(s.Comment) {
		return "", fmt.Errorf("%w: the comment must be valid UTF-8 of at most %d bytes (it has %d)", ErrInvalid, MaxCommentBytes, len(s.Comment))
	}
	if s.ID == "" {
		s.ID = randomID()
	}
	if s.DataType == "" {
		s.DataType = "NUMERIC"
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, "POST", "/api/public/scores", nil, s, &out); err != nil {
		return "", fmt.Errorf("cannot send score %s for trace %s: %w", s.Name, s.TraceID, err)
	}
	if out.ID == "" {
		return "", errors.New("langfuse answered the score without an id")
	}
	return out.ID, nil
}

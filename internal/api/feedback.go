package api

import "time"

// FeedbackKind is the rating scale the user chose.
type FeedbackKind string

// Rating scales, as in the original app.
const (
	// FeedbackThumbs is 👍 1 or 👎 0.
	FeedbackThumbs FeedbackKind = "thumbs"
	// FeedbackFaces is five faces: 1, 0.75, 0.5, 0.25, 0.
	FeedbackFaces FeedbackKind = "faces"
)

// Values lists the values k allows, best first.
func (k FeedbackKind) Values() []float64 {
	if k == FeedbackThumbs {
		return []float64{1, 0}
	}
	return []float64{1, 0.75, 0.5, 0.25, 0}
}

// FeedbackRequest is the body of POST /api/v1/feedback. Rating an answer
// again replaces the earlier rating.
type FeedbackRequest struct {
	// AnswerID is the id of the answer ([Answer.ID]).
	AnswerID string `json:"answer_id"`
	// Value is the rating, one of Kind's values (required).
	Value *float64 `json:"value"`
	// Comment is optional free text.
	Comment string `json:"comment,omitempty"`
	// Kind is the scale; empty accepts any faces value (thumbs' 1 and 0
	// are faces values too).
	Kind FeedbackKind `json:"kind,omitempty"`
}

// Feedback is a stored rating. It reaches Langfuse, when configured, as a
// score named user-feedback on the answer's trace.
type Feedback struct {
	ID       string       `json:"id"`
	AnswerID string       `json:"answer_id"`
	Value    float64      `json:"value"`
	Kind     FeedbackKind `json:"kind,omitempty"`
	Comment  string       `json:"comment,omitempty"`
	Created  time.Time    `json:"created"`
}

package history

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// Conversation is a chat: its title and, when read with
// [Store.Conversation], its turns.
type Conversation struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Title   string    `json:"title"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// TurnCount is the number of turns, also when Turns is not loaded.
	TurnCount int    `json:"turn_count"`
	Turns     []Turn `json:"turns,omitempty"`
}

// Turn is one question and its answer in a conversation.
type Turn struct {
	Index     int       `json:"index"` // 0-based, in order
	Question  string    `json:"question"`
	Rewritten string    `json:"rewritten,omitempty"` // the standalone question retrieval used
	Answer    string    `json:"answer"`
	AnswerID  string    `json:"answer_id,omitempty"` // the answer record, for sources and feedback
	Created   time.Time `json:"created"`
}

// Source is one retrieved chunk given to the model, without its text.
type Source struct {
	N          int     `json:"n"` // the number the prompt gave it
	ID         int64   `json:"id"`
	Source     string  `json:"source,omitempty"`
	Title      string  `json:"title,omitempty"`
	ChunkIndex int     `json:"chunk_index,omitempty"`
	Score      float64 `json:"score"`
}

// Citation is a checked citation of the answer.
type Citation struct {
	N          int    `json:"n"`
	ID         int64  `json:"id"`
	Source     string `json:"source,omitempty"`
	Title      string `json:"title,omitempty"`
	ChunkIndex int    `json:"chunk_index,omitempty"`
	Text       string `json:"text,omitempty"` // the cited span
}

// Usage counts tokens (zero when the provider does not say).
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// Timings are an answer's latencies in milliseconds.
type Timings struct {
	RewriteMS    float64 `json:"rewrite_ms,omitempty"`
	RetrieveMS   float64 `json:"retrieve_ms"`
	FirstTokenMS float64 `json:"first_token_ms,omitempty"`
	TotalMS      float64 `json:"total_ms"`
}

// AnswerRecord is everything about one answer.
type AnswerRecord struct {
	ID string `json:"id"`
	// TraceID is the OpenTelemetry trace id (the one Langfuse shows), empty
	// when tracing was off; GenerationSpanID is the generation's span id,
	// the observation a feedback score attaches to.
	TraceID          string         `json:"trace_id,omitempty"`
	GenerationSpanID string         `json:"generation_span_id,omitempty"`
	ConversationID   string         `json:"conversation_id,omitempty"`
	SessionID        string         `json:"session_id,omitempty"`
	User             string         `json:"user"`
	Collection       string         `json:"collection,omitempty"`
	Question         string         `json:"question"`
	Rewritten        string         `json:"rewritten_question,omitempty"`
	Sources          []Source       `json:"sources,omitempty"`
	Answer           string         `json:"answer"`
	Citations        []Citation     `json:"citations,omitempty"`
	LLM              string         `json:"llm,omitempty"`
	Model            string         `json:"model,omitempty"`
	Prompt           string         `json:"prompt,omitempty"` // e.g. "builtin:ja", "langfuse:qa#3"
	Options          map[string]any `json:"options,omitempty"`
	Usage            Usage          `json:"usage"`
	Timings          Timings        `json:"timings"`
	NotFound         bool           `json:"not_found,omitempty"`
	Error            string         `json:"error,omitempty"`
	Created          time.Time      `json:"created"`
	// Feedback is the record's user's feedback, filled in by reads.
	Feedback *Feedback `json:"feedback,omitempty"`
}

// Feedback kinds: how the user was asked.
const (
	KindThumbs = "thumbs" // 1 or 0
	KindFaces  = "faces"  // 1, 0.75, 0.5, 0.25 or 0
)

// MaxCommentRunes bounds a feedback comment.
const MaxCommentRunes = 2000

// Feedback is a user's rating of an answer. One user has one feedback per
// answer; giving it again replaces it (and sends it again).
type Feedback struct {
	AnswerID string    `json:"answer_id"`
	User     string    `json:"user"`
	Value    float64   `json:"value"`
	Kind     string    `json:"kind,omitempty"` // KindThumbs, KindFaces, or "" when not said
	Comment  string    `json:"comment,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	// Revision counts changes, so that a send that raced with a change
	// does not mark the newer value as sent.
	Revision int `json:"revision"`
	// The answer's trace, copied so that sending needs nothing else.
	TraceID       string `json:"trace_id,omitempty"`
	ObservationID string `json:"observation_id,omitempty"`
	// Delivery to Langfuse: Sent is true once the current revision was
	// accepted; otherwise the feedback waits in the outbox (if it has a
	// trace) until NextAttempt.
	Sent        bool      `json:"sent"`
	SentAt      time.Time `json:"sent_at,omitzero"`
	Attempts    int       `json:"attempts,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

// ValidateFeedback checks value against kind: thumbs are 1 or 0, faces
// 1, 0.75, 0.5, 0.25 or 0; without a kind any of those. It returns the
// kind, inferred when the value says (0.25, 0.5, 0.75 are faces).
func ValidateFeedback(kind string, value float64) (string, error) {
	faces := value == 0 || value == 0.25 || value == 0.5 || value == 0.75 || value == 1
	switch kind {
	case KindThumbs:
		if value != 0 && value != 1 {
			return "", fmt.Errorf("%w: thumbs feedback is 1 (up) or 0 (down), got %v", ErrInvalid, value)
		}
	case KindFaces:
		if !faces {
			return "", fmt.Errorf("%w: faces feedback is 1, 0.75, 0.5, 0.25 or 0, got %v", ErrInvalid, value)
		}
	case "":
		if !faces || math.IsNaN(value) {
			return "", fmt.Errorf("%w: feedback is 1 or 0 (thumbs) or 1, 0.75, 0.5, 0.25, 0 (faces), got %v", ErrInvalid, value)
		}
		if value != 0 && value != 1 {
			kind = KindFaces
		}
	default:
		return "", fmt.Errorf("%w: feedback kind %q: want %s or %s", ErrInvalid, kind, KindThumbs, KindFaces)
	}
	return kind, nil
}

// checkUser validates a user name: not empty, at most 256 bytes of UTF-8,
// no control characters (NUL separates key parts).
func checkUser(user string) error {
	if user == "" {
		return fmt.Errorf("%w: a user is required", ErrInvalid)
	}
	if len(user) > 256 || !utf8.ValidString(user) || strings.IndexFunc(user, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: user names are at most 256 bytes of UTF-8 without control characters", ErrInvalid)
	}
	return nil
}

// checkID validates a record id: 1 to 128 letters, digits, '-' or '_'.
func checkID(what, id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("%w: %s id must be 1 to 128 characters, got %d", ErrInvalid, what, len(id))
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("%w: %s id %q may hold only letters, digits, - and _", ErrInvalid, what, id)
		}
	}
	return nil
}

// MaxTitleRunes bounds a conversation title.
const MaxTitleRunes = 200

// cleanTitle makes a one-line title of at most MaxTitleRunes.
func cleanTitle(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if utf8.RuneCountInString(s) > MaxTitleRunes {
		s = string([]rune(s)[:MaxTitleRunes-1]) + "…"
	}
	return s
}

// put stores v as JSON under k, refusing records over MaxRecordBytes.
func put(b *bolt.Bucket, k []byte, what string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cannot encode %s: %w", what, err)
	}
	if len(raw) > MaxRecordBytes {
		return fmt.Errorf("%w: %s is %d bytes, more than the %d a record may hold", ErrInvalid, what, len(raw), MaxRecordBytes)
	}
	return b.Put(k, raw)
}

func get(b *bolt.Bucket, k []byte, what string, v any) (bool, error) {
	raw := b.Get(k)
	if raw == nil {
		return false, nil
	}
	return true, jsonUnmarshal(raw, v, what)
}

func jsonUnmarshal(raw []byte, v any, what string) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s is damaged: %w", what, err)
	}
	return nil
}

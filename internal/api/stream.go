package api

// Event is one Server-Sent Event of a stream; EventName is its `event:`
// line and the value itself, as JSON, its `data:` line.
//
// A streamed answer sends, in order: one [Meta], one [SourcesEvent], then
// [Delta]s with [Citation]s as they are confirmed and [Notice]s, and ends
// with the full [Answer] (`done`) or an [ErrorBody] (`error`). An ingest
// job streams [IngestProgress] and [Problem] events and ends with the
// [IngestJob] (`done`).
type Event interface {
	EventName() string
}

// Meta opens a streamed answer: who answers, and the ids to refer to it.
type Meta struct {
	ID                string `json:"id"`
	TraceID           string `json:"trace_id,omitempty"`
	ConversationID    string `json:"conversation_id,omitempty"`
	Collection        string `json:"collection,omitempty"`
	Question          string `json:"question"`
	RewrittenQuestion string `json:"rewritten_question,omitempty"`
	LLM               string `json:"llm"`
	Model             string `json:"model,omitempty"`
	Extractive        bool   `json:"extractive"`
}

// SourcesEvent carries the retrieved sources, before any answer text.
type SourcesEvent struct {
	Sources []Source `json:"sources"`
}

// Delta is the next piece of answer text.
type Delta struct {
	Text string `json:"text"`
}

// EventName implements [Event].
func (Meta) EventName() string { return "meta" }

// EventName implements [Event].
func (SourcesEvent) EventName() string { return "sources" }

// EventName implements [Event].
func (Delta) EventName() string { return "delta" }

// EventName implements [Event].
func (Citation) EventName() string { return "citation" }

// EventName implements [Event].
func (Notice) EventName() string { return "notice" }

// EventName implements [Event]: the finished answer ends the stream.
func (Answer) EventName() string { return "done" }

// EventName implements [Event].
func (IngestProgress) EventName() string { return "progress" }

// EventName implements [Event].
func (Problem) EventName() string { return "problem" }

// EventName implements [Event]: the finished job ends the stream.
func (IngestJob) EventName() string { return "done" }

package api

import "time"

// ConversationSummary is a conversation in a list. Conversations belong
// to the user who started them; no user sees another's.
type ConversationSummary struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Collection is the collection of the conversation's last turn.
	Collection string    `json:"collection,omitempty"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
	TurnCount  int       `json:"turn_count"`
}

// Conversation is one conversation with its turns, oldest first: GET
// /api/v1/conversations/{id}.
type Conversation struct {
	ConversationSummary
	Turns []Answer `json:"turns"`
}

// ConversationList answers GET /api/v1/conversations, most recently
// updated first. NextBefore, when set, is the `before` value that fetches
// the next page.
type ConversationList struct {
	Conversations []ConversationSummary `json:"conversations"`
	NextBefore    string                `json:"next_before,omitempty"`
}

// ConversationUpdate is the body of PATCH /api/v1/conversations/{id}.
type ConversationUpdate struct {
	Title *string `json:"title,omitempty"`
}

package server

import (
	"context"

	"github.com/kura-rag/kura/internal/api"
)

// Backend is everything the server serves; the application layer
// implements it. Methods take and return [api] types. User is the caller's
// name from its API key ("default" for the single --api-key, or when the
// server runs without keys); conversations, feedback, answer records and
// ingest jobs belong to a user, and a method asked for another user's item
// answers as if it did not exist (not_found).
//
// Errors should be [*api.Error] with the right code; the server maps a
// few well-known sentinel errors itself (see errorFor) and turns anything
// else into a 500 whose detail goes to the log, not to the client.
// Cancelling ctx (the client went away, the server is shutting down) must
// stop the work promptly.
type Backend interface {
	Searcher
	Answerer
	Collections
	Conversations
	Ingester
	// Ready reports whether requests can be served: the store is open
	// and the default collection readable. Its error is shown by /readyz.
	Ready(ctx context.Context) error
	// Info describes the server's defaults for front ends.
	Info(ctx context.Context, user string) (api.ServerInfo, error)
}

// Searcher runs searches.
type Searcher interface {
	// Search answers one query or a batch. For one query the response's
	// Hits is non-nil (empty when nothing matched).
	Search(ctx context.Context, user string, req api.SearchRequest) (api.SearchResponse, error)
}

// Answerer answers questions and keeps what they leave behind.
type Answerer interface {
	// Ask answers req. It calls emit, from one goroutine at a time, with
	// the events of a streamed answer in order — an [api.Meta], an
	// [api.SourcesEvent], then [api.Delta], [api.Citation] and
	// [api.Notice] values — and returns the finished [api.Answer]
	// (which the server sends as `done`). An error from emit (the client
	// went away) must stop the answer and be returned. An error returned
	// before the first emit becomes an HTTP error status; after it, an
	// `error` event. The answer is recorded (traces) and, unless
	// req.History is given, added to req.ConversationID's conversation or
	// to a new one.
	Ask(ctx context.Context, user string, req api.AskRequest, emit func(api.Event) error) (api.Answer, error)
	// Feedback stores a rating of one of user's answers, replacing an
	// earlier one; not_found for an answer that is not user's.
	Feedback(ctx context.Context, user string, req api.FeedbackRequest) (api.Feedback, error)
	// Traces lists user's recent answers, newest first, at most limit.
	Traces(ctx context.Context, user string, limit int) (api.TraceList, error)
	// Trace returns one of user's answers with its feedback.
	Trace(ctx context.Context, user, answerID string) (api.Answer, error)
}

// Conversations keeps each user's conversations.
type Conversations interface {
	// ListConversations returns user's conversations, most recently
	// updated first, at most limit, updated before the cursor `before`
	// (a value of NextBefore; empty for the first page).
	ListConversations(ctx context.Context, user string, limit int, before string) (api.ConversationList, error)
	GetConversation(ctx context.Context, user, id string) (api.Conversation, error)
	RenameConversation(ctx context.Context, user, id, title string) (api.ConversationSummary, error)
	DeleteConversation(ctx context.Context, user, id string) error
}

// Collections manages collections and their documents.
type Collections interface {
	ListCollections(ctx context.Context) (api.CollectionList, error)
	DescribeCollection(ctx context.Context, name string) (api.CollectionInfo, error)
	// CreateCollection creates an empty collection; conflict if it exists.
	CreateCollection(ctx context.Context, req api.CreateCollectionRequest) (api.CollectionInfo, error)
	DropCollection(ctx context.Context, name string) error
	ListSources(ctx context.Context, collection string) (api.SourceList, error)
	// RemoveSource deletes every chunk of source; not_found if it has none.
	RemoveSource(ctx context.Context, collection, source string) (api.Removed, error)
}

// Upload is an uploaded file, spooled to disk by the server.
type Upload struct {
	// Name is the file's base name as the client sent it, cleaned; the
	// backend stores its chunks under the source "upload/<Name>".
	Name string
	// Path is the spooled copy. The backend owns it from the call on and
	// removes it when done with it.
	Path string
	Size int64
}

// Ingester ingests uploads as background jobs.
type Ingester interface {
	// Ingest starts a job for files and returns at once with its state.
	// The job outlives the request (it does not use ctx after
	// returning); done, if not nil, is called once when it ends.
	Ingest(ctx context.Context, user string, opts api.IngestOptions, files []Upload, done func(api.IngestJob)) (api.IngestJob, error)
	// IngestJob returns the state of one of user's jobs.
	IngestJob(ctx context.Context, user, id string) (api.IngestJob, error)
	// WatchIngest calls emit with the job's [api.IngestProgress] and
	// [api.Problem] events until it ends, then returns its final state.
	// A job that has already ended returns at once.
	WatchIngest(ctx context.Context, user, id string, emit func(api.Event) error) (api.IngestJob, error)
}

package server

import (
	"net/http"

	"github.com/kura-rag/kura/internal/api"
)

// route is one endpoint: what serves it, which middleware applies, and
// its documentation (the OpenAPI document is built from this table).
type route struct {
	method  string
	path    string
	handler http.HandlerFunc
	// public routes need no API key; metrics needs one unless
	// Config.PublicMetrics.
	public, metrics bool
	// ask routes count against MaxConcurrentAsks; upload routes get the
	// upload size limit and time.
	ask, upload bool
	doc         op
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// op documents a route.
type op struct {
	summary     string
	description string
	// request and response are values of the JSON body types (nil: none).
	request  any
	response any
	status   int
	// query are the query parameters; path parameters come from path.
	query []param
	// stream is the SSE alternative of the response (an event list for
	// the documentation), when the route can stream.
	stream []streamEvent
	// content is the response media type when it is not JSON.
	content string
	// form documents a multipart request.
	form []param
}

type param struct {
	name, typ, description string
	required               bool
}

type streamEvent struct {
	name    string
	payload any
}

var answerEvents = []streamEvent{
	{"meta", api.Meta{}}, {"sources", api.SourcesEvent{}}, {"delta", api.Delta{}}, {"citation", api.Citation{}},
	{"notice", api.Notice{}}, {"done", api.Answer{}}, {"error", api.ErrorBody{}},
}

// routeTable lists every endpoint. Path parameters use Go 1.22 patterns.
func (s *Server) routeTable() []route {
	return []route{
		// Operations.
		{method: "GET", path: "/healthz", handler: s.healthz, public: true,
			doc: op{summary: "Liveness: the process is up", response: api.Health{}}},
		{method: "GET", path: "/readyz", handler: s.readyz, public: true,
			doc: op{summary: "Readiness: the store is open and the default collection readable (503 otherwise)", response: api.Health{}}},
		{method: "GET", path: "/metrics", handler: s.serveMetrics, metrics: true,
			doc: op{summary: "Prometheus metrics", content: "text/plain"}},
		{method: "GET", path: "/api/v1/openapi.json", handler: s.openAPI, public: true,
			doc: op{summary: "This API as an OpenAPI 3.1 document", content: "application/json"}},
		{method: "GET", path: "/api/v1/info", handler: s.info,
			doc: op{summary: "The server's defaults, choices and limits, for front ends", response: api.ServerInfo{}}},

		// Collections.
		{method: "GET", path: "/api/v1/collections", handler: s.listCollections,
			doc: op{summary: "List collections", response: api.CollectionList{}}},
		{method: "POST", path: "/api/v1/collections", handler: s.createCollection,
			doc: op{summary: "Create an empty collection (409 if it exists)", request: api.CreateCollectionRequest{}, response: api.CollectionInfo{}, status: http.StatusCreated}},
		{method: "GET", path: "/api/v1/collections/{name}", handler: s.describeCollection,
			doc: op{summary: "Describe a collection (as kura collection describe --json)", response: api.CollectionInfo{}}},
		{method: "DELETE", path: "/api/v1/collections/{name}", handler: s.dropCollection,
			doc: op{summary: "Drop a collection and all its chunks", status: http.StatusNoContent}},
		{method: "GET", path: "/api/v1/collections/{name}/sources", handler: s.listSources,
			doc: op{summary: "List the sources (documents) of a collection", response: api.SourceList{}}},
		{method: "DELETE", path: "/api/v1/collections/{name}/documents", handler: s.removeSource,
			doc: op{summary: "Delete every chunk of one source (404 if it has none)", response: api.Removed{},
				query: []param{{"source", "string", "the source to delete, as listed by /sources", true}}}},

		// Search and answers.
		{method: "POST", path: "/api/v1/search", handler: s.search,
			doc: op{summary: "Search a collection: one query, or a batch of queries", request: api.SearchRequest{}, response: api.SearchResponse{},
				description: "Hits have the shape of `kura search --json`: {\"id\", \"score\", \"entity\"}."}},
		{method: "POST", path: "/api/v1/ask", handler: s.ask, ask: true,
			doc: op{summary: "Answer a question with cited sources", request: api.AskRequest{}, response: api.Answer{}, stream: answerEvents,
				description: "Non-streamed: one Answer (the `kura ask --json` shape). With \"stream\": true, Server-Sent Events: " +
					"meta, sources, then delta/citation/notice events, and done with the full Answer (or error)."}},
		{method: "POST", path: "/api/v1/feedback", handler: s.feedback,
			doc: op{summary: "Rate one of your answers (thumbs 1/0 or faces 1/0.75/0.5/0.25/0); rating again replaces", request: api.FeedbackRequest{}, response: api.Feedback{}, status: http.StatusCreated}},

		// Conversations.
		{method: "GET", path: "/api/v1/conversations", handler: s.listConversations,
			doc: op{summary: "List your conversations, most recently updated first", response: api.ConversationList{},
				query: []param{{"limit", "integer", "at most this many (default 50, at most 500)", false}, {"before", "string", "next_before of the previous page", false}}}},
		{method: "GET", path: "/api/v1/conversations/{id}", handler: s.getConversation,
			doc: op{summary: "One of your conversations with its turns", response: api.Conversation{}}},
		{method: "PATCH", path: "/api/v1/conversations/{id}", handler: s.renameConversation,
			doc: op{summary: "Rename a conversation", request: api.ConversationUpdate{}, response: api.ConversationSummary{}}},
		{method: "DELETE", path: "/api/v1/conversations/{id}", handler: s.deleteConversation,
			doc: op{summary: "Delete a conversation", status: http.StatusNoContent}},

		// Ingest.
		{method: "POST", path: "/api/v1/ingest", handler: s.ingest, upload: true,
			doc: op{summary: "Upload files to ingest as a background job", response: api.IngestJob{}, status: http.StatusAccepted,
				description: "multipart/form-data. Each file is stored under the source \"upload/<file name>\"; re-uploading an unchanged file adds nothing.",
				form: []param{
					{"files", "binary", "the files (repeat the field); any format kura ingest reads", true},
					{"collection", "string", "collection to ingest into (default: the server's)", false},
					{"set", "string", "key=value metadata on every chunk (repeat the field)", false},
					{"splitter", "string", "ja, recursive or character", false},
					{"chunk_size", "integer", "chunk length in characters", false},
					{"chunk_overlap", "integer", "characters shared by neighbouring chunks", false},
					{"text_field", "string", "JSONL field holding the text", false},
				}}},
		{method: "GET", path: "/api/v1/ingest/{job_id}", handler: s.ingestJob,
			doc: op{summary: "The state of one of your ingest jobs", response: api.IngestJob{}}},
		{method: "GET", path: "/api/v1/ingest/{job_id}/events", handler: s.ingestEvents,
			doc: op{summary: "An ingest job's progress as Server-Sent Events", content: "text/event-stream",
				stream: []streamEvent{{"progress", api.IngestProgress{}}, {"problem", api.Problem{}}, {"done", api.IngestJob{}}, {"error", api.ErrorBody{}}}}},

		// Traces.
		{method: "GET", path: "/api/v1/traces", handler: s.listTraces,
			doc: op{summary: "Your recent answers with latency, tokens and feedback", response: api.TraceList{},
				query: []param{{"limit", "integer", "at most this many (default 50, at most 1000)", false}}}},
		{method: "GET", path: "/api/v1/traces/{answer_id}", handler: s.getTrace,
			doc: op{summary: "One of your answers in full, with its feedback", response: api.Answer{}}},

		// OpenAI-compatible.
		{method: "GET", path: "/v1/models", handler: s.models,
			doc: op{summary: "OpenAI-compatible: one model per collection, kura/<collection>", response: api.ModelList{}}},
		{method: "POST", path: "/v1/chat/completions", handler: s.chatCompletions, ask: true,
			doc: op{summary: "OpenAI-compatible chat completion answered from a collection", request: api.ChatCompletionRequest{}, response: api.ChatCompletion{},
				stream:      []streamEvent{{"", api.ChatCompletionChunk{}}},
				description: "model is kura/<collection> (or kura). The last user message is the question; earlier turns drive follow-up rewriting. Sources and citations come in the extra \"kura\" field. Streamed: data-only chunks ending with data: [DONE]."}},

		// Web UI.
		{method: "GET", path: "/{$}", handler: s.uiIndex, public: true,
			doc: op{summary: "The web chat", content: "text/html"}},
		{method: "GET", path: "/traces", handler: s.uiTraces, public: true,
			doc: op{summary: "The local trace view", content: "text/html"}},
		{method: "GET", path: "/ui/{file...}", handler: s.uiAsset, public: true,
			doc: op{summary: "The web UI's scripts, styles and images", content: "application/octet-stream"}},
	}
}

package api

// Health answers GET /healthz and GET /readyz: {"status": "ok"}, or
// {"status": "unavailable", "message": "..."} with 503 when not ready.
type Health struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// ServerInfo answers GET /api/v1/info: what a front end needs to fill in
// its settings (defaults, choices, limits).
type ServerInfo struct {
	Version           string `json:"version"`
	DefaultCollection string `json:"default_collection"`
	// AuthRequired is true when requests need an API key.
	AuthRequired bool `json:"auth_required"`
	// User is the caller's name.
	User string `json:"user"`
	// LLMs are the answerers this server can use; LLM is the default.
	LLMs []string `json:"llms"`
	LLM  string   `json:"llm"`
	// Defaults are the values a request gets for the fields it leaves out.
	Defaults AskRequest `json:"defaults"`
	Limits   Limits     `json:"limits"`
}

// Limits are the server's request limits.
type Limits struct {
	MaxBodyBytes      int64 `json:"max_body_bytes"`
	MaxUploadBytes    int64 `json:"max_upload_bytes"`
	MaxQuestionChars  int   `json:"max_question_chars"`
	MaxConcurrentAsks int   `json:"max_concurrent_asks"`
}

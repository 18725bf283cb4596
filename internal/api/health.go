package api

// Health answers GET /healthz and GET /readyz: {"status": "ok"}, or
// {"status": "unavailable", "message": "..."} with 503 when not ready.
type Health struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

package api

import "time"

// IngestOptions are the form fields of POST /api/v1/ingest, beside the
// uploaded files (each stored under the source name "upload/<file name>").
// Re-uploading an unchanged file adds nothing.
type IngestOptions struct {
	Collection string `json:"collection,omitempty"`
	// Set is metadata added to every chunk, "key=value" each (repeated
	// form field "set").
	Set []string `json:"set,omitempty"`
	// Splitter, ChunkSize and ChunkOverlap choose the splitter; zero
	// values are the server's defaults.
	Splitter     string `json:"splitter,omitempty"`
	ChunkSize    int    `json:"chunk_size,omitempty"`
	ChunkOverlap int    `json:"chunk_overlap,omitempty"`
	// TextField is the JSONL field holding the document text.
	TextField string `json:"text_field,omitempty"`
}

// JobState is the state of an ingest job.
type JobState string

// Job states.
const (
	JobRunning  JobState = "running"
	JobDone     JobState = "done"     // finished; Problems may list skipped files
	JobFailed   JobState = "failed"   // stopped by an error; chunks stored so far are kept
	JobCanceled JobState = "canceled" // stopped by shutdown or a client
)

// IngestJob is an upload being ingested: the response of POST
// /api/v1/ingest (202) and of GET /api/v1/ingest/{job_id}.
type IngestJob struct {
	JobID      string         `json:"job_id"`
	Collection string         `json:"collection"`
	State      JobState       `json:"state"`
	Files      []string       `json:"files"`
	Progress   IngestProgress `json:"progress"`
	// Summary is the `kura ingest --json` summary, once the job has ended.
	Summary *IngestSummary `json:"summary,omitempty"`
	// Problems are the files, lines and chunks skipped, as the command
	// line reports them.
	Problems []Problem `json:"problems"`
	// Error is why a failed job stopped.
	Error    *Error    `json:"error,omitempty"`
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished,omitzero"`
}

// IngestProgress counts an ingest job's work so far.
type IngestProgress struct {
	FilesTotal int `json:"files_total"`
	FilesDone  int `json:"files_done"`
	Chunks     int `json:"chunks"`
	Embedded   int `json:"embedded"`
	Stored     int `json:"stored"`
}

// Problem is one file, line or chunk skipped, with what to do about it.
type Problem struct {
	Source  string `json:"source"`
	Message string `json:"message"`
}

// IngestSummary is the summary `kura ingest --json` prints.
type IngestSummary struct {
	Collection string  `json:"collection"`
	Files      int     `json:"files"`
	Skipped    int     `json:"skipped"`
	Problems   int     `json:"problems"`
	Warnings   int     `json:"warnings"`
	Documents  int     `json:"documents"`
	Chunks     int     `json:"chunks"`
	Duplicates int     `json:"duplicates"`
	Added      int     `json:"added"`
	Updated    int     `json:"updated"`
	Unchanged  int     `json:"unchanged"`
	Removed    int     `json:"removed"`
	Embedded   int     `json:"embedded"`
	Cached     int     `json:"cached"`
	Bytes      int64   `json:"bytes"`
	Seconds    float64 `json:"seconds"`
	Created    bool    `json:"created"`
	// Unsupported lists files passed over because kura does not read
	// their type.
	Unsupported []string `json:"unsupported"`
}

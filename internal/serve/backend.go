package serve

import (
	"context"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/server"
)

// Backend is an [app.App] as the HTTP server's backend. The App
// implements every method of server.Backend itself except the upload,
// which it names IngestUploads (its Ingest ingests paths, for the
// command line).
type Backend struct{ *app.App }

var _ server.Backend = Backend{}

// Ingest starts an ingest job for uploaded files.
func (b Backend) Ingest(ctx context.Context, user string, opts api.IngestOptions, files []server.Upload, done func(api.IngestJob)) (api.IngestJob, error) {
	uploads := make([]app.UploadedFile, len(files))
	for i, f := range files {
		uploads[i] = app.UploadedFile(f)
	}
	return b.IngestUploads(ctx, user, opts, uploads, done)
}

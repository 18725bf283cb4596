package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"unicode"

	"github.com/kura-rag/kura/internal/api"
)

// maxUploadFiles bounds the files of one upload.
const maxUploadFiles = 1000

// readUpload reads a multipart upload: its option fields, and its files
// spooled to SpoolDir as they arrive (nothing is held in memory). The
// total size is capped at MaxUploadBytes; past it the request gets 413
// and the spooled files are removed.
func (s *Server) readUpload(r *http.Request) (opts api.IngestOptions, files []Upload, err error) {
	mt, _, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil || mt != "multipart/form-data" {
		return opts, nil, api.Errorf(api.CodeUnsupportedMediaType, "send the files as multipart/form-data, one \"files\" field per file")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return opts, nil, api.Errorf(api.CodeInvalidRequest, "the upload cannot be read: %v", err)
	}
	defer func() {
		if err != nil {
			for _, f := range files {
				removeQuietly(f.Path)
			}
			files = nil
		}
	}()
	var total int64
	names := map[string]int{}
	for {
		part, perr := mr.NextPart()
		if errors.Is(perr, io.EOF) {
			break
		}
		if perr != nil {
			return opts, files, uploadError(perr)
		}
		field := part.FormName()
		if part.FileName() == "" {
			if err := readField(part, field, &opts); err != nil {
				return opts, files, err
			}
			continue
		}
		if field != "files" && field != "file" {
			return opts, files, api.Invalid(field, "files go in the field \"files\" (got %q)", field)
		}
		if len(files) == maxUploadFiles {
			return opts, files, api.Errorf(api.CodeTooLarge, "more than %d files in one upload; send them in several", maxUploadFiles)
		}
		name, err := cleanFileName(part.FileName())
		if err != nil {
			return opts, files, err
		}
		if n := names[name]; n > 0 {
			return opts, files, api.Invalid("files", "two files are named %q; their chunks would share one source", name)
		}
		names[name]++
		tmp, err := os.CreateTemp(s.cfg.SpoolDir, "kura-upload-*")
		if err != nil {
			return opts, files, fmt.Errorf("spooling upload: %w", err)
		}
		n, cerr := io.Copy(tmp, io.LimitReader(part, s.cfg.MaxUploadBytes-total+1))
		closeErr := tmp.Close()
		files = append(files, Upload{Name: name, Path: tmp.Name(), Size: n})
		total += n
		if cerr != nil {
			return opts, files, uploadError(cerr)
		}
		if closeErr != nil {
			return opts, files, fmt.Errorf("spooling upload: %w", closeErr)
		}
		if total > s.cfg.MaxUploadBytes {
			return opts, files, api.Errorf(api.CodeTooLarge, "the upload is over this server's limit of %s (at %s); send fewer or smaller files",
				humanBytes(s.cfg.MaxUploadBytes), name)
		}
	}
	if len(files) == 0 {
		return opts, nil, api.Invalid("files", "no files in the upload; send each in a \"files\" field")
	}
	s.metrics.uploaded.Add(float64(total))
	return opts, files, opts.Validate()
}

func uploadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return api.Errorf(api.CodeInvalidRequest, "the upload was cut off or is malformed: %v", err)
}

// readField reads one option field of an upload.
func readField(part io.Reader, field string, o *api.IngestOptions) error {
	b, err := io.ReadAll(io.LimitReader(part, 64<<10+1))
	if err != nil {
		return uploadError(err)
	}
	if len(b) > 64<<10 {
		return api.Invalid(field, "field %q is over 64 KiB", field)
	}
	v := strings.TrimSpace(string(b))
	num := func(dst *int) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return api.Invalid(field, "%s must be an integer, not %q", field, v)
		}
		*dst = n
		return nil
	}
	switch field {
	case "collection":
		o.Collection = v
	case "set":
		o.Set = append(o.Set, v)
	case "splitter":
		o.Splitter = v
	case "chunk_size":
		return num(&o.ChunkSize)
	case "chunk_overlap":
		return num(&o.ChunkOverlap)
	case "text_field":
		o.TextField = v
	default:
		return api.Invalid(field, "unknown field %q (use files, collection, set, splitter, chunk_size, chunk_overlap, text_field)", field)
	}
	return nil
}

// cleanFileName keeps the base name of what the client sent: no
// directories (a client must not choose where anything lands), no
// control characters, at most 255 bytes.
func cleanFileName(name string) (string, error) {
	name = strings.ReplaceAll(name, `\`, "/") // Windows clients send full paths
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." || name == "/" {
		return "", api.Invalid("files", "a file has no usable name")
	}
	if len(name) > 255 {
		return "", api.Invalid("files", "the file name %q… is over 255 bytes", name[:64])
	}
	return name, nil
}

func removeQuietly(p string) { os.Remove(p) }

package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kura-rag/kura/internal/api"
)

// Client calls one kura server.
type Client struct {
	base *url.URL
	key  string
	http *http.Client
}

// New returns a client of the server at baseURL (e.g.
// http://127.0.0.1:8080); apiKey, if not empty, is sent as a bearer token.
func New(baseURL, apiKey string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: want http://HOST:PORT or https://HOST", baseURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("server URL %q: put no credentials in the URL; the API key comes from KURA_API_KEY", u.Redacted())
	}
	// No overall timeout: uploads and event streams take as long as they
	// take; contexts bound them.
	return &Client{base: u, key: apiKey, http: &http.Client{}}, nil
}

// URL is the server's base URL.
func (c *Client) URL() string { return c.base.String() }

func (c *Client) endpoint(path string) string { return c.base.String() + path }

func (c *Client) request(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path), body)
	if err != nil {
		return nil, err
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	return req, nil
}

// do sends req and decodes a JSON answer into out (when not nil), or the
// server's error.
func (c *Client) do(req *http.Request, out any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("kura server %s: %w", c.base.Host, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return readError(resp)
	}
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("kura server %s: unreadable answer to %s %s: %w", c.base.Host, req.Method, req.URL.Path, err)
	}
	return nil
}

// readError turns an error response into an *api.Error.
func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body api.ErrorBody
	if json.Unmarshal(b, &body) == nil && body.Error != nil && body.Error.Code != "" {
		return body.Error
	}
	msg := strings.TrimSpace(string(b))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return &api.Error{Code: codeFor(resp.StatusCode), Message: fmt.Sprintf("the server answered %s: %s", resp.Status, msg)}
}

func codeFor(status int) api.Code {
	for _, c := range api.Codes {
		if c.Status() == status {
			return c
		}
	}
	return api.CodeInternal
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Healthy reports whether the server answers GET /healthz within timeout.
func (c *Client) Healthy(ctx context.Context, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := c.request(ctx, http.MethodGet, "/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	return resp.StatusCode == http.StatusOK
}

// DropCollection deletes a collection on the server.
func (c *Client) DropCollection(ctx context.Context, name string) error {
	req, err := c.request(ctx, http.MethodDelete, "/api/v1/collections/"+url.PathEscape(name), nil)
	if err != nil {
		return err
	}
	return c.do(req, nil)
}

// Ingest uploads files (local paths) as one ingest job and returns its
// state at once. The files are streamed from disk, not held in memory.
func (c *Client) Ingest(ctx context.Context, opts api.IngestOptions, files []string) (api.IngestJob, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		pw.CloseWithError(writeUpload(mw, opts, files))
	}()
	req, err := c.request(ctx, http.MethodPost, "/api/v1/ingest", pr)
	if err != nil {
		pr.Close()
		return api.IngestJob{}, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var job api.IngestJob
	err = c.do(req, &job)
	pr.Close()
	return job, err
}

func writeUpload(mw *multipart.Writer, opts api.IngestOptions, files []string) error {
	field := func(name, value string) error {
		if value == "" {
			return nil
		}
		return mw.WriteField(name, value)
	}
	if err := field("collection", opts.Collection); err != nil {
		return err
	}
	for _, s := range opts.Set {
		if err := field("set", s); err != nil {
			return err
		}
	}
	if err := field("splitter", opts.Splitter); err != nil {
		return err
	}
	if opts.ChunkSize > 0 {
		if err := field("chunk_size", strconv.Itoa(opts.ChunkSize)); err != nil {
			return err
		}
	}
	if opts.ChunkOverlap > 0 {
		if err := field("chunk_overlap", strconv.Itoa(opts.ChunkOverlap)); err != nil {
			return err
		}
	}
	if err := field("text_field", opts.TextField); err != nil {
		return err
	}
	for _, path := range files {
		if err := copyFile(mw, path); err != nil {
			return err
		}
	}
	return mw.Close()
}

func copyFile(mw *multipart.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := mw.CreateFormFile("files", filepath.Base(path))
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}

// WatchIngest follows a job's events (GET /api/v1/ingest/{id}/events):
// emit gets each [api.IngestProgress] and [api.Problem]; the final
// [api.IngestJob] is returned when the job ends.
func (c *Client) WatchIngest(ctx context.Context, jobID string, emit func(api.Event)) (api.IngestJob, error) {
	req, err := c.request(ctx, http.MethodGet, "/api/v1/ingest/"+url.PathEscape(jobID)+"/events", nil)
	if err != nil {
		return api.IngestJob{}, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return api.IngestJob{}, fmt.Errorf("kura server %s: %w", c.base.Host, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return api.IngestJob{}, readError(resp)
	}
	var final *api.IngestJob
	err = readEvents(resp.Body, func(name string, data []byte) error {
		switch name {
		case "progress":
			var p api.IngestProgress
			if err := json.Unmarshal(data, &p); err != nil {
				return err
			}
			if emit != nil {
				emit(p)
			}
		case "problem":
			var p api.Problem
			if err := json.Unmarshal(data, &p); err != nil {
				return err
			}
			if emit != nil {
				emit(p)
			}
		case "done":
			var job api.IngestJob
			if err := json.Unmarshal(data, &job); err != nil {
				return err
			}
			final = &job
			return errStop
		case "error":
			var body api.ErrorBody
			if err := json.Unmarshal(data, &body); err != nil || body.Error == nil {
				return fmt.Errorf("the server ended the stream with an unreadable error: %s", data)
			}
			return body.Error
		}
		return nil
	})
	if final != nil {
		return *final, nil
	}
	if err == nil {
		err = fmt.Errorf("kura server %s ended the job's event stream before the job ended", c.base.Host)
	}
	return api.IngestJob{}, err
}

var errStop = errors.New("stop")

// readEvents reads a Server-Sent Events stream and calls f with each
// event's name and data until the stream ends or f returns an error
// (errStop ends it quietly).
func readEvents(r io.Reader, f func(name string, data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	name := ""
	var data bytes.Buffer
	dispatch := func() error {
		defer func() { name = ""; data.Reset() }()
		if data.Len() == 0 && name == "" {
			return nil
		}
		if name == "" {
			name = "message"
		}
		return f(name, bytes.TrimSuffix(data.Bytes(), []byte("\n")))
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if err := dispatch(); err != nil {
				if errors.Is(err, errStop) {
					return nil
				}
				return err
			}
		case strings.HasPrefix(line, ":"):
			// a comment (keep-alive)
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				name = value
			case "data":
				data.WriteString(value)
				data.WriteByte('\n')
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if err := dispatch(); err != nil && !errors.Is(err, errStop) {
		return err
	}
	return nil
}

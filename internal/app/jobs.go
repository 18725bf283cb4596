package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/document"
	"github.com/kura-rag/kura/internal/ingest"
	"github.com/kura-rag/kura/internal/split"
)

// UploadedFile is a file a client uploaded, spooled to disk by the
// server. Its chunks are stored under the source "upload/<Name>", so
// uploading the same file again replaces (or, unchanged, keeps) them.
type UploadedFile struct {
	Name string // the file's base name as the client sent it, cleaned
	Path string // the spooled copy; the job removes it when done
	Size int64
}

// UploadSource is the source an uploaded file's chunks are stored under.
func UploadSource(name string) string { return "upload/" + path.Base(name) }

// jobs are the App's background ingest jobs. Jobs of one collection run
// one after another: two ingests into one collection would only wait for
// each other's writes.
type jobs struct {
	mu    sync.Mutex
	byID  map[string]*job
	locks map[string]*sync.Mutex // per collection
	wg    sync.WaitGroup
	// finished jobs are kept for this long after they end, so clients
	// can read the outcome.
	keep time.Duration
	// stopping refuses new jobs once StopJobs began.
	stopping bool
}

func newJobs() *jobs {
	return &jobs{byID: map[string]*job{}, locks: map[string]*sync.Mutex{}, keep: time.Hour}
}

func (j *jobs) wait() { j.wg.Wait() }

// cancelAll cancels every running job.
func (j *jobs) cancelAll() {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, jb := range j.byID {
		jb.cancel()
	}
}

func (j *jobs) collectionLock(name string) *sync.Mutex {
	j.mu.Lock()
	defer j.mu.Unlock()
	l := j.locks[name]
	if l == nil {
		l = &sync.Mutex{}
		j.locks[name] = l
	}
	return l
}

// job is one ingest job; its state changes under mu, and every change
// wakes the watchers.
type job struct {
	user string

	mu       sync.Mutex
	state    api.IngestJob
	progress *ingest.Progress
	changed  chan struct{} // closed and replaced on every change
	events   []api.Event   // problems, in order, for watchers
	cancel   context.CancelFunc
}

func (jb *job) snapshot() api.IngestJob {
	jb.mu.Lock()
	defer jb.mu.Unlock()
	s := jb.state
	if s.State == api.JobRunning && jb.progress != nil {
		s.Progress = progressOf(jb.progress)
	}
	s.Problems = append([]api.Problem{}, s.Problems...)
	return s
}

func progressOf(p *ingest.Progress) api.IngestProgress {
	return api.IngestProgress{
		FilesTotal: int(p.FilesTotal.Load()), FilesDone: int(p.FilesDone.Load()),
		Chunks: int(p.Chunks.Load()), Embedded: int(p.Embedded.Load()), Stored: int(p.Stored.Load()),
	}
}

// change applies f to the job's state and wakes its watchers.
func (jb *job) change(f func(s *api.IngestJob)) {
	jb.mu.Lock()
	f(&jb.state)
	close(jb.changed)
	jb.changed = make(chan struct{})
	jb.mu.Unlock()
}

// IngestUploads starts a background job ingesting files for user and
// returns at once with its state. The job outlives the request; done, if
// not nil, is called once when it ends. Each file is removed when the job
// is done with it.
func (a *App) IngestUploads(ctx context.Context, user string, opts api.IngestOptions, files []UploadedFile, done func(api.IngestJob)) (api.IngestJob, error) {
	remove := func() {
		for _, f := range files {
			os.Remove(f.Path)
		}
	}
	if len(files) == 0 {
		remove()
		return api.IngestJob{}, api.Invalid("files", "no files were uploaded")
	}
	name, err := a.collectionName(opts.Collection)
	if err != nil {
		remove()
		return api.IngestJob{}, err
	}
	set, err := ParseSet(opts.Set)
	if err != nil {
		remove()
		return api.IngestJob{}, err
	}
	splitter := split.DefaultOptions()
	if opts.Splitter != "" {
		splitter.Kind = opts.Splitter
	}
	if opts.ChunkSize > 0 {
		splitter.ChunkSize = opts.ChunkSize
	}
	if opts.ChunkOverlap > 0 {
		splitter.ChunkOverlap = opts.ChunkOverlap
	}
	if _, err := split.New(splitter); err != nil {
		remove()
		return api.IngestJob{}, api.Invalid("splitter", "%v", err)
	}
	var sources []SourceFile
	var names []string
	for _, f := range files {
		if !document.Supported(f.Name) {
			remove()
			return api.IngestJob{}, api.Invalid("files", "%s: kura does not read this type of file (it reads %s)", f.Name, strings.Join(document.Extensions(), " "))
		}
		src := UploadSource(f.Name)
		sources = append(sources, SourceFile{Path: f.Path, Source: src})
		names = append(names, src)
	}

	jctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	jb := &job{user: userOrDefault(user), progress: &ingest.Progress{}, changed: make(chan struct{}), cancel: cancel}
	jb.state = api.IngestJob{JobID: newID("job_"), Collection: name, State: api.JobRunning, Files: names,
		Problems: []api.Problem{}, Created: time.Now().UTC(),
		Progress: api.IngestProgress{FilesTotal: len(files)}}
	a.jobs.mu.Lock()
	if a.jobs.stopping {
		a.jobs.mu.Unlock()
		cancel()
		remove()
		return api.IngestJob{}, api.Errorf(api.CodeUnavailable, "the server is shutting down; upload again once it is back")
	}
	a.jobs.byID[jb.state.JobID] = jb
	// Added under the lock that StopJobs takes first: its wait sees
	// every job it did not refuse.
	a.jobs.wg.Add(1)
	a.jobs.mu.Unlock()

	go func() {
		defer a.jobs.wg.Done()
		defer cancel()
		defer remove()
		lock := a.jobs.collectionLock(name)
		lock.Lock()
		res, err := a.Ingest(jctx, IngestRequest{
			Collection: name, Files: sources, Set: set, Splitter: splitter, TextField: opts.TextField,
			Progress: jb.progress,
			OnProblem: func(perr error) {
				p := problemOf(perr)
				jb.change(func(s *api.IngestJob) { s.Problems = append(s.Problems, p) })
				jb.mu.Lock()
				jb.events = append(jb.events, p)
				jb.mu.Unlock()
			},
		})
		lock.Unlock()
		jb.change(func(s *api.IngestJob) {
			s.Progress = progressOf(jb.progress)
			sum := api.IngestSummary(res.Summary)
			s.Summary = &sum
			s.Finished = time.Now().UTC()
			switch {
			case err == nil:
				s.State = api.JobDone
			case errors.Is(err, context.Canceled):
				s.State = api.JobCanceled
				s.Error = api.Wrap(api.CodeCanceled, "", err)
			default:
				s.State = api.JobFailed
				var ae *api.Error
				if errors.As(err, &ae) {
					s.Error = ae
				} else {
					s.Error = api.Wrap(api.CodeInternal, "", err)
				}
			}
		})
		final := jb.snapshot()
		if done != nil {
			done(final)
		}
		time.AfterFunc(a.jobs.keep, func() {
			a.jobs.mu.Lock()
			delete(a.jobs.byID, final.JobID)
			a.jobs.mu.Unlock()
		})
	}()
	return jb.snapshot(), nil
}

// StopJobs lets the running ingest jobs finish until ctx ends, then
// cancels those still running (they end as canceled, having stored what
// they committed) and waits for them to stop. A server calls it when it
// shuts down; Close would wait for the jobs however long they take.
func (a *App) StopJobs(ctx context.Context) {
	a.jobs.mu.Lock()
	a.jobs.stopping = true
	a.jobs.mu.Unlock()
	done := make(chan struct{})
	go func() { a.jobs.wait(); close(done) }()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	a.jobs.cancelAll()
	<-done
}

// problemOf turns a skipped file, line or chunk into its wire form.
func problemOf(err error) api.Problem {
	var ce *ingest.ChunkError
	var se *document.SkipError
	var re *document.RecordError
	switch {
	case errors.As(err, &ce):
		return api.Problem{Source: ce.Source, Message: err.Error()}
	case errors.As(err, &re):
		return api.Problem{Source: re.Path, Message: err.Error()}
	case errors.As(err, &se):
		return api.Problem{Source: se.Path, Message: err.Error()}
	}
	msg := err.Error()
	src, _, _ := strings.Cut(msg, ": ")
	return api.Problem{Source: src, Message: msg}
}

// IngestJob returns the state of one of user's jobs.
func (a *App) IngestJob(ctx context.Context, user, id string) (api.IngestJob, error) {
	jb, err := a.job(user, id)
	if err != nil {
		return api.IngestJob{}, err
	}
	return jb.snapshot(), nil
}

func (a *App) job(user, id string) (*job, error) {
	a.jobs.mu.Lock()
	jb := a.jobs.byID[id]
	a.jobs.mu.Unlock()
	if jb == nil || jb.user != userOrDefault(user) {
		return nil, &api.Error{Code: api.CodeNotFound, Field: "job_id", Message: fmt.Sprintf("no ingest job %q (finished jobs are kept for an hour)", id)}
	}
	return jb, nil
}

// WatchIngest calls emit with the job's progress and problems until it
// ends, then returns its final state. Progress is sent at most every
// 250 ms; a job that has already ended returns at once.
func (a *App) WatchIngest(ctx context.Context, user, id string, emit func(api.Event) error) (api.IngestJob, error) {
	jb, err := a.job(user, id)
	if err != nil {
		return api.IngestJob{}, err
	}
	sent := 0
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last api.IngestProgress
	for {
		jb.mu.Lock()
		events := jb.events[sent:]
		sent = len(jb.events)
		changed := jb.changed
		jb.mu.Unlock()
		for _, ev := range events {
			if err := emit(ev); err != nil {
				return api.IngestJob{}, err
			}
		}
		s := jb.snapshot()
		if s.Progress != last {
			last = s.Progress
			if err := emit(s.Progress); err != nil {
				return api.IngestJob{}, err
			}
		}
		if s.State != api.JobRunning {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return api.IngestJob{}, ctx.Err()
		case <-changed:
		case <-tick.C:
		}
	}
}

// ParseSet turns key=value pairs into chunk metadata. Values that read as
// JSON numbers or booleans are stored as such, so that filters like
// `year > 2020` work; everything else is a string.
func ParseSet(pairs []string) (map[string]any, error) {
	out := make(map[string]any, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, api.Invalid("set", "%q: want key=value", p)
		}
		if !validFieldName(k) {
			return nil, api.Invalid("set", "%q: field names are letters, digits and _, starting with a letter or _", p)
		}
		switch k {
		case "id", "text", "vector", "source", "chunk_index":
			return nil, api.Invalid("set", "%q: %s is set by kura itself", p, k)
		}
		out[k] = scalar(v)
	}
	return out, nil
}

func scalar(v string) any {
	switch v {
	case "true":
		return true
	case "false":
		return false
	}
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "xXnN") {
		return f
	}
	return v
}

func validFieldName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

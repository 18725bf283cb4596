package servertest

import (
	"cmp"
	"context"
	"os"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/server"
)

// job is an ingest job; watchers wait on its events.
type job struct {
	user string
	mu   sync.Mutex
	st   api.IngestJob
	// events is every event so far; changed is closed and replaced on
	// each new one.
	events  []api.Event
	changed chan struct{}
}

func (j *job) add(ev api.Event, update func(*api.IngestJob)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if update != nil {
		update(&j.st)
	}
	if ev != nil {
		j.events = append(j.events, ev)
	}
	close(j.changed)
	j.changed = make(chan struct{})
}

var readable = map[string]bool{".txt": true, ".md": true, ".markdown": true, ".html": true, ".htm": true, ".jsonl": true}

// Ingest implements server.Backend: text files become documents of
// "upload/<name>"; other formats are problems, as kura ingest reports
// them.
func (f *Fake) Ingest(ctx context.Context, user string, opts api.IngestOptions, files []server.Upload, done func(api.IngestJob)) (api.IngestJob, error) {
	coll := cmp.Or(opts.Collection, f.defaultCollection())
	j := &job{user: user, changed: make(chan struct{}), st: api.IngestJob{
		JobID: newID("job_"), Collection: coll, State: api.JobRunning, Problems: []api.Problem{},
		Progress: api.IngestProgress{FilesTotal: len(files)}, Created: time.Now().UTC(),
	}}
	for _, u := range files {
		j.st.Files = append(j.st.Files, u.Name)
	}
	f.mu.Lock()
	f.jobs[j.st.JobID] = j
	f.mu.Unlock()
	go f.run(j, files, done)
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.st, nil
}

func (f *Fake) run(j *job, files []server.Upload, done func(api.IngestJob)) {
	start := time.Now()
	sum := api.IngestSummary{Collection: j.st.Collection}
	for _, u := range files {
		source := "upload/" + u.Name
		b, err := os.ReadFile(u.Path)
		os.Remove(u.Path)
		var problem string
		switch {
		case err != nil:
			problem = "cannot read the upload: " + err.Error()
		case !readable[strings.ToLower(path.Ext(u.Name))]:
			problem = "unsupported format " + path.Ext(u.Name) + "; kura reads .txt .md .html .jsonl"
		case !utf8.Valid(b):
			problem = "not UTF-8 text"
		}
		if problem != "" {
			sum.Skipped++
			p := api.Problem{Source: source, Message: problem}
			j.add(p, func(s *api.IngestJob) { s.Problems = append(s.Problems, p); s.Progress.FilesDone++ })
			continue
		}
		title := strings.TrimSuffix(u.Name, path.Ext(u.Name))
		f.mu.Lock()
		added, unchanged := f.addLocked(j.st.Collection, source, title, string(b))
		f.saveLocked()
		f.mu.Unlock()
		sum.Files++
		sum.Documents++
		sum.Bytes += int64(len(b))
		if unchanged {
			sum.Unchanged++
		}
		sum.Added += added
		sum.Chunks += added
		j.add(nil, func(s *api.IngestJob) {
			s.Progress.FilesDone++
			s.Progress.Chunks += added
			s.Progress.Stored += added
		})
		j.mu.Lock()
		p := j.st.Progress
		j.mu.Unlock()
		j.add(p, nil)
		if f.IngestDelay > 0 {
			time.Sleep(f.IngestDelay)
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	var final api.IngestJob
	j.add(nil, func(s *api.IngestJob) {
		s.State = api.JobDone
		s.Summary = &sum
		s.Finished = time.Now().UTC()
		final = *s
	})
	if done != nil {
		done(final)
	}
}

func (f *Fake) job(user, id string) (*job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j := f.jobs[id]
	if j == nil || j.user != user {
		return nil, api.Errorf(api.CodeNotFound, "ingest job %q does not exist", id)
	}
	return j, nil
}

// IngestJob implements server.Backend.
func (f *Fake) IngestJob(ctx context.Context, user, id string) (api.IngestJob, error) {
	j, err := f.job(user, id)
	if err != nil {
		return api.IngestJob{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.st, nil
}

// WatchIngest implements server.Backend.
func (f *Fake) WatchIngest(ctx context.Context, user, id string, emit func(api.Event) error) (api.IngestJob, error) {
	j, err := f.job(user, id)
	if err != nil {
		return api.IngestJob{}, err
	}
	sent := 0
	for {
		j.mu.Lock()
		pending := j.events[sent:]
		st, changed := j.st, j.changed
		j.mu.Unlock()
		for _, ev := range pending {
			if err := emit(ev); err != nil {
				return st, err
			}
			sent++
		}
		if st.State != api.JobRunning {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-changed:
		}
	}
}

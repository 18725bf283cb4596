package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kura-rag/kura/internal/api"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.backend.Ready(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, api.Health{Status: "unavailable", Message: s.errorFor(r, err).Message})
		return
	}
	writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{ErrorLog: nil}).ServeHTTP(w, r)
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	inf, err := s.backend.Info(r.Context(), User(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	inf.Version = s.cfg.Version
	inf.AuthRequired = s.cfg.Keys.Len() > 0
	inf.User = User(r.Context())
	inf.Limits = s.cfg.Limits()
	writeJSON(w, http.StatusOK, inf)
}

// reply writes v with status, or err.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}

// pathCollection is the {name} path value, checked.
func pathCollection(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if err := api.ValidateCollectionName(name); err != nil {
		err.Field = "name"
		return "", err
	}
	return name, nil
}

func (s *Server) listCollections(w http.ResponseWriter, r *http.Request) {
	v, err := s.backend.ListCollections(r.Context())
	s.reply(w, r, http.StatusOK, v, err)
}

func (s *Server) describeCollection(w http.ResponseWriter, r *http.Request) {
	name, err := pathCollection(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.backend.DescribeCollection(r.Context(), name)
	s.reply(w, r, http.StatusOK, v, err)
}

func (s *Server) createCollection(w http.ResponseWriter, r *http.Request) {
	var req api.CreateCollectionRequest
	if err := s.decodeValid(r, &req, req.Validate); err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.backend.CreateCollection(r.Context(), req)
	if err == nil {
		w.Header().Set("Location", "/api/v1/collections/"+v.Name)
	}
	s.reply(w, r, http.StatusCreated, v, err)
}

func (s *Server) dropCollection(w http.ResponseWriter, r *http.Request) {
	name, err := pathCollection(r)
	if err == nil {
		err = s.backend.DropCollection(r.Context(), name)
	}
	s.reply(w, r, http.StatusNoContent, nil, err)
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) {
	name, err := pathCollection(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.backend.ListSources(r.Context(), name)
	s.reply(w, r, http.StatusOK, v, err)
}

func (s *Server) removeSource(w http.ResponseWriter, r *http.Request) {
	name, err := pathCollection(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	source := r.URL.Query().Get("source")
	if source == "" {
		s.writeError(w, r, api.Invalid("source", "give the source to delete: ?source=<source>"))
		return
	}
	v, err := s.backend.RemoveSource(r.Context(), name, source)
	s.reply(w, r, http.StatusOK, v, err)
}

// decodeValid decodes the JSON body strictly and validates it.
func (s *Server) decodeValid(r *http.Request, dst any, validate func() error) error {
	if err := decodeJSON(r, dst, true); err != nil {
		return err
	}
	return validate()
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	var req api.SearchRequest
	if err := s.decodeValid(r, &req, req.Validate); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := api.ValidateQuestion(req.Query, s.cfg.MaxQuestionChars); err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.backend.Search(r.Context(), User(r.Context()), req)
	if err == nil && req.Query != "" && v.Hits == nil {
		v.Hits = []api.Hit{}
	}
	s.reply(w, r, http.StatusOK, v, err)
}

func (s *Server) ask(w http.ResponseWriter, r *http.Request) {
	var req api.AskRequest
	if err := s.decodeValid(r, &req, req.Validate); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := api.ValidateQuestion(req.Question, s.cfg.MaxQuestionChars); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Stream {
		s.streamAnswer(w, r, req)
		return
	}
	ctx, cancel := s.streamContext(r)
	defer cancel()
	ans, err := s.backend.Ask(ctx, User(ctx), req, func(api.Event) error { return ctx.Err() })
	s.metrics.answer(ans, err)
	s.reply(w, r, http.StatusOK, ans, s.shutdownError(ctx, err))
}

// streamContext is the request's context, also cancelled when the
// shutdown deadline passes.
func (s *Server) streamContext(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(r.Context())
	stop := context.AfterFunc(s.streamCtx, cancel)
	return ctx, func() { stop(); cancel() }
}

// shutdownError says so when err comes from the shutdown deadline.
func (s *Server) shutdownError(ctx context.Context, err error) error {
	if err != nil && s.streamCtx.Err() != nil && errors.Is(err, context.Canceled) {
		return api.Errorf(api.CodeUnavailable, "the server is shutting down; ask again in a moment")
	}
	return err
}

// stream runs fn with an SSE writer: keep-alive comments while idle, the
// shutdown deadline, metrics. fn's error becomes an HTTP error if nothing
// was streamed yet, else an `error` event.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, out *sseWriter) error) {
	ctx, cancel := s.streamContext(r)
	defer cancel()
	s.streams.Add(1)
	defer s.streams.Done()
	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()
	out := newSSE(w, s.cfg.WriteTimeout)
	stop := out.KeepAlive(ctx, s.cfg.KeepAlive)
	err := fn(ctx, out)
	stop()
	if err == nil {
		return
	}
	err = s.shutdownError(ctx, err)
	if !out.Started() {
		s.writeError(w, r, err)
		return
	}
	if r.Context().Err() != nil {
		return // the client is gone: nobody to tell
	}
	e := s.errorFor(r, err)
	if isOpenAIPath(r) {
		out.Data(openAIError(e))
		return
	}
	out.Event("error", api.ErrorBody{Error: e})
}

func (s *Server) streamAnswer(w http.ResponseWriter, r *http.Request, req api.AskRequest) {
	s.stream(w, r, func(ctx context.Context, out *sseWriter) error {
		ans, err := s.backend.Ask(ctx, User(ctx), req, func(ev api.Event) error {
			return out.Event(ev.EventName(), ev)
		})
		s.metrics.answer(ans, err)
		if err != nil {
			return err
		}
		return out.Event("done", ans)
	})
}

func (s *Server) feedback(w http.ResponseWriter, r *http.Request) {
	var req api.FeedbackRequest
	if err := s.decodeValid(r, &req, req.Validate); err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.backend.Feedback(r.Context(), User(r.Context()), req)
	s.reply(w, r, http.StatusCreated, v, err)
}

// intQuery reads an optional positive integer query parameter, capped.
func intQuery(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, api.Invalid(name, "%s must be an integer from 1 to %d", name, max)
	}
	return n, nil
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) {
	limit, err := intQuery(r, "limit", 50, 500)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.backend.ListConversations(r.Context(), User(r.Context()), limit, r.URL.Query().Get("before"))
	if err == nil && v.Conversations == nil {
		v.Conversations = []api.ConversationSummary{}
	}
	s.reply(w, r, http.StatusOK, v, err)
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request) {
	v, err := s.backend.GetConversation(r.Context(), User(r.Context()), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, v, err)
}

func (s *Server) renameConversation(w http.ResponseWriter, r *http.Request) {
	var req api.ConversationUpdate
	if err := s.decodeValid(r, &req, req.Validate); err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.backend.RenameConversation(r.Context(), User(r.Context()), r.PathValue("id"), strings.TrimSpace(*req.Title))
	s.reply(w, r, http.StatusOK, v, err)
}

func (s *Server) deleteConversation(w http.ResponseWriter, r *http.Request) {
	err := s.backend.DeleteConversation(r.Context(), User(r.Context()), r.PathValue("id"))
	s.reply(w, r, http.StatusNoContent, nil, err)
}

func (s *Server) ingest(w http.ResponseWriter, r *http.Request) {
	opts, files, err := s.readUpload(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	job, err := s.backend.Ingest(r.Context(), User(r.Context()), opts, files, s.metrics.ingestDone)
	if err != nil {
		for _, f := range files {
			removeQuietly(f.Path)
		}
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/ingest/"+job.JobID)
	writeJSON(w, http.StatusAccepted, job)
}

func (s *Server) ingestJob(w http.ResponseWriter, r *http.Request) {
	v, err := s.backend.IngestJob(r.Context(), User(r.Context()), r.PathValue("job_id"))
	s.reply(w, r, http.StatusOK, v, err)
}

func (s *Server) ingestEvents(w http.ResponseWriter, r *http.Request) {
	s.stream(w, r, func(ctx context.Context, out *sseWriter) error {
		job, err := s.backend.WatchIngest(ctx, User(ctx), r.PathValue("job_id"), func(ev api.Event) error {
			return out.Event(ev.EventName(), ev)
		})
		if err != nil {
			return err
		}
		return out.Event("done", job)
	})
}

func (s *Server) listTraces(w http.ResponseWriter, r *http.Request) {
	limit, err := intQuery(r, "limit", 50, 1000)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.backend.Traces(r.Context(), User(r.Context()), limit)
	if err == nil && v.Traces == nil {
		v.Traces = []api.TraceSummary{}
	}
	s.reply(w, r, http.StatusOK, v, err)
}

func (s *Server) getTrace(w http.ResponseWriter, r *http.Request) {
	v, err := s.backend.Trace(r.Context(), User(r.Context()), r.PathValue("answer_id"))
	s.reply(w, r, http.StatusOK, v, err)
}

// notFound answers paths no route serves, and known paths asked with the
// wrong method (405 with Allow, which the mux would send as plain text).
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, rt := range s.routes {
		probe := r.Clone(r.Context())
		probe.Method = rt.method
		if _, p := s.mux.Handler(probe); p == rt.pattern() && !slices.Contains(allow, rt.method) {
			allow = append(allow, rt.method)
		}
	}
	if len(allow) > 0 && r.Method == http.MethodOptions {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, r, api.Errorf(api.CodeMethodNotAllowed, "%s %s is not served; use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")))
		return
	}
	s.writeError(w, r, api.Errorf(api.CodeNotFound, "no such endpoint: %s %s (see /api/v1/openapi.json)", r.Method, r.URL.Path))
}

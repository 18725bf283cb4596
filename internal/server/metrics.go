package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kura-rag/kura/internal/api"
)

// metrics are the server's Prometheus metrics. Labels are bounded: routes
// are patterns, never raw paths; LLM names come from a short fixed list.
type metrics struct {
	registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	inFlight   prometheus.Gauge
	streams    prometheus.Gauge
	rejected   prometheus.Counter
	answers    *prometheus.CounterVec
	firstToken *prometheus.HistogramVec
	answerDur  *prometheus.HistogramVec
	tokens     *prometheus.CounterVec
	ingestJobs *prometheus.CounterVec
	ingested   *prometheus.CounterVec
	uploaded   prometheus.Counter
}

var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kura_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kura_http_request_duration_seconds", Help: "HTTP request latency by route and method (streams: until the stream ends).",
			Buckets: latencyBuckets,
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kura_http_requests_in_flight", Help: "HTTP requests being served.",
		}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kura_streams_in_flight", Help: "Server-Sent Event streams open (answers, chat completions, ingest progress).",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kura_asks_rejected_total", Help: "Answers refused because the concurrent answer limit was reached.",
		}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kura_answers_total", Help: "Answers by answerer and outcome (ok, not_found, error).",
		}, []string{"llm", "outcome"}),
		firstToken: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kura_answer_first_token_seconds", Help: "Time from the question to the first piece of answer text.",
			Buckets: latencyBuckets,
		}, []string{"llm"}),
		answerDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kura_answer_duration_seconds", Help: "Time from the question to the finished answer.",
			Buckets: latencyBuckets,
		}, []string{"llm"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kura_llm_tokens_total", Help: "Language model tokens by answerer and direction (input, output), as providers report them.",
		}, []string{"llm", "direction"}),
		ingestJobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kura_ingest_jobs_total", Help: "Upload ingest jobs ended, by final state.",
		}, []string{"state"}),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kura_ingest_items_total", Help: "What ingest jobs did: files, skipped files, problems, chunks added, unchanged, removed, texts embedded.",
		}, []string{"kind"}),
		uploaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kura_upload_bytes_total", Help: "Bytes of files uploaded for ingestion.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight, m.streams, m.rejected, m.answers,
		m.firstToken, m.answerDur, m.tokens, m.ingestJobs, m.ingested, m.uploaded} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// answer records a finished (or failed) answer.
func (m *metrics) answer(a api.Answer, err error) {
	name := llmLabel(a.LLM)
	switch {
	case err != nil:
		m.answers.WithLabelValues(name, "error").Inc()
		return
	case a.NotFound:
		m.answers.WithLabelValues(name, "not_found").Inc()
	default:
		m.answers.WithLabelValues(name, "ok").Inc()
	}
	if a.Timings.FirstTokenMS > 0 {
		m.firstToken.WithLabelValues(name).Observe(a.Timings.FirstTokenMS / 1000)
	}
	m.answerDur.WithLabelValues(name).Observe(a.Timings.TotalMS / 1000)
	m.tokens.WithLabelValues(name, "input").Add(float64(a.Usage.InputTokens))
	m.tokens.WithLabelValues(name, "output").Add(float64(a.Usage.OutputTokens))
}

// ingestDone records an ended ingest job.
func (m *metrics) ingestDone(j api.IngestJob) {
	m.ingestJobs.WithLabelValues(string(j.State)).Inc()
	if s := j.Summary; s != nil {
		for kind, n := range map[string]int{"files": s.Files, "skipped_files": s.Skipped, "problems": s.Problems,
			"chunks_added": s.Added, "chunks_unchanged": s.Unchanged, "chunks_removed": s.Removed, "embedded": s.Embedded} {
			m.ingested.WithLabelValues(kind).Add(float64(n))
		}
	}
}

func llmLabel(name string) string {
	switch name {
	case "cohere", "oci", "openai", "ollama", "extractive":
		return name
	case "":
		return "none"
	}
	return "other"
}

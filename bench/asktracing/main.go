// Command asktracing measures what an unreachable trace collector costs a
// question: the latency of kura's ask (the application layer's AskWith,
// as `kura ask` runs it) with tracing off, with an OTLP endpoint that
// refuses connections, and with one that accepts connections and never
// answers — side by side in one run.
//
// Run it from the repository root:
//
//	go run ./bench/asktracing                      # extractive answers (the offline default)
//	go run ./bench/asktracing -llm openai          # a fake OpenAI-compatible model over HTTP
//
// The corpus (-corpus, JSONL with "title" and "text"; the JSQuAD
// paragraphs by default) is ingested once with kura's defaults into a
// data directory, which is then copied once per configuration, so that
// the three applications share nothing but the machine. Tracing is set
// up as the command line does it, from OTEL_EXPORTER_OTLP_ENDPOINT, with
// content on (the largest spans). Each timed round asks the same
// question once per configuration, in an order that rotates from round
// to round, so that all three see the same load; the first -warmup
// rounds are not timed. With -llm openai the answer comes from an
// in-process OpenAI-compatible fake (internal/llm/llmtest) streaming
// -pieces pieces -llm-interval apart.
//
// One JSON line per configuration:
//
//	config                    off, refused or blackhole
//	questions                 timed questions
//	p50_ms … max_ms           AskWith latency, question to finished answer
//	p99_ratio, p50_ratio      against off in the same run
//	spans_ended, spans_exported, spans_failed, spans_dropped
//	                          the tracing provider's counts at the end
//	shutdown_ms               how long the bounded flush at exit took
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kura-rag/kura/bench/internal/sysinfo"
	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/lexical"
	"github.com/kura-rag/kura/internal/llm/llmtest"
	"github.com/kura-rag/kura/internal/split"
	"github.com/kura-rag/kura/internal/tracing"
)

type result struct {
	Bench         string  `json:"bench"`
	Config        string  `json:"config"`
	Endpoint      string  `json:"endpoint,omitempty"`
	LLM           string  `json:"llm"`
	Chunks        int     `json:"chunks"`
	Questions     int     `json:"questions"`
	P50           float64 `json:"p50_ms"`
	P90           float64 `json:"p90_ms"`
	P99           float64 `json:"p99_ms"`
	Max           float64 `json:"max_ms"`
	P50Ratio      float64 `json:"p50_ratio"`
	P99Ratio      float64 `json:"p99_ratio"`
	SpansEnded    int64   `json:"spans_ended"`
	SpansExported int64   `json:"spans_exported"`
	SpansDropped  int64   `json:"spans_dropped"`
	SpansFailed   int64   `json:"spans_failed"`
	ShutdownMS    float64 `json:"shutdown_ms"`
	sysinfo.Machine
}

type config struct {
	name     string
	endpoint string
	app      *app.App
	tracer   *tracing.Provider
	lat      []float64
}

func main() {
	corpus := flag.String("corpus", "../shared/eval/jsquad/corpus.jsonl", "JSONL corpus ingested once")
	queries := flag.String("queries", "../shared/eval/jsquad/dev-queries.jsonl", "questions")
	nq := flag.Int("questions", 2000, "timed questions per configuration")
	warmup := flag.Int("warmup", 50, "untimed rounds first")
	llmName := flag.String("llm", "extractive", "extractive, or openai for the in-process fake model")
	interval := flag.Duration("llm-interval", 2*time.Millisecond, "-llm openai: the pause between streamed pieces")
	pieces := flag.Int("pieces", 30, "-llm openai: pieces of the answer")
	flag.Parse()

	ctx := context.Background()
	root, err := os.MkdirTemp("", "kura-bench-asktracing-")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(root)

	chunks, err := ingestOnce(ctx, filepath.Join(root, "base"), *corpus)
	if err != nil {
		fatalf("ingesting %s: %v", *corpus, err)
	}
	qs, err := readQueries(*queries, *nq+*warmup)
	if err != nil {
		fatalf("%v", err)
	}

	var providers app.Providers
	if *llmName == "openai" {
		reply := strings.Repeat("梅雨は六月", *pieces) + "[1]。"
		fake := llmtest.NewOpenAI(llmtest.Options{Reply: reply, PieceRunes: 5, Interval: *interval})
		defer fake.Close()
		providers = app.Providers{Endpoints: map[string]string{"openai": fake.URL + "/v1"}, OpenAIKey: "bench-key-0123456789"}
	}

	refused, err := refusedURL()
	if err != nil {
		fatalf("%v", err)
	}
	blackhole, stopHole, err := blackholeURL()
	if err != nil {
		fatalf("%v", err)
	}
	defer stopHole()

	configs := []*config{{name: "off"}, {name: "refused", endpoint: refused}, {name: "blackhole", endpoint: blackhole}}
	for _, c := range configs {
		dir := filepath.Join(root, c.name)
		if err := copyDir(filepath.Join(root, "base"), dir); err != nil {
			fatalf("%v", err)
		}
		env := map[string]string{}
		if c.endpoint != "" {
			env["OTEL_EXPORTER_OTLP_ENDPOINT"] = c.endpoint
		}
		cfg, err := tracing.FromEnv(func(k string) string { return env[k] })
		if err != nil {
			fatalf("%v", err)
		}
		if c.tracer, err = tracing.Setup(cfg); err != nil {
			fatalf("%v", err)
		}
		if c.app, err = app.Open(ctx, app.Options{DataDir: dir, Providers: providers, Tracing: c.tracer}); err != nil {
			fatalf("%v", err)
		}
	}

	for round, q := range qs {
		for j := range configs {
			c := configs[(round+j)%len(configs)]
			req := api.AskRequest{Question: q}
			if *llmName == "openai" {
				req.LLM, req.Model = "openai", "bench-model"
			}
			start := time.Now()
			if _, err := c.app.AskWith(ctx, app.AskInput{AskRequest: req, Standalone: true}, nil); err != nil {
				fatalf("%s: %v", c.name, err)
			}
			if round >= *warmup {
				c.lat = append(c.lat, float64(time.Since(start).Microseconds())/1000)
			}
		}
	}

	var offP50, offP99 float64
	for _, c := range configs {
		t := time.Now()
		sctx, cancel := context.WithTimeout(ctx, tracing.DefaultFlushTimeout)
		stats := c.tracer.Shutdown(sctx)
		cancel()
		shutdown := time.Since(t)
		c.app.Close()
		slices.Sort(c.lat)
		r := result{Bench: "asktracing", Config: c.name, Endpoint: c.endpoint, LLM: *llmName, Chunks: chunks,
			Questions: len(c.lat), P50: pct(c.lat, 50), P90: pct(c.lat, 90), P99: pct(c.lat, 99), Max: pct(c.lat, 100),
			SpansEnded: stats.Ended, SpansExported: stats.Exported, SpansDropped: stats.Dropped, SpansFailed: stats.Failed,
			ShutdownMS: float64(shutdown.Microseconds()) / 1000, Machine: sysinfo.Describe()}
		if c.name == "off" {
			offP50, offP99 = r.P50, r.P99
		}
		r.P50Ratio, r.P99Ratio = r.P50/offP50, r.P99/offP99
		json.NewEncoder(os.Stdout).Encode(r)
	}
}

// ingestOnce ingests the corpus with kura's defaults into dir's default
// collection and returns its chunk count.
func ingestOnce(ctx context.Context, dir, corpus string) (int, error) {
	a, err := app.Open(ctx, app.Options{DataDir: dir, NoHistory: true})
	if err != nil {
		return 0, err
	}
	defer a.Close()
	res, err := a.Ingest(ctx, app.IngestRequest{
		Paths:    []string{corpus},
		Settings: app.CollectionSettings{Analyzer: lexical.DefaultAnalyzer, Context: app.DefaultContext},
		Splitter: split.DefaultOptions(),
	})
	if err != nil {
		return 0, err
	}
	return res.Summary.Chunks, nil
}

// refusedURL is an OTLP endpoint on a loopback port nothing listens on:
// every connection is refused at once.
func refusedURL() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/v1/traces", nil
}

// blackholeURL is an OTLP endpoint that accepts every connection, reads
// whatever is sent and never answers.
func blackholeURL() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, conn)
		}
	}()
	return "http://" + ln.Addr().String() + "/v1/traces", func() { ln.Close() }, nil
}

func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil // lock files and sockets are not state
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

func readQueries(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	var out []string
	for len(out) < n {
		var q struct{ Query string }
		if err := dec.Decode(&q); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if q.Query != "" {
			out = append(out, q.Query)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no questions", path)
	}
	for i := 0; len(out) < n; i++ {
		out = append(out, out[i])
	}
	return out, nil
}

func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p/100*float64(len(sorted)-1))]
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "asktracing: "+format+"\n", args...)
	os.Exit(1)
}

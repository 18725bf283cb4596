// Command serve load-tests `kura serve` over HTTP, as clients use it, and
// serves a demonstration of the web chat.
//
// Modes (from the repository root):
//
//	go run ./bench/serve -demo                    # the web chat over the fake backend, for trying the UI
//	go run ./bench/serve                          # search: 32 connections, 200 req/s for 30 s, open loop
//	go run ./bench/serve -find-max                # then the highest rate keeping p99 ≤ 100 ms
//	go run ./bench/serve -ingest                  # search at 200 req/s while uploads keep ingesting
//	go run ./bench/serve -asks 64 -llm-delay 50ms # 64 concurrent streamed asks against a slow fake LLM
//
// The server under test is one of:
//
//   - a real `kura serve`: -kura BIN -data DIR -collection NAME starts
//     `BIN serve` on that data directory in a child process (found through
//     its discovery file DATA/serve.json, stopped with SIGTERM at the end),
//     with OPENAI_BASE_URL pointing at an in-process slow fake LLM
//     (internal/llm/llmtest) that -asks runs answer with;
//   - a running server: -target URL (and -key KEY);
//   - by default, a server over the fake backend of internal/server/servertest
//     in a child process, loaded with -docs documents (JSQuAD paragraphs
//     from -corpus, or synthetic text): kura's HTTP layer — routing,
//     middleware, JSON, SSE — around a toy search engine.
//
// -search-type sets the search type of every search (default: the
// collection's own).
//
// The client is open loop: request i is due at start + i/rate whatever
// happened to the earlier ones, and its latency runs from that due time,
// so a stalled server shows as latency rather than as fewer requests
// (no coordinated omission). At most -conns requests are in flight on
// -conns keep-alive connections; a request waiting for a free connection
// is counted from its due time too.
//
// One JSON line per measurement:
//
//	mode, rate, seconds, conns      what was asked for
//	requests, errors, error_kinds   requests sent, failed (non-2xx or transport)
//	achieved_rps                    completed requests / elapsed seconds
//	p50_ms … max_ms                 latency from due time to the last byte
//	server_rss_mib, server_peak_rss_mib  the server's resident memory after
//	                                the run and the highest seen while it ran
//	                                (process_resident_memory_bytes of /metrics)
//	ingest: uploads, chunks_uploaded, missing_after   chunks a search could
//	                                not find once ingestion finished
//	asks: completed, first_event_p50_ms, first_event_p99_ms
//	server_vmhwm_mib                the started server's peak resident memory
//	                                (VmHWM of /proc/PID/status) at the end
//	go_version, gomaxprocs, cpu, load1
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kura-rag/kura/bench/internal/sysinfo"
	"github.com/kura-rag/kura/internal/llm/llmtest"
	"github.com/kura-rag/kura/internal/serve"
	"github.com/kura-rag/kura/internal/server"
	"github.com/kura-rag/kura/internal/server/servertest"
)

type options struct {
	demo, child, findMax, ingest bool
	addr, target, key, data      string
	kura, collection, searchType string
	corpus                       string
	docs                         int
	rate                         float64
	seconds                      float64
	conns                        int
	asks                         int
	llmDelay                     time.Duration
	p99Limit                     float64
	uploadChunks                 int
}

func main() {
	var o options
	flag.BoolVar(&o.demo, "demo", false, "serve the web chat over the fake backend on -addr")
	flag.BoolVar(&o.child, "child", false, "internal: be the server process")
	flag.BoolVar(&o.findMax, "find-max", false, "after the run, find the highest rate keeping p99 under -p99")
	flag.BoolVar(&o.ingest, "ingest", false, "upload documents for the whole run while searching")
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "-demo: address to serve on")
	flag.StringVar(&o.target, "target", "", "base URL of a running kura serve (default: start a fake-backed server)")
	flag.StringVar(&o.key, "key", "", "API key for -target")
	flag.StringVar(&o.data, "data", "", "-kura: the data directory to serve; -demo: where the fake keeps conversations (default: a temporary one)")
	flag.StringVar(&o.kura, "kura", "", "a kura binary: start `kura serve` on -data and measure it")
	flag.StringVar(&o.collection, "collection", "kura", "-kura: the collection served (and uploaded into)")
	flag.StringVar(&o.searchType, "search-type", "", "search type of every search (default: the collection's)")
	flag.IntVar(&o.uploadChunks, "upload-chunks", 100, "-ingest: paragraphs (one chunk each) per upload, in 4 files")
	flag.StringVar(&o.corpus, "corpus", "../shared/eval/jsquad/corpus.jsonl", "JSONL corpus ({\"text\", \"title\"}) for the fake's documents")
	flag.IntVar(&o.docs, "docs", 2304, "documents given to the fake backend")
	flag.Float64Var(&o.rate, "rate", 200, "requests per second")
	flag.Float64Var(&o.seconds, "seconds", 30, "duration of a run")
	flag.IntVar(&o.conns, "conns", 32, "connections (most requests in flight)")
	flag.IntVar(&o.asks, "asks", 0, "run this many concurrent streamed asks instead of searches")
	flag.DurationVar(&o.llmDelay, "llm-delay", 50*time.Millisecond, "the fake LLM's pause between answer pieces")
	flag.Float64Var(&o.p99Limit, "p99", 100, "-find-max: p99 limit in ms")
	flag.Parse()
	log.SetFlags(0)
	switch {
	case o.child:
		runChild(&o)
	case o.demo:
		runDemo(&o)
	default:
		if err := runBench(&o); err != nil {
			log.Fatal(err)
		}
	}
}

// ---------- the server side ----------

type doc struct{ title, text string }

// loadDocs reads up to n documents from the corpus, or makes synthetic
// ones when it is missing.
func loadDocs(path string, n int) []doc {
	var out []doc
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
		for sc.Scan() && len(out) < n {
			var d struct{ Title, Text string }
			if json.Unmarshal(sc.Bytes(), &d) == nil && d.Text != "" {
				out = append(out, doc{d.Title, d.Text})
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for len(out) < n {
		out = append(out, doc{fmt.Sprintf("doc %d", len(out)), synthetic(r, 300)})
	}
	return out
}

var syllables = []rune("かきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん日本語文書検索回答出典")

func synthetic(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteRune(syllables[r.IntN(len(syllables))])
		if i%40 == 39 {
			b.WriteString("。")
		}
	}
	return b.String()
}

func newFake(o *options, dir string) *servertest.Fake {
	fake, err := servertest.New(dir)
	if err != nil {
		log.Fatal(err)
	}
	fake.Delay = o.llmDelay
	for i, d := range loadDocs(o.corpus, o.docs) {
		fake.AddDocument("kura", fmt.Sprintf("corpus/%05d.txt", i), d.title, d.text)
	}
	return fake
}

// runChild serves the fake on a free port, prints the address, and
// stops when its standard input closes (the parent ended) or on SIGTERM.
func runChild(o *options) {
	fake := newFake(o, "")
	srv, err := server.New(server.Config{Backend: fake, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxConcurrentAsks: 1024, MaxUploadBytes: 1 << 30})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { io.Copy(io.Discard, os.Stdin); stop() }()
	fmt.Printf("LISTEN %s\n", ln.Addr())
	srv.Serve(ctx, ln)
}

func runDemo(o *options) {
	dir := o.data
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "kura-demo-"); err != nil {
			log.Fatal(err)
		}
	}
	if o.docs == 2304 {
		o.docs = 0
	}
	fake := newFake(o, dir)
	// kura's own documentation, as quickstart uses it.
	for _, lang := range []string{"en", "ja"} {
		files, _ := filepath.Glob(filepath.Join("docs", lang, "*.md"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err == nil {
				fake.AddDocument("kura", filepath.ToSlash(f), strings.TrimSuffix(filepath.Base(f), ".md"), string(b))
			}
		}
	}
	srv, err := server.New(server.Config{Backend: fake, Version: "demo"})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log.Printf("kura web chat over the FAKE backend (toy search, extracted answers; conversations in %s) at http://%s/", dir, ln.Addr())
	if err := srv.Serve(ctx, ln); err != nil {
		log.Print(err)
	}
}

// startChild starts the fake-backed server in a child process.
func startChild(o *options) (url string, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(exe, "-child", "-corpus", o.corpus, "-docs", strconv.Itoa(o.docs), "-llm-delay", o.llmDelay.String())
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "LISTEN ")
	if err != nil || !ok {
		cmd.Process.Kill()
		return "", nil, fmt.Errorf("the server process did not start: %q %v", line, err)
	}
	return "http://" + addr, func() { stdin.Close(); cmd.Wait() }, nil
}

// startKura starts `kura serve` on o.data and waits until it has recorded
// itself in the data directory. The server answers asks with the
// OpenAI-compatible fake at llmURL when a request names llm openai.
func startKura(o *options, llmURL string) (url string, pid int, stop func(), err error) {
	if o.data == "" {
		return "", 0, nil, fmt.Errorf("-kura needs -data DIR")
	}
	logPath := filepath.Join(os.TempDir(), "kura-bench-serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", 0, nil, err
	}
	cmd := exec.Command(o.kura, "serve", "--data", o.data, "--collection", o.collection, "--addr", "127.0.0.1:0",
		"--max-concurrent-asks", "1024", "--max-upload", "1GiB")
	cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+llmURL, "OPENAI_API_KEY=bench-key-0123456789", "KURA_API_KEY=")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return "", 0, nil, err
	}
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		logFile.Close()
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		rec, err := serve.Discover(context.Background(), o.data)
		if err == nil && rec.PID == cmd.Process.Pid {
			log.Printf("kura serve (pid %d) at %s; its log: %s", rec.PID, rec.URL, logPath)
			return rec.URL, rec.PID, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", 0, nil, fmt.Errorf("kura serve did not start (see %s): %v", logPath, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func vmhwm(pid int) float64 {
	if pid == 0 {
		return 0
	}
	return sysinfo.ProcessPeakRSSMiB(pid)
}

// ---------- the client side ----------

type result struct {
	Mode        string         `json:"mode"`
	Target      string         `json:"target"`
	Rate        float64        `json:"rate,omitempty"`
	Seconds     float64        `json:"seconds"`
	Conns       int            `json:"conns,omitempty"`
	Requests    int            `json:"requests"`
	Errors      int            `json:"errors"`
	ErrorKinds  map[string]int `json:"error_kinds,omitempty"`
	AchievedRPS float64        `json:"achieved_rps"`
	P50         float64        `json:"p50_ms"`
	P90         float64        `json:"p90_ms"`
	P99         float64        `json:"p99_ms"`
	P999        float64        `json:"p999_ms"`
	Max         float64        `json:"max_ms"`
	RSS         float64        `json:"server_rss_mib"`
	PeakRSS     float64        `json:"server_peak_rss_mib"`
	// ingest mode
	Uploads        int  `json:"uploads,omitempty"`
	ChunksUploaded int  `json:"chunks_uploaded,omitempty"`
	MissingAfter   *int `json:"missing_after,omitempty"`
	// asks mode
	Completed    int     `json:"completed,omitempty"`
	FirstEvP50   float64 `json:"first_event_p50_ms,omitempty"`
	FirstEvP99   float64 `json:"first_event_p99_ms,omitempty"`
	MaxRateP99OK float64 `json:"max_rate_p99_ok,omitempty"`
	VmHWM        float64 `json:"server_vmhwm_mib,omitempty"`
	SearchType   string  `json:"search_type,omitempty"`
	sysinfo.Machine
}

type client struct {
	http *http.Client
	base string
	key  string
}

func (c *client) do(ctx context.Context, method, path, ctype string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	return c.http.Do(req)
}

// serverRSS reads process_resident_memory_bytes from /metrics, in MiB.
func (c *client) serverRSS() float64 {
	resp, err := c.do(context.Background(), "GET", "/metrics", "", nil)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f / (1 << 20)
		}
	}
	return 0
}

// watchRSS polls the server's RSS until stop, returning the peak.
func (c *client) watchRSS() (stop func() float64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			if v := c.serverRSS(); uint64(v*1024) > peak.Load() {
				peak.Store(uint64(v * 1024))
			}
			select {
			case <-done:
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	return func() float64 { close(done); <-finished; return float64(peak.Load()) / 1024 }
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}

func runBench(o *options) error {
	base, stop := o.target, func() {}
	var err error
	var llmServer *llmtest.Server
	pid := 0
	switch {
	case o.kura != "":
		// Every piece of the fake's answer comes -llm-delay after the
		// last: a slow model.
		llmServer = llmtest.NewOpenAI(llmtest.Options{Interval: o.llmDelay})
		defer llmServer.Close()
		if base, pid, stop, err = startKura(o, llmServer.URL+"/v1"); err != nil {
			return err
		}
	case base == "":
		if base, stop, err = startChild(o); err != nil {
			return err
		}
	}
	defer stop()
	transport := &http.Transport{MaxConnsPerHost: o.conns, MaxIdleConnsPerHost: o.conns, IdleConnTimeout: time.Minute}
	c := &client{http: &http.Client{Transport: transport, Timeout: 5 * time.Minute}, base: strings.TrimRight(base, "/"), key: o.key}
	queries := loadQueries(o)
	enc := json.NewEncoder(os.Stdout)
	if o.asks > 0 {
		r := runAsks(o, c, queries, llmServer != nil)
		r.VmHWM = vmhwm(pid)
		return enc.Encode(r)
	}
	mode := "search"
	if o.ingest {
		mode = "search+ingest"
	}
	warmUp(o, c, queries)
	r := runSearch(o, c, queries, o.rate, o.seconds, mode)
	r.VmHWM = vmhwm(pid)
	enc.Encode(r)
	if o.findMax {
		best := 0.0
		lo, hi := 0.0, 0.0
		for rate := o.rate; rate <= 20000; rate *= 2 {
			rr := runSearch(o, c, queries, rate, min(o.seconds, 10), "find-max")
			enc.Encode(rr)
			if rr.P99 > o.p99Limit || rr.Errors > 0 {
				hi = rate
				break
			}
			lo, best = rate, rate
		}
		for i := 0; i < 4 && hi > 0 && hi-lo > lo*0.05; i++ {
			mid := (lo + hi) / 2
			rr := runSearch(o, c, queries, mid, min(o.seconds, 10), "find-max")
			enc.Encode(rr)
			if rr.P99 > o.p99Limit || rr.Errors > 0 {
				hi = mid
			} else {
				lo, best = mid, mid
			}
		}
		enc.Encode(result{Mode: "max-rate", Target: c.base, MaxRateP99OK: best, P99: o.p99Limit, Machine: sysinfo.Describe()})
	}
	return nil
}

// loadQueries takes questions from the JSQuAD dev set next to the corpus,
// or cuts them from the documents.
func loadQueries(o *options) []string {
	var out []string
	if f, err := os.Open(filepath.Join(filepath.Dir(o.corpus), "dev-queries.jsonl")); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() && len(out) < 2000 {
			var q struct{ Query string }
			if json.Unmarshal(sc.Bytes(), &q) == nil && q.Query != "" {
				out = append(out, q.Query)
			}
		}
	}
	if len(out) == 0 {
		for _, d := range loadDocs(o.corpus, 500) {
			r := []rune(d.text)
			out = append(out, string(r[:min(20, len(r))]))
		}
	}
	return out
}

// warmUp sends 100 searches one after another, so that the indexes are
// loaded (a fresh server loads them on first use) before anything is
// measured.
func warmUp(o *options, c *client, queries []string) {
	for i := range 100 {
		req := map[string]any{"query": queries[(i*7919)%len(queries)], "k": 3}
		if o.searchType != "" {
			req["search_type"] = o.searchType
		}
		body, _ := json.Marshal(req)
		resp, err := c.do(context.Background(), "POST", "/api/v1/search", "application/json", body)
		if err != nil {
			log.Fatalf("warm-up search: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			log.Fatalf("warm-up search: %s", resp.Status)
		}
	}
}

// runSearch sends searches at rate for seconds, open loop.
func runSearch(o *options, c *client, queries []string, rate, seconds float64, mode string) result {
	res := result{Mode: mode, Target: c.base, Rate: rate, Seconds: seconds, Conns: o.conns, ErrorKinds: map[string]int{}, SearchType: o.searchType, Machine: sysinfo.Describe()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ing *ingester
	if o.ingest {
		ing = &ingester{c: c, collection: o.collection, chunks: o.uploadChunks}
		go ing.run(ctx)
	}
	peak := c.watchRSS()
	n := int(rate * seconds)
	lat := make([]float64, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func(i int, due time.Time) {
			defer wg.Done()
			req := map[string]any{"query": queries[i%len(queries)], "k": 3}
			if o.searchType != "" {
				req["search_type"] = o.searchType
			}
			body, _ := json.Marshal(req)
			resp, err := c.do(ctx, "POST", "/api/v1/search", "application/json", body)
			kind := ""
			if err != nil {
				kind = "transport"
			} else {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					kind = strconv.Itoa(resp.StatusCode)
				}
			}
			lat[i] = float64(time.Since(due).Microseconds()) / 1000
			if kind != "" {
				mu.Lock()
				res.Errors++
				res.ErrorKinds[kind]++
				mu.Unlock()
			}
		}(i, due)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if ing != nil {
		cancel()
		ing.wait()
		res.Uploads, res.ChunksUploaded = ing.uploads, len(ing.tokens)
		missing := ing.verify(c)
		res.MissingAfter = &missing
		res.Errors += ing.errors
		if ing.errors > 0 {
			res.ErrorKinds["ingest"] = ing.errors
		}
	}
	res.PeakRSS = peak()
	res.RSS = c.serverRSS()
	res.PeakRSS = max(res.PeakRSS, res.RSS)
	slices.Sort(lat)
	res.Requests = n
	res.AchievedRPS = float64(n) / elapsed
	res.P50, res.P90, res.P99, res.P999, res.Max = percentile(lat, .5), percentile(lat, .9), percentile(lat, .99), percentile(lat, .999), lat[len(lat)-1]
	return res
}

// ingester uploads documents one job after another for as long as the
// run lasts, each paragraph (one chunk) carrying a unique token, and
// afterwards checks that every token is found.
type ingester struct {
	c          *client
	collection string
	chunks     int // paragraphs per upload
	uploads    int
	errors     int
	tokens     []string
	done       chan struct{}
}

func (g *ingester) run(ctx context.Context) {
	g.done = make(chan struct{})
	defer close(g.done)
	r := rand.New(rand.NewPCG(7, 7))
	const files = 4
	for n := 0; ctx.Err() == nil; n++ {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("collection", g.collection)
		var batch []string
		for f := 0; f < files; f++ {
			w, _ := mw.CreateFormFile("files", fmt.Sprintf("load-%05d-%d.txt", n, f))
			for p := 0; p < g.chunks/files; p++ {
				tok := fmt.Sprintf("zq%dx%dy%dz", n, f, p)
				batch = append(batch, tok)
				fmt.Fprintf(w, "%s %s\n\n", tok, synthetic(r, 120))
			}
		}
		mw.Close()
		resp, err := g.c.do(context.Background(), "POST", "/api/v1/ingest", mw.FormDataContentType(), buf.Bytes())
		if err != nil || resp.StatusCode != 202 {
			g.errors++
			if resp != nil {
				b, _ := io.ReadAll(resp.Body)
				log.Printf("upload: %s %s", resp.Status, b)
				resp.Body.Close()
			}
			continue
		}
		var job struct {
			JobID string `json:"job_id"`
		}
		json.NewDecoder(resp.Body).Decode(&job)
		resp.Body.Close()
		ev, err := g.c.do(context.Background(), "GET", "/api/v1/ingest/"+job.JobID+"/events", "", nil)
		if err != nil {
			g.errors++
			continue
		}
		all, _ := io.ReadAll(ev.Body)
		ev.Body.Close()
		if !bytes.Contains(all, []byte("event: done")) || bytes.Contains(all, []byte("event: problem")) || !bytes.Contains(all, []byte(`"state":"done"`)) {
			log.Printf("job %s: %s", job.JobID, all[max(0, len(all)-500):])
			g.errors++
			continue
		}
		g.uploads++
		g.tokens = append(g.tokens, batch...)
	}
}

func (g *ingester) wait() { <-g.done }

// verify searches every uploaded token (BM25, top 1, in batches) and
// counts those whose chunk is not the hit.
func (g *ingester) verify(c *client) int {
	missing := 0
	const batch = 500
	for start := 0; start < len(g.tokens); start += batch {
		toks := g.tokens[start:min(start+batch, len(g.tokens))]
		queries := make([]map[string]any, len(toks))
		for i, tok := range toks {
			queries[i] = map[string]any{"id": i, "query": tok}
		}
		body, _ := json.Marshal(map[string]any{"collection": g.collection, "queries": queries, "k": 1,
			"search_type": "bm25", "output_fields": []string{"text"}})
		resp, err := c.do(context.Background(), "POST", "/api/v1/search", "application/json", body)
		if err != nil {
			missing += len(toks)
			continue
		}
		var out struct {
			Results []struct {
				QueryID int `json:"query_id"`
				Hits    []struct {
					Entity struct {
						Text string `json:"text"`
					} `json:"entity"`
				} `json:"hits"`
			} `json:"results"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || len(out.Results) != len(toks) {
			missing += len(toks)
			continue
		}
		for _, r := range out.Results {
			if len(r.Hits) == 0 || !strings.Contains(r.Hits[0].Entity.Text, toks[r.QueryID]) {
				missing++
			}
		}
	}
	return missing
}

// runAsks runs o.asks streamed asks at once and reads each to its end.
func runAsks(o *options, c *client, queries []string, slowLLM bool) result {
	res := result{Mode: "asks", Target: c.base, Conns: o.asks, ErrorKinds: map[string]int{}, Machine: sysinfo.Describe()}
	c.http.Transport.(*http.Transport).MaxConnsPerHost = o.asks
	peak := c.watchRSS()
	var mu sync.Mutex
	var total, first []float64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < o.asks; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			t0 := time.Now()
			req := map[string]any{"question": queries[i%len(queries)], "stream": true}
			if slowLLM {
				req["llm"], req["model"] = "openai", "bench-slow"
			}
			body, _ := json.Marshal(req)
			resp, err := c.do(context.Background(), "POST", "/api/v1/ask", "application/json", body)
			if err != nil {
				mu.Lock()
				res.Errors++
				res.ErrorKinds["transport"]++
				mu.Unlock()
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
			var firstAt time.Duration
			done := false
			for sc.Scan() {
				line := sc.Text()
				if firstAt == 0 && strings.HasPrefix(line, "event: ") {
					firstAt = time.Since(t0)
				}
				if line == "event: done" {
					done = true
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if resp.StatusCode != 200 || !done {
				res.Errors++
				res.ErrorKinds[strconv.Itoa(resp.StatusCode)]++
				return
			}
			res.Completed++
			total = append(total, float64(time.Since(t0).Microseconds())/1000)
			first = append(first, float64(firstAt.Microseconds())/1000)
		}(i)
	}
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.PeakRSS = peak()
	res.RSS = c.serverRSS()
	res.PeakRSS = max(res.PeakRSS, res.RSS)
	res.Requests = o.asks
	slices.Sort(total)
	slices.Sort(first)
	if len(total) > 0 {
		res.P50, res.P90, res.P99, res.Max = percentile(total, .5), percentile(total, .9), percentile(total, .99), total[len(total)-1]
		res.FirstEvP50, res.FirstEvP99 = percentile(first, .5), percentile(first, .99)
	}
	res.AchievedRPS = float64(res.Completed) / res.Seconds
	return res
}

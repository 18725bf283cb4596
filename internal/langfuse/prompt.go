package langfuse

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// DefaultLabel is the label a prompt reference without label or version
// asks for, as in Langfuse's SDKs.
const DefaultLabel = "production"

// PromptRef names a prompt: a label (default [DefaultLabel]) or an exact
// version.
type PromptRef struct {
	Name    string
	Label   string
	Version int // > 0 selects this version; Label is then ignored
}

// ParsePromptRef reads "NAME", "NAME@LABEL" or "NAME#VERSION", with or
// without a leading "langfuse:".
func ParsePromptRef(s string) (PromptRef, error) {
	orig := s
	s = strings.TrimPrefix(strings.TrimSpace(s), "langfuse:")
	var ref PromptRef
	if i := strings.LastIndex(s, "#"); i >= 0 {
		v, err := strconv.Atoi(s[i+1:])
		if err != nil || v <= 0 {
			return PromptRef{}, fmt.Errorf("prompt reference %q: the version after # must be a positive number", orig)
		}
		ref.Version, s = v, s[:i]
	} else if i := strings.LastIndex(s, "@"); i >= 0 {
		ref.Label, s = s[i+1:], s[:i]
		if ref.Label == "" {
			return PromptRef{}, fmt.Errorf("prompt reference %q: empty label after @", orig)
		}
	}
	if s == "" {
		return PromptRef{}, fmt.Errorf("prompt reference %q has no prompt name (want NAME, NAME@LABEL or NAME#VERSION)", orig)
	}
	ref.Name = s
	return ref, nil
}

func (r PromptRef) label() string {
	if r.Label == "" {
		return DefaultLabel
	}
	return r.Label
}

// String is the reference as ParsePromptRef reads it.
func (r PromptRef) String() string {
	if r.Version > 0 {
		return r.Name + "#" + strconv.Itoa(r.Version)
	}
	return r.Name + "@" + r.label()
}

// Prompt types.
const (
	PromptText = "text"
	PromptChat = "chat"
)

// Prompt is one version of a managed prompt. The templates are returned
// as Langfuse stores them: their {{variable}} placeholders are rendered by
// the answer stage, like a local template's.
type Prompt struct {
	Name     string          `json:"name"`
	Version  int             `json:"version"`
	Type     string          `json:"type"` // PromptText or PromptChat
	Labels   []string        `json:"labels,omitempty"`
	Text     string          `json:"text,omitempty"`     // a text prompt
	Messages []ChatMessage   `json:"messages,omitempty"` // a chat prompt
	Config   json.RawMessage `json:"config,omitempty"`
}

// ChatMessage is one message of a chat prompt. A placeholder (a slot for a
// list of messages supplied at run time, e.g. the chat history) has
// Placeholder set and no role.
type ChatMessage struct {
	Role        string `json:"role,omitempty"`
	Content     string `json:"content,omitempty"`
	Placeholder string `json:"placeholder,omitempty"`
}

// wirePrompt is GET /api/public/v2/prompts/{name}'s answer.
type wirePrompt struct {
	Name    string          `json:"name"`
	Version int             `json:"version"`
	Type    string          `json:"type"`
	Labels  []string        `json:"labels"`
	Prompt  json.RawMessage `json:"prompt"`
	Config  json.RawMessage `json:"config"`
}

// FetchPrompt gets one prompt version from Langfuse, without caching.
func (c *Client) FetchPrompt(ctx context.Context, ref PromptRef) (Prompt, error) {
	if ref.Name == "" {
		return Prompt{}, fmt.Errorf("%w: a prompt needs a name", ErrInvalid)
	}
	q := url.Values{}
	if ref.Version > 0 {
		q.Set("version", strconv.Itoa(ref.Version))
	} else {
		q.Set("label", ref.label())
	}
	var w wirePrompt
	if err := c.do(ctx, "GET", "/api/public/v2/prompts/"+url.PathEscape(ref.Name), q, nil, &w); err != nil {
		return Prompt{}, fmt.Errorf("cannot get prompt %s from Langfuse: %w", ref, err)
	}
	p, err := w.decode()
	if err != nil {
		return Prompt{}, fmt.Errorf("%w: prompt %s: %v", ErrInvalid, ref, err)
	}
	return p, nil
}

func (w wirePrompt) decode() (Prompt, error) {
	p := Prompt{Name: w.Name, Version: w.Version, Type: w.Type, Labels: w.Labels}
	if len(w.Config) > 0 && string(w.Config) != "null" {
		p.Config = w.Config
	}
	switch w.Type {
	case PromptText:
		if err := json.Unmarshal(w.Prompt, &p.Text); err != nil {
			return Prompt{}, fmt.Errorf("a text prompt's prompt is not a string: %v", err)
		}
	case PromptChat:
		var msgs []struct {
			Type    string `json:"type"`
			Role    string `json:"role"`
			Content string `json:"content"`
			Name    string `json:"name"`
		}
		if err := json.Unmarshal(w.Prompt, &msgs); err != nil {
			return Prompt{}, fmt.Errorf("a chat prompt's prompt is not a list of messages: %v", err)
		}
		for i, m := range msgs {
			switch {
			case m.Type == "placeholder":
				if m.Name == "" {
					return Prompt{}, fmt.Errorf("message %d is a placeholder without a name", i+1)
				}
				p.Messages = append(p.Messages, ChatMessage{Placeholder: m.Name})
			case m.Role != "":
				p.Messages = append(p.Messages, ChatMessage{Role: m.Role, Content: m.Content})
			default:
				return Prompt{}, fmt.Errorf("message %d has no role", i+1)
			}
		}
	default:
		return Prompt{}, fmt.Errorf("unknown prompt type %q (want text or chat)", w.Type)
	}
	return p, nil
}

// Origin says where a resolved prompt came from.
type Origin string

const (
	OriginLangfuse Origin = "langfuse" // fetched just now
	OriginCache    Origin = "cache"    // fetched by this process within the TTL, or stale after a failed refresh
	OriginSaved    Origin = "saved"    // the last good copy saved in the data directory
	OriginBuiltin  Origin = "builtin"  // the caller's built-in prompt
)

// Resolved is a prompt and where it came from. Warning is set whenever a
// fallback was used; front ends print it.
type Resolved struct {
	Prompt    Prompt
	Ref       PromptRef
	Origin    Origin
	FetchedAt time.Time
	Warning   string
}

// DefaultPromptTTL is how long a fetched prompt is used without asking
// Langfuse again (Langfuse's SDKs cache for 60 s too).
const DefaultPromptTTL = 60 * time.Second

// PromptStoreOptions configure a [PromptStore].
type PromptStoreOptions struct {
	// TTL is how long a fetched prompt is served from memory
	// (DefaultPromptTTL if zero; negative: always ask Langfuse).
	TTL time.Duration
	// Dir, if set, keeps the last good copy of every prompt fetched
	// (DATA/app/prompts), the fallback when Langfuse is unreachable.
	Dir string
	Now func() time.Time // tests
}

// PromptStore gets prompts with a TTL cache and fallbacks: when Langfuse
// cannot be reached it serves the copy in memory, then the one saved in
// Dir, with a warning. Errors that a fallback must not hide — an unknown
// prompt name, rejected keys — are returned as they are. It is safe for
// concurrent use; concurrent misses of one prompt make one request.
type PromptStore struct {
	client *Client // nil: Langfuse not configured
	opts   PromptStoreOptions
	group  singleflight.Group

	mu  sync.Mutex
	mem map[string]savedPrompt
}

// savedPrompt is a prompt as kept in memory and on disk.
type savedPrompt struct {
	Ref       PromptRef `json:"ref"`
	Prompt    Prompt    `json:"prompt"`
	FetchedAt time.Time `json:"fetched_at"`
}

// NewPromptStore returns a store fetching through client (nil when
// Langfuse is not configured: only saved copies can be served).
func NewPromptStore(client *Client, opts PromptStoreOptions) *PromptStore {
	if opts.TTL == 0 {
		opts.TTL = DefaultPromptTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &PromptStore{client: client, opts: opts, mem: map[string]savedPrompt{}}
}

// Get returns the prompt ref names.
func (s *PromptStore) Get(ctx context.Context, ref PromptRef) (Resolved, error) {
	key := ref.String()
	now := s.opts.Now()
	s.mu.Lock()
	cached, inMem := s.mem[key]
	s.mu.Unlock()
	if inMem && s.opts.TTL > 0 && now.Sub(cached.FetchedAt) < s.opts.TTL {
		return Resolved{Prompt: cached.Prompt, Ref: ref, Origin: OriginCache, FetchedAt: cached.FetchedAt}, nil
	}

	fetchErr := ErrNotConfigured
	if s.client != nil {
		v, err, _ := s.group.Do(key, func() (any, error) {
			p, err := s.client.FetchPrompt(ctx, ref)
			if err != nil {
				return nil, err
			}
			sp := savedPrompt{Ref: ref, Prompt: p, FetchedAt: s.opts.Now()}
			s.mu.Lock()
			s.mem[key] = sp
			s.mu.Unlock()
			s.save(sp)
			return sp, nil
		})
		if err == nil {
			sp := v.(savedPrompt)
			return Resolved{Prompt: sp.Prompt, Ref: ref, Origin: OriginLangfuse, FetchedAt: sp.FetchedAt}, nil
		}
		fetchErr = err
	}
	if !errors.Is(fetchErr, ErrUnavailable) && !errors.Is(fetchErr, ErrNotConfigured) {
		return Resolved{}, fetchErr
	}
	why := "Langfuse is unreachable"
	if errors.Is(fetchErr, ErrNotConfigured) {
		why = "Langfuse is not configured"
	}
	if inMem {
		return Resolved{Prompt: cached.Prompt, Ref: ref, Origin: OriginCache, FetchedAt: cached.FetchedAt,
			Warning: fmt.Sprintf("%s (%v); using prompt %s version %d fetched %s ago", why, fetchErr, key, cached.Prompt.Version, age(now, cached.FetchedAt))}, nil
	}
	if saved, ok := s.load(ref); ok {
		s.mu.Lock()
		if _, present := s.mem[key]; !present {
			s.mem[key] = saved
		}
		s.mu.Unlock()
		return Resolved{Prompt: saved.Prompt, Ref: ref, Origin: OriginSaved, FetchedAt: saved.FetchedAt,
			Warning: fmt.Sprintf("%s (%v); using the copy of prompt %s version %d saved %s ago", why, fetchErr, key, saved.Prompt.Version, age(now, saved.FetchedAt))}, nil
	}
	return Resolved{}, fmt.Errorf("prompt %s: %w, and no copy of it was saved before", key, fetchErr)
}

// GetOr is Get with the last fallback: when Langfuse is unreachable (or not
// configured) and no copy of the prompt exists, builtin is returned with a
// warning. Other errors (unknown prompt, rejected keys) are returned.
func (s *PromptStore) GetOr(ctx context.Context, ref PromptRef, builtin Prompt) (Resolved, error) {
	r, err := s.Get(ctx, ref)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrNotConfigured) {
		return Resolved{}, err
	}
	return Resolved{Prompt: builtin, Ref: ref, Origin: OriginBuiltin,
		Warning: fmt.Sprintf("%v; using the built-in prompt", err)}, nil
}

// save writes sp into Dir atomically; failing to save is not an error of
// the request that fetched it, so it is silent.
func (s *PromptStore) save(sp savedPrompt) {
	if s.opts.Dir == "" {
		return
	}
	raw, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return
	}
	if err := os.MkdirAll(s.opts.Dir, 0o755); err != nil {
		return
	}
	path := s.path(sp.Ref)
	tmp, err := os.CreateTemp(s.opts.Dir, ".prompt-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(raw)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if werr != nil || serr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		_ = os.Remove(tmp.Name())
	}
}

func (s *PromptStore) load(ref PromptRef) (savedPrompt, bool) {
	if s.opts.Dir == "" {
		return savedPrompt{}, false
	}
	raw, err := os.ReadFile(s.path(ref))
	if err != nil {
		return savedPrompt{}, false
	}
	var sp savedPrompt
	if json.Unmarshal(raw, &sp) != nil || sp.Prompt.Name != ref.Name {
		return savedPrompt{}, false
	}
	return sp, true
}

// path is the file of ref's saved copy. Names may contain "/" (Langfuse
// folders) and any other character, so they are escaped, and long ones
// hashed.
func (s *PromptStore) path(ref PromptRef) string {
	name := url.QueryEscape(ref.Name)
	if ref.Version > 0 {
		name += "#" + strconv.Itoa(ref.Version)
	} else {
		name += "@" + url.QueryEscape(ref.label())
	}
	if len(name) > 180 {
		sum := sha256.Sum256([]byte(name))
		name = hex.EncodeToString(sum[:16])
	}
	return filepath.Join(s.opts.Dir, name+".json")
}

func age(now, then time.Time) string {
	d := now.Sub(then)
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return d.Round(time.Minute).String()
	default:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

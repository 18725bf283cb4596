// Package llm is the generation stage: one streaming interface over the
// chat models kura answers with (Cohere, OCI Generative AI,
// OpenAI-compatible servers, Ollama) and over kura's offline extractive
// answerer, so that every front end (CLI, server, library) streams an
// answer the same way whatever produced it.
//
// The interface is owned here because several consumers share it: the
// answer stage (prompt, citations), query rewriting in multi-turn chat and
// the server. Providers live in their own files or packages and are
// registered in one place.
package llm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Role is who said a message.
type Role string

const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one turn of a conversation.
type Message struct {
	Role    Role
	Content string
}

// Document is a retrieved source given to a provider that grounds answers
// natively (Cohere's documents, OCI's Cohere format). ID is the number the
// prompt shows for the source ("1", "2", ...), so the provider's citations
// map back onto kura's sources. Text is untrusted document text.
type Document struct {
	ID     string
	Title  string
	Source string
	Text   string
}

// Option names, as they appear in errors and in [Info.Options].
const (
	OptMaxTokens        = "max_tokens"
	OptTemperature      = "temperature"
	OptTopK             = "top_k"
	OptTopP             = "top_p"
	OptFrequencyPenalty = "frequency_penalty"
	OptPresencePenalty  = "presence_penalty"
	OptSeed             = "seed"
	OptStop             = "stop"
)

// Options are generation parameters. A nil field is "not set": the
// provider's own default applies and nothing is sent. A set field the
// provider cannot honour is refused by [Check] with [ErrUnsupportedOption]
// before anything is sent, never silently dropped.
type Options struct {
	MaxTokens        *int
	Temperature      *float64
	TopK             *int
	TopP             *float64
	FrequencyPenalty *float64
	PresencePenalty  *float64
	Seed             *int64
	Stop             []string
}

// Set returns the names of the options that are set, sorted.
func (o Options) Set() []string {
	var names []string
	add := func(set bool, name string) {
		if set {
			names = append(names, name)
		}
	}
	add(o.MaxTokens != nil, OptMaxTokens)
	add(o.Temperature != nil, OptTemperature)
	add(o.TopK != nil, OptTopK)
	add(o.TopP != nil, OptTopP)
	add(o.FrequencyPenalty != nil, OptFrequencyPenalty)
	add(o.PresencePenalty != nil, OptPresencePenalty)
	add(o.Seed != nil, OptSeed)
	add(len(o.Stop) > 0, OptStop)
	sort.Strings(names)
	return names
}

// Map returns the options that are set, by option name, with their values
// (for records and traces); nil when none is set.
func (o Options) Map() map[string]any {
	m := map[string]any{}
	if o.MaxTokens != nil {
		m[OptMaxTokens] = *o.MaxTokens
	}
	if o.Temperature != nil {
		m[OptTemperature] = *o.Temperature
	}
	if o.TopK != nil {
		m[OptTopK] = *o.TopK
	}
	if o.TopP != nil {
		m[OptTopP] = *o.TopP
	}
	if o.FrequencyPenalty != nil {
		m[OptFrequencyPenalty] = *o.FrequencyPenalty
	}
	if o.PresencePenalty != nil {
		m[OptPresencePenalty] = *o.PresencePenalty
	}
	if o.Seed != nil {
		m[OptSeed] = *o.Seed
	}
	if len(o.Stop) > 0 {
		m[OptStop] = o.Stop
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// Request is one generation.
type Request struct {
	// Model overrides the client's configured model; empty keeps it.
	Model string
	// System is the preamble (system prompt).
	System string
	// Messages is the conversation, oldest first; the last one is the
	// user's question (with the sources already in it for providers that
	// take them in the prompt).
	Messages []Message
	// Documents are the sources for providers with native grounding; a
	// client without it ignores them (the prompt carries them instead).
	Documents []Document
	Options   Options
}

// Citation is a provider's own citation: the answer text between Start
// and End (byte offsets into the complete answer) is supported by the
// documents with these IDs.
type Citation struct {
	Start, End  int
	Text        string
	DocumentIDs []string
}

// Usage counts tokens, when the provider reports them (zero otherwise).
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

// Event is one piece of a streamed answer: a text delta, or a citation
// the provider emitted.
type Event struct {
	Delta    string
	Citation *Citation
}

// Result is a finished generation.
type Result struct {
	Text      string
	Citations []Citation
	Usage     Usage
	// FinishReason is why the answer ended: [FinishStop],
	// [FinishLength] (max_tokens reached), [FinishStopSequence], or the
	// provider's own reason lower-cased.
	FinishReason string
	// Model is the model that answered, as the provider names it.
	Model string
}

// Info describes a client.
type Info struct {
	// Provider is the --llm name: "cohere", "oci", "openai", "ollama",
	// "extractive".
	Provider string
	// Model is the model used when a request names none.
	Model string
	// Options lists the option names the provider honours.
	Options []string
	// NativeCitations is true when the provider returns its own
	// citations for Request.Documents (Cohere); otherwise citations are
	// the [n] markers in the text.
	NativeCitations bool
	// Extractive is true when answers are extracted from the sources
	// rather than generated; front ends label them so.
	Extractive bool
}

// Client generates answers.
//
// Stream sends req and calls emit for every piece as it arrives, then
// returns the whole result. It retries rate limits (429), server errors
// and dropped connections with backoff only before the first piece has
// been emitted; after that, a failure ends the stream with an error
// wrapping [ErrStreamCut] (the pieces already emitted stand, and the
// returned Result holds them). An error from emit stops the stream and is
// returned. Cancelling ctx cancels the upstream request. Implementations
// are safe for concurrent use.
type Client interface {
	Info() Info
	Stream(ctx context.Context, req Request, emit func(Event) error) (Result, error)
}

// Errors, wrapped by what clients return.
var (
	// ErrAuth is a rejected credential (401, 403): never retried.
	ErrAuth = errors.New("the provider rejected the credentials")
	// ErrUnavailable means the provider could not be reached or kept
	// failing before the first piece; callers may fall back to the
	// sources alone or to the extractive answerer.
	ErrUnavailable = errors.New("the language model is unavailable")
	// ErrStreamCut is a stream that ended early, after some text.
	ErrStreamCut = errors.New("the answer stream was cut off")
	// ErrUnsupportedOption is a generation option the provider cannot
	// honour.
	ErrUnsupportedOption = errors.New("generation option not supported")
	// ErrConfig is a configuration that cannot work (missing key,
	// endpoint or compartment, unknown provider).
	ErrConfig = errors.New("language model configuration")
)

// Check refuses the options set in o that info's provider does not
// honour, naming them all at once.
func Check(info Info, o Options) error {
	supported := make(map[string]bool, len(info.Options))
	for _, n := range info.Options {
		supported[n] = true
	}
	var bad []string
	for _, n := range o.Set() {
		if !supported[n] {
			bad = append(bad, n)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	if len(info.Options) == 0 {
		return fmt.Errorf("%w: %s does not support %s (it takes no generation options)", ErrUnsupportedOption,
			info.Provider, strings.Join(bad, ", "))
	}
	return fmt.Errorf("%w: %s does not support %s (it supports %s)", ErrUnsupportedOption,
		info.Provider, strings.Join(bad, ", "), strings.Join(info.Options, ", "))
}

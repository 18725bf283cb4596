package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kura-rag/kura/internal/answer"
	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
	"github.com/kura-rag/kura/internal/llm"
)

// answerOptions are the flags that choose the language model and shape
// answers. `kura ask` and `kura chat` use them for their questions;
// `kura serve` registers the same flags as the server's defaults, which a
// request may override. Flags win over the environment (KURA_LLM,
// KURA_LLM_MODEL), which wins over the defaults; keys and endpoints come
// only from the environment (see app.ProvidersFromEnv).
//
// Generation options are sent only when the user set them: an option the
// provider does not honour is then refused with a clear error. Options
// left alone take the seed app's values (app.SeedGeneration) where the
// provider honours them.
type answerOptions struct {
	LLM              string
	Model            string
	MaxTokens        int
	Temperature      float64
	TopK             int
	TopP             float64
	FrequencyPenalty float64
	PresencePenalty  float64
	Seed             int64
	Stop             []string
	ContextChars     int
	Prompt           string
	SystemPrompt     string
	Fallback         string
	OCIProfile       string
	OCIAPIFormat     string
	LLMTimeout       time.Duration
	LLMAttempts      int

	// set by resolve
	flags          *pflag.FlagSet
	promptTemplate *answer.Prompt
	system         string
}

func (o *answerOptions) register(f *pflag.FlagSet) {
	seed := app.SeedGeneration()
	f.StringVar(&o.LLM, "llm", llm.ProviderExtractive, "who answers: "+strings.Join(llm.Providers, ", ")+", or extractive (offline: sentences of the sources, no model) (env KURA_LLM)")
	f.StringVar(&o.Model, "llm-model", "", "language model (env KURA_LLM_MODEL; default: the provider's, e.g. "+llm.DefaultCohereModel+" for cohere)")
	f.IntVar(&o.MaxTokens, "max-tokens", *seed.MaxTokens, "most tokens in an answer")
	f.Float64Var(&o.Temperature, "temperature", *seed.Temperature, "sampling temperature (0 is the most deterministic)")
	f.IntVar(&o.TopK, "top-k", *seed.TopK, "sample from the k most likely tokens (0: off)")
	f.Float64Var(&o.TopP, "top-p", *seed.TopP, "nucleus sampling: smallest token set with this total probability")
	f.Float64Var(&o.FrequencyPenalty, "frequency-penalty", *seed.FrequencyPenalty, "penalise tokens by how often they appeared (-2..2)")
	f.Float64Var(&o.PresencePenalty, "presence-penalty", *seed.PresencePenalty, "penalise tokens that appeared at all (-2..2)")
	f.Int64Var(&o.Seed, "seed", 0, "sampling seed, for repeatable answers where the provider supports it")
	f.StringArrayVar(&o.Stop, "stop", nil, "stop sequence that ends the answer (repeatable)")
	f.IntVar(&o.ContextChars, "context-chars", answer.DefaultContextChars, "characters of source text put into the prompt")
	f.StringVar(&o.Prompt, "prompt", "", "prompt template: a Jinja2 FILE using {{ question }} and {{ context }}, or langfuse:NAME[@label|#version] from Langfuse prompt management (default: the built-in prompt of the question's language)")
	f.StringVar(&o.SystemPrompt, "system-prompt", "", "system prompt (preamble) replacing the built-in one: TEXT, or @FILE to read it from a file")
	f.StringVar(&o.Fallback, "fallback", api.FallbackNone, "when the language model cannot be reached: none (show the sources) or extractive (an extracted answer too)")
	f.StringVar(&o.OCIProfile, "oci-profile", "", "oci: profile of ~/.oci/config to authenticate with, e.g. CHICAGO (env OCI_CONFIG_PROFILE; default DEFAULT)")
	f.StringVar(&o.OCIAPIFormat, "oci-api-format", "", "oci: COHERE or GENERIC chat format (default: COHERE for cohere.* models, GENERIC otherwise)")
	f.DurationVar(&o.LLMTimeout, "llm-timeout", llm.DefaultFirstTokenTimeout, "how long to wait for the first piece of an answer before retrying")
	f.IntVar(&o.LLMAttempts, "llm-retries", llm.DefaultAttempts, "attempts on 429, 5xx, timeouts and dropped connections before the first piece of an answer")
}

// resolve applies the environment to flags the user did not set, checks
// the values and reads the prompt and system prompt files.
func (o *answerOptions) resolve(f *pflag.FlagSet) error {
	o.flags = f
	fromEnv(f, "llm", &o.LLM, "KURA_LLM")
	fromEnv(f, "llm-model", &o.Model, "KURA_LLM_MODEL")
	o.LLM = strings.ToLower(strings.TrimSpace(o.LLM))
	known := append([]string{llm.ProviderExtractive}, llm.Providers...)
	if !slices.Contains(known, o.LLM) {
		return &usageError{fmt.Errorf("unknown --llm %q (use %s)", o.LLM, strings.Join(known, ", "))}
	}
	switch o.Fallback {
	case api.FallbackNone, api.FallbackExtractive:
	default:
		return &usageError{fmt.Errorf("unknown --fallback %q (use %s or %s)", o.Fallback, api.FallbackNone, api.FallbackExtractive)}
	}
	if o.ContextChars < 1 || o.ContextChars > api.MaxContextChars {
		return &usageError{fmt.Errorf("--context-chars %d is out of range 1..%d", o.ContextChars, api.MaxContextChars)}
	}
	if o.LLMTimeout <= 0 {
		return &usageError{fmt.Errorf("--llm-timeout %s must be positive", o.LLMTimeout)}
	}
	if o.LLMAttempts < 1 {
		return &usageError{fmt.Errorf("--llm-retries %d must be at least 1", o.LLMAttempts)}
	}
	switch strings.ToUpper(o.OCIAPIFormat) {
	case "", "COHERE", "GENERIC":
	default:
		return &usageError{fmt.Errorf("unknown --oci-api-format %q (use COHERE or GENERIC)", o.OCIAPIFormat)}
	}
	gen := o.generation()
	if err := gen.Validate(); err != nil {
		return flagError(err)
	}

	o.promptTemplate = nil
	if o.Prompt != "" && !strings.HasPrefix(o.Prompt, "langfuse:") {
		p, err := answer.ReadPrompt(o.Prompt)
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return &usageError{fmt.Errorf("--prompt %s: %w", o.Prompt, pathErr.Err)}
		}
		if err != nil {
			return &usageError{fmt.Errorf("--prompt: %w", err)} // a template error names the file and line
		}
		o.promptTemplate = p
	}
	o.system = o.SystemPrompt
	if file, ok := strings.CutPrefix(o.SystemPrompt, "@"); ok {
		b, err := os.ReadFile(file)
		if err != nil {
			return &usageError{fmt.Errorf("--system-prompt @%s: %w", file, unwrapPathErr(err))}
		}
		o.system = strings.TrimSpace(string(b))
		if o.system == "" {
			return &usageError{fmt.Errorf("--system-prompt @%s: the file is empty", file)}
		}
	}
	if len(o.system) > api.MaxSystemPrompt {
		return &usageError{fmt.Errorf("--system-prompt is %d bytes; at most %d are allowed", len(o.system), api.MaxSystemPrompt)}
	}
	return nil
}

// changed reports whether the user set flag name.
func (o *answerOptions) changed(name string) bool {
	return o.flags != nil && o.flags.Changed(name)
}

// generation returns the generation options the user set explicitly, and
// only those: they are checked against what the provider honours.
func (o *answerOptions) generation() api.GenerationOptions {
	var g api.GenerationOptions
	if o.changed("max-tokens") {
		g.MaxTokens = ptr(o.MaxTokens)
	}
	if o.changed("temperature") {
		g.Temperature = ptr(o.Temperature)
	}
	if o.changed("top-k") {
		g.TopK = ptr(o.TopK)
	}
	if o.changed("top-p") {
		g.TopP = ptr(o.TopP)
	}
	if o.changed("frequency-penalty") {
		g.FrequencyPenalty = ptr(o.FrequencyPenalty)
	}
	if o.changed("presence-penalty") {
		g.PresencePenalty = ptr(o.PresencePenalty)
	}
	if o.changed("seed") {
		g.Seed = ptr(o.Seed)
	}
	if len(o.Stop) > 0 {
		g.Stop = append([]string(nil), o.Stop...)
	}
	return g
}

// defaults are the answer settings of an App: the chosen model, prompt,
// budget and fallback, and the generation options (the seed app's values
// overridden by the flags the user set), which apply where the provider
// honours them. `kura serve` passes them as app.Options.Answers.
func (o *answerOptions) defaults() app.AnswerDefaults {
	gen := app.SeedGeneration()
	set := o.generation()
	if set.MaxTokens != nil {
		gen.MaxTokens = set.MaxTokens
	}
	if set.Temperature != nil {
		gen.Temperature = set.Temperature
	}
	if set.TopK != nil {
		gen.TopK = set.TopK
	}
	if set.TopP != nil {
		gen.TopP = set.TopP
	}
	if set.FrequencyPenalty != nil {
		gen.FrequencyPenalty = set.FrequencyPenalty
	}
	if set.PresencePenalty != nil {
		gen.PresencePenalty = set.PresencePenalty
	}
	gen.Seed, gen.Stop = set.Seed, set.Stop
	d := app.AnswerDefaults{
		LLM:          o.LLM,
		Model:        o.Model,
		Generation:   &gen,
		ContextChars: o.ContextChars,
		SystemPrompt: o.system,
		Fallback:     o.Fallback,
		LLMConfig: llm.Config{
			OCIAPIFormat:      strings.ToUpper(o.OCIAPIFormat),
			FirstTokenTimeout: o.LLMTimeout,
			Attempts:          o.LLMAttempts,
		},
	}
	if o.promptTemplate != nil {
		d.PromptTemplate = o.promptTemplate
	} else {
		d.Prompt = o.Prompt
	}
	return d
}

// providers applies the provider flags (--oci-profile) to the settings
// read from the environment.
func (o *answerOptions) providers(p app.Providers) app.Providers {
	if o.OCIProfile != "" {
		p.OCI.Profile = o.OCIProfile
	}
	return p
}

func ptr[T any](v T) *T { return &v }

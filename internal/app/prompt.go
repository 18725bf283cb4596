package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/kura-rag/kura/internal/answer"
	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/langfuse"
	"github.com/kura-rag/kura/internal/tracing"
)

// prompt resolves the prompt of a question: a template the caller read
// from a file, a managed prompt from Langfuse (with its cache and
// fallbacks), or nil for the built-in prompt of the question's language.
// It returns the template, the system prompt, the reference a generation
// is linked to, and a label for the answer record.
func (a *App) prompt(ctx context.Context, in AskInput) (*answer.Prompt, string, tracing.PromptRef, string, error) {
	system := firstNonEmpty(in.SystemPrompt, a.opts.Answers.SystemPrompt)
	if in.PromptTemplate != nil {
		return in.PromptTemplate, system, tracing.PromptRef{}, "file", nil
	}
	name := firstNonEmpty(in.Prompt, a.opts.Answers.Prompt)
	if name == "" {
		if t := a.opts.Answers.PromptTemplate; t != nil {
			return t, system, tracing.PromptRef{}, "file", nil
		}
		return nil, system, tracing.PromptRef{}, "builtin", nil
	}
	ref, err := langfuse.ParsePromptRef(name)
	if err != nil {
		return nil, "", tracing.PromptRef{}, "", api.Wrap(api.CodeInvalidRequest, "prompt", err)
	}
	res, err := a.prompts.Get(ctx, ref)
	switch {
	case errors.Is(err, langfuse.ErrUnavailable), errors.Is(err, langfuse.ErrNotConfigured):
		// Neither Langfuse nor a saved copy: the built-in prompt answers,
		// and the person running kura is told.
		a.notify(fmt.Sprintf("warning: %v; using the built-in prompt", err))
		return nil, system, tracing.PromptRef{}, "builtin", nil
	case err != nil:
		return nil, "", tracing.PromptRef{}, "", api.Wrap(api.CodeInvalidRequest, "prompt", err)
	}
	if res.Warning != "" {
		a.notify("warning: " + res.Warning)
	}
	p := res.Prompt
	label := "langfuse:" + p.Name + "#" + strconv.Itoa(p.Version)
	link := tracing.PromptRef{Name: p.Name, Version: p.Version}
	text := p.Text
	if p.Type == langfuse.PromptChat {
		// A chat prompt: its system message is the preamble (unless the
		// request gives one), its user message the template.
		text = ""
		for _, m := range p.Messages {
			switch m.Role {
			case "system":
				if system == "" {
					system = m.Content
				}
			case "user":
				text = m.Content
			}
		}
	}
	tpl, err := answer.ParsePrompt(label, text)
	if err != nil {
		return nil, "", link, label, api.Wrap(api.CodeInvalidRequest, "prompt", err)
	}
	return tpl, system, link, label, nil
}

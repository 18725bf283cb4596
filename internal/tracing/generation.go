package tracing

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/kura-rag/kura/internal/llm"
)

// PromptRef links a generation to the managed prompt it was rendered from
// (Langfuse prompt management). The zero value means a built-in or local
// prompt, which is not linked.
type PromptRef struct {
	Name    string
	Version int
}

// GenerationSpan is one LLM call, recorded as a GenAI span and as a
// Langfuse generation. A nil *GenerationSpan does nothing.
type GenerationSpan struct {
	span
	start time.Time
	once  sync.Once
}

// StartGeneration starts the span of one call to the model of info with
// req. With content on, the system prompt, the messages (and the documents
// of natively grounded providers) are the generation's input.
func StartGeneration(ctx context.Context, info llm.Info, req llm.Request, prompt PromptRef) (context.Context, *GenerationSpan) {
	if !recording(ctx) {
		return ctx, nil
	}
	model := req.Model
	if model == "" {
		model = info.Model
	}
	ctx, sp, ok := startChild(ctx, spanName("chat", model), trace.SpanKindClient)
	if !ok {
		return ctx, nil
	}
	attrs := []attribute.KeyValue{
		lfObsType.String(obsGeneration),
		semconv.GenAIOperationNameChat,
		semconv.GenAIProviderNameKey.String(info.Provider),
		semconv.GenAIRequestModel(model),
		lfModel.String(model),
		attrLLMExtractive.Bool(info.Extractive),
	}
	attrs = append(attrs, optionAttrs(req.Options)...)
	if params := modelParameters(req.Options); len(params) > 0 {
		attrs = append(attrs, lfModelParams.String(jsonString(params)))
	}
	if prompt.Name != "" {
		attrs = append(attrs, lfPromptName.String(prompt.Name), semconv.GenAIPromptName(prompt.Name))
		if prompt.Version > 0 {
			attrs = append(attrs, lfPromptVersion.Int(prompt.Version))
		}
	}
	if sp.content {
		attrs = append(attrs, generationInput(req)...)
	}
	sp.s.SetAttributes(attrs...)
	return ctx, &GenerationSpan{span: sp, start: time.Now()}
}

// FirstToken records that the first piece of the answer arrived now: the
// completion start time Langfuse shows and kura's time to first token.
// Only the first call counts; call it from the stream's emit function.
func (g *GenerationSpan) FirstToken() {
	if g == nil {
		return
	}
	g.once.Do(func() {
		now := time.Now()
		g.s.SetAttributes(
			lfCompletionTime.String(now.UTC().Format(time.RFC3339Nano)),
			attrTTFT.Float64(float64(now.Sub(g.start).Microseconds())/1000),
		)
		g.s.AddEvent("first_token", trace.WithTimestamp(now))
	})
}

// End records the result: response model, finish reason, token usage and,
// with content on, the answer text (also the partial text of a stream that
// was cut off).
func (g *GenerationSpan) End(res llm.Result, err error) {
	if g == nil {
		return
	}
	if res.Text != "" {
		g.FirstToken() // a provider that does not stream still had a first token
	}
	attrs := []attribute.KeyValue{attrCitations.Int(len(res.Citations))}
	if res.Model != "" {
		attrs = append(attrs, semconv.GenAIResponseModel(res.Model))
	}
	if res.FinishReason != "" {
		attrs = append(attrs, semconv.GenAIResponseFinishReasons(res.FinishReason))
	}
	if u := res.Usage; u.InputTokens > 0 || u.OutputTokens > 0 {
		attrs = append(attrs,
			semconv.GenAIUsageInputTokens(u.InputTokens),
			semconv.GenAIUsageOutputTokens(u.OutputTokens),
			lfUsage.String(usageJSON(u.InputTokens, u.OutputTokens)),
		)
	}
	if g.content && (res.Text != "" || err == nil) {
		out := map[string]any{
			"role":  "assistant",
			"parts": []map[string]string{{"type": "text", "content": res.Text}},
		}
		if res.FinishReason != "" {
			out["finish_reason"] = res.FinishReason
		}
		attrs = append(attrs,
			semconv.GenAIOutputMessagesKey.String(jsonString([]any{out})),
			lfObsOutput.String(res.Text),
		)
	}
	g.end(err, attrs...)
}

// SpanID is the generation's span id, Langfuse's observation id: a
// feedback score names it to attach to the generation.
func (g *GenerationSpan) SpanID() string {
	if g == nil {
		return ""
	}
	return g.s.SpanContext().SpanID().String()
}

// optionAttrs are the gen_ai.request.* attributes of the options set.
func optionAttrs(o llm.Options) []attribute.KeyValue {
	var a []attribute.KeyValue
	if o.MaxTokens != nil {
		a = append(a, semconv.GenAIRequestMaxTokens(*o.MaxTokens))
	}
	if o.Temperature != nil {
		a = append(a, semconv.GenAIRequestTemperature(*o.Temperature))
	}
	if o.TopK != nil {
		a = append(a, semconv.GenAIRequestTopK(float64(*o.TopK)))
	}
	if o.TopP != nil {
		a = append(a, semconv.GenAIRequestTopP(*o.TopP))
	}
	if o.FrequencyPenalty != nil {
		a = append(a, semconv.GenAIRequestFrequencyPenalty(*o.FrequencyPenalty))
	}
	if o.PresencePenalty != nil {
		a = append(a, semconv.GenAIRequestPresencePenalty(*o.PresencePenalty))
	}
	if o.Seed != nil {
		a = append(a, semconv.GenAIRequestSeed(int(*o.Seed)))
	}
	if len(o.Stop) > 0 {
		a = append(a, semconv.GenAIRequestStopSequences(o.Stop...))
	}
	return a
}

// modelParameters is the langfuse.observation.model.parameters object,
// named as kura's options are; the stop sequences as one JSON string.
func modelParameters(o llm.Options) map[string]any {
	m := o.Map()
	if m == nil {
		return map[string]any{}
	}
	if len(o.Stop) > 0 {
		m[llm.OptStop] = jsonString(o.Stop)
	}
	return m
}

// generationInput is the content side of a generation's input: the GenAI
// conventions' system instructions and input messages, and Langfuse's
// input (ChatML messages, with the documents when the provider grounds
// natively).
func generationInput(req llm.Request) []attribute.KeyValue {
	type part struct {
		Type    string `json:"type"`
		Content string `json:"content"`
	}
	type genAIMessage struct {
		Role  string `json:"role"`
		Parts []part `json:"parts"`
	}
	type chatML struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	var attrs []attribute.KeyValue
	genai := make([]genAIMessage, 0, len(req.Messages))
	chat := make([]chatML, 0, len(req.Messages)+1)
	if req.System != "" {
		attrs = append(attrs, semconv.GenAISystemInstructionsKey.String(jsonString([]part{{"text", req.System}})))
		chat = append(chat, chatML{string(llm.RoleSystem), req.System})
	}
	for _, m := range req.Messages {
		genai = append(genai, genAIMessage{string(m.Role), []part{{"text", m.Content}}})
		chat = append(chat, chatML{string(m.Role), m.Content})
	}
	attrs = append(attrs, semconv.GenAIInputMessagesKey.String(jsonString(genai)))
	if len(req.Documents) > 0 {
		docs := make([]map[string]string, len(req.Documents))
		for i, d := range req.Documents {
			docs[i] = map[string]string{"id": d.ID, "title": d.Title, "source": d.Source, "text": d.Text}
		}
		attrs = append(attrs, lfObsInput.String(jsonString(map[string]any{
			"messages": chat, "documents": docs,
		})))
	} else {
		attrs = append(attrs, lfObsInput.String(jsonString(chat)))
	}
	return attrs
}

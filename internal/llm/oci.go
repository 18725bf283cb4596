package llm

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/generativeaiinference"

	"github.com/kura-rag/kura/internal/provider"
)

// OCI API formats (Config.OCIAPIFormat).
const (
	OCIFormatCohere  = "COHERE"
	OCIFormatGeneric = "GENERIC"
)

// OCI streams answers from OCI Generative AI's chat action (POST
// {endpoint}/20231130/actions/chat with isStream true) in the compartment
// COMPARTMENT_ID, authenticated by an API-key profile of the OCI config
// file (such as the seed app's CHICAGO) or by the instance principal.
//
// Cohere models go through the COHERE API format: the preamble as
// preambleOverride, earlier turns as chatHistory (USER/CHATBOT), the
// sources as documents ({"id", "title", "snippet", "source"}), and the
// citations of the final event (documentIds) mapped back onto them. Other
// vendors' models (Meta Llama, xAI Grok, OpenAI gpt-oss, Google Gemini on
// OCI) go through the GENERIC format: SYSTEM, USER and ASSISTANT messages
// of TEXT content. Options travel under OCI's names: maxTokens,
// temperature, topK, topP, frequencyPenalty, presencePenalty, seed, and
// stopSequences (COHERE) or stop (GENERIC); streamOptions.isIncludeUsage
// asks for the token counts.
//
// The request body is built from the SDK's own types and sent, signed
// (draft-cavage HTTP signatures, by the SDK's signer for the configured
// credentials), through the SDK client's Call; the server-sent event
// stream is read here. The SDK's Chat method is not used because it reads
// and closes the response body unless the Content-Type is exactly
// "text/event-stream", and it runs its own retry machinery; the SDK's
// retries and circuit breaker are off, the shared [provider.Retrier]
// retries before the first piece.
type OCI struct {
	client      generativeaiinference.GenerativeAiInferenceClient
	model       string
	compartment string
	format      string // "" chooses per model
	profile     string // for hints
	s           *streamer
}

// NewOCI creates the OCI Generative AI client.
func NewOCI(cfg Config) (*OCI, error) {
	o := cfg.OCI
	if o.CompartmentID == "" {
		return nil, configErrorf("the oci provider needs the OCID of a compartment: set COMPARTMENT_ID")
	}
	format := strings.ToUpper(strings.TrimSpace(cfg.OCIAPIFormat))
	if format != "" && format != OCIFormatCohere && format != OCIFormatGeneric {
		return nil, configErrorf("OCI API format %q: use COHERE or GENERIC", cfg.OCIAPIFormat)
	}
	client, err := o.GenAIClient(cfg.Endpoint, "GENAI_ENDPOINT", cfg.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	model := cmp.Or(cfg.Model, DefaultOCIModel)
	profile := o.Profile
	if profile == "" {
		profile = "DEFAULT"
	}
	if strings.EqualFold(o.Auth, "instance_principal") || strings.EqualFold(o.Auth, "instanceprincipal") {
		profile = ""
	}
	return &OCI{client: client, model: model, compartment: o.CompartmentID, format: format, profile: profile,
		s: newStreamer(ProviderOCI, cfg)}, nil
}

// formatFor is the API format a model is called with.
func (c *OCI) formatFor(model string) string {
	switch {
	case c.format != "":
		return c.format
	case strings.HasPrefix(model, "cohere."):
		return OCIFormatCohere
	}
	return OCIFormatGeneric
}

var ociOptions = []string{OptFrequencyPenalty, OptMaxTokens, OptPresencePenalty, OptSeed, OptStop, OptTemperature, OptTopK, OptTopP}

func (c *OCI) Info() Info {
	return Info{Provider: ProviderOCI, Model: c.model, Options: ociOptions, NativeCitations: c.formatFor(c.model) == OCIFormatCohere}
}

func intPtr(p *int64) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}

// chatDetails builds the request body with the SDK's types.
func (c *OCI) chatDetails(req Request, model string) generativeaiinference.ChatDetails {
	stream, usage := true, true
	op := req.Options
	details := generativeaiinference.ChatDetails{CompartmentId: common.String(c.compartment), ServingMode: provider.OCIServingMode(model)}
	if c.formatFor(model) == OCIFormatCohere {
		cr := generativeaiinference.CohereChatRequest{
			IsStream: &stream, StreamOptions: &generativeaiinference.StreamOptions{IsIncludeUsage: &usage},
			MaxTokens: op.MaxTokens, Temperature: op.Temperature, TopK: op.TopK, TopP: op.TopP,
			FrequencyPenalty: op.FrequencyPenalty, PresencePenalty: op.PresencePenalty, Seed: intPtr(op.Seed),
			StopSequences: op.Stop,
		}
		if sys := systemPrompt(req); sys != "" {
			cr.PreambleOverride = common.String(sys)
		}
		var turns []Message
		for _, m := range req.Messages {
			if m.Role != RoleSystem {
				turns = append(turns, m)
			}
		}
		last := turns[len(turns)-1]
		cr.Message = common.String(last.Content)
		for _, m := range turns[:len(turns)-1] {
			if m.Role == RoleUser {
				cr.ChatHistory = append(cr.ChatHistory, generativeaiinference.CohereUserMessage{Message: common.String(m.Content)})
			} else {
				cr.ChatHistory = append(cr.ChatHistory, generativeaiinference.CohereChatBotMessage{Message: common.String(m.Content)})
			}
		}
		for _, d := range req.Documents {
			doc := map[string]string{"id": d.ID, "snippet": d.Text}
			if d.Title != "" {
				doc["title"] = d.Title
			}
			if d.Source != "" {
				doc["source"] = d.Source
			}
			cr.Documents = append(cr.Documents, doc)
		}
		details.ChatRequest = cr
		return details
	}
	gr := generativeaiinference.GenericChatRequest{
		IsStream: &stream, StreamOptions: &generativeaiinference.StreamOptions{IsIncludeUsage: &usage},
		MaxTokens: op.MaxTokens, Temperature: op.Temperature, TopK: op.TopK, TopP: op.TopP,
		FrequencyPenalty: op.FrequencyPenalty, PresencePenalty: op.PresencePenalty, Seed: intPtr(op.Seed), Stop: op.Stop,
	}
	text := func(s string) []generativeaiinference.ChatContent {
		return []generativeaiinference.ChatContent{generativeaiinference.TextContent{Text: common.String(s)}}
	}
	if sys := systemPrompt(req); sys != "" {
		gr.Messages = append(gr.Messages, generativeaiinference.SystemMessage{Content: text(sys)})
	}
	for _, m := range req.Messages {
		switch m.Role {
		case RoleUser:
			gr.Messages = append(gr.Messages, generativeaiinference.UserMessage{Content: text(m.Content)})
		case RoleAssistant:
			gr.Messages = append(gr.Messages, generativeaiinference.AssistantMessage{Content: text(m.Content)})
		}
	}
	details.ChatRequest = gr
	return details
}

func (c *OCI) hints(model string) provider.Hints {
	who := "the instance's dynamic group and its policies"
	if c.profile != "" {
		who = fmt.Sprintf("user, fingerprint and key_file of profile %s in the OCI config file (OCI_CONFIG_PROFILE, OCI_CONFIG_FILE)", c.profile)
	}
	return provider.Hints{
		0:   "check GENAI_ENDPOINT (or the profile's region) and the network",
		400: fmt.Sprintf("the request was refused: check the model (%s), COMPARTMENT_ID and the generation options", model),
		401: "OCI rejected the request signature: check " + who,
		403: "not allowed: check the IAM policy for generative-ai-family in COMPARTMENT_ID",
		404: fmt.Sprintf("not found or not authorized: check COMPARTMENT_ID, the IAM policy, the model (%s) and that GENAI_ENDPOINT's region serves it on demand", model),
	}
}

// Stream implements [Client].
func (c *OCI) Stream(ctx context.Context, req Request, emit func(Event) error) (Result, error) {
	if err := validate(c.Info(), req); err != nil {
		return Result{}, err
	}
	model := cmp.Or(req.Model, c.model)
	details := c.chatDetails(req, model)
	h := c.hints(model)
	return c.s.run(ctx, req.Documents, emit, func(ctx context.Context, a *answer) error {
		a.model = model
		ctx, ex := provider.WithExchange(ctx)
		noRetry := common.NoRetryPolicy()
		hreq, err := generativeaiinference.ChatRequest{ChatDetails: details,
			RequestMetadata: common.RequestMetadata{RetryPolicy: &noRetry}}.HTTPRequest(http.MethodPost, "/actions/chat", nil, nil)
		if err != nil {
			return fmt.Errorf("cannot build the OCI chat request: %w", err)
		}
		hreq.Header.Set("Accept", "text/event-stream")
		// Call prepares (endpoint, date, user agent), signs and sends the
		// request, and on success returns the response with its body
		// unread.
		resp, err := c.client.Call(ctx, &hreq)
		if err != nil {
			if resp != nil && resp.Body != nil {
				resp.Body.Close()
			}
			return provider.Classify(ctx, ProviderOCI, ex, err, h)
		}
		defer resp.Body.Close()
		return classifyRead(ctx, ProviderOCI, readOCI(resp.Body, !isNDJSON(resp), a), h)
	})
}

// isNDJSON reports a newline-delimited JSON body; OCI answers a stream
// as text/event-stream.
func isNDJSON(resp *http.Response) bool {
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	return strings.Contains(ct, "ndjson") || strings.Contains(ct, "jsonl")
}

// ociEvent is one streamed chat event, in either API format. COHERE
// events carry "text" (a piece; the last event, with finishReason, the
// whole answer again) and, at the end, citations; GENERIC events carry
// message.content[] and, at the end, finishReason. usage arrives at the
// end of either. A failure during the stream is an object with "code" and
// a "message" string, where GENERIC has "message" as an object, so it is
// decoded once its shape is known.
type ociEvent struct {
	Text         *string         `json:"text"`
	FinishReason string          `json:"finishReason"`
	Citations    []ociCitation   `json:"citations"`
	Message      json.RawMessage `json:"message"`
	Code         string          `json:"code"`
	Usage        *struct {
		PromptTokens     int `json:"promptTokens"`
		CompletionTokens int `json:"completionTokens"`
	} `json:"usage"`
}

type ociCitation struct {
	Start       int      `json:"start"`
	End         int      `json:"end"`
	Text        string   `json:"text"`
	DocumentIDs []string `json:"documentIds"`
}

type ociGenericMessage struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
}

// readOCI feeds an OCI chat event stream into a.
func readOCI(body io.Reader, sse bool, a *answer) error {
	return payloads(body, sse, func(data []byte) error {
		a.received()
		var ev ociEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			return badEvent(ProviderOCI, data, err)
		}
		msg := ev.Message
		if len(msg) > 0 && msg[0] == '"' {
			var text string
			json.Unmarshal(msg, &text)
			if ev.Code != "" || ev.Text == nil {
				return &provider.APIError{Provider: ProviderOCI, Status: http.StatusOK, Msg: provider.Shorten(ev.Code + ": " + text)}
			}
			msg = nil
		}
		if len(msg) > 0 && msg[0] == '{' {
			var gm ociGenericMessage
			if err := json.Unmarshal(msg, &gm); err != nil {
				return badEvent(ProviderOCI, data, err)
			}
			for _, c := range gm.Content {
				if c.Type == "" || strings.EqualFold(c.Type, "TEXT") {
					if err := a.delta(c.Text); err != nil {
						return err
					}
				}
			}
		}
		if ev.Text != nil && (ev.FinishReason == "" || !a.started) {
			// The last COHERE event repeats the whole answer: it is only
			// new text if nothing was streamed before it.
			if err := a.delta(*ev.Text); err != nil {
				return err
			}
		}
		for _, c := range ev.Citations {
			if err := a.cite(charCitation{start: c.Start, end: c.End, text: c.Text, refs: c.DocumentIDs}); err != nil {
				return err
			}
		}
		if ev.Usage != nil {
			a.usage = Usage{InputTokens: ev.Usage.PromptTokens, OutputTokens: ev.Usage.CompletionTokens}
		}
		if ev.FinishReason != "" {
			a.finish = normalFinish(ev.FinishReason)
			a.done = true
		}
		return nil
	})
}

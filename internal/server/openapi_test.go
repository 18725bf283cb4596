package server_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/server"
)

// Every route the server answers is in the OpenAPI document, with a
// summary, a success response and an error response, and every schema
// reference resolves.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := newEnv(t, server.Config{})
	resp, body := e.do("GET", "/api/v1/openapi.json", nil)
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("%v %s", err, doc.OpenAPI)
	}
	routes := server.Routes(e.srv)
	if len(routes) < 25 {
		t.Fatalf("only %d routes", len(routes))
	}
	ids := map[string]bool{}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt, " ")
		p := strings.ReplaceAll(strings.ReplaceAll(path, "{$}", ""), "...}", "}")
		raw, ok := doc.Paths[p][strings.ToLower(method)]
		if !ok {
			t.Errorf("%s is not documented", rt)
			continue
		}
		var op struct {
			OperationID string                     `json:"operationId"`
			Summary     string                     `json:"summary"`
			Responses   map[string]json.RawMessage `json:"responses"`
		}
		json.Unmarshal(raw, &op)
		if op.Summary == "" || len(op.Responses) < 2 || op.Responses["default"] == nil || ids[op.OperationID] {
			t.Errorf("%s: summary %q, %d responses, operationId %q", rt, op.Summary, len(op.Responses), op.OperationID)
		}
		ids[op.OperationID] = true
		// The route is really served (not 404) by the mux.
		req, _ := http.NewRequest(method, e.ts.URL+strings.NewReplacer("{$}", "", "{name}", "kura", "{id}", "x", "{job_id}", "x", "{answer_id}", "x", "{file...}", "app.js").Replace(path), nil)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode == 405 {
			t.Errorf("%s: %v %d", rt, err, resp.StatusCode)
		}
	}
	for _, ref := range refs(body) {
		if _, ok := doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]; !ok {
			t.Errorf("dangling $ref %s", ref)
		}
	}
	// The Answer schema is the ask --json shape, fields described.
	var answer struct {
		Properties map[string]struct {
			Description string `json:"description"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	json.Unmarshal(doc.Components.Schemas["Answer"], &answer)
	for _, f := range []string{"id", "trace_id", "answer", "citations", "sources", "llm", "usage", "timings"} {
		if _, ok := answer.Properties[f]; !ok {
			t.Errorf("Answer lacks %s", f)
		}
	}
	if answer.Properties["answer"].Description == "" || !contains(answer.Required, "citations") || !contains(answer.Required, "trace_id") {
		t.Errorf("Answer schema: %+v", answer)
	}
	// AskRequest: embedded options flattened; question required.
	var ask struct {
		Properties map[string]any `json:"properties"`
		Required   []string       `json:"required"`
	}
	json.Unmarshal(doc.Components.Schemas["AskRequest"], &ask)
	for _, f := range jsonFields(reflect.TypeOf(api.AskRequest{})) {
		if _, ok := ask.Properties[f]; !ok {
			t.Errorf("AskRequest schema lacks %s", f)
		}
	}
	if !contains(ask.Required, "question") || contains(ask.Required, "k") {
		t.Errorf("AskRequest required %v", ask.Required)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func refs(b []byte) []string {
	var out []string
	s := string(b)
	for {
		i := strings.Index(s, `"$ref": "`)
		if i < 0 {
			return out
		}
		s = s[i+9:]
		out = append(out, s[:strings.Index(s, `"`)])
	}
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		out = append(out, name)
	}
	return out
}

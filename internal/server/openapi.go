package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/kura-rag/kura/internal/api"
)

// The OpenAPI 3.1 document is generated from the route table and the
// internal/api types by reflection, so it cannot drift from what the
// handlers decode and encode. Field descriptions come from the api
// package's doc comments (fielddocs_gen.go, `go generate`).

//go:generate go run ./internal/genfielddocs -o fielddocs_gen.go ../api

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := s.openAPIDocument()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(b)
}

// openAPIDocument builds the document.
func (s *Server) openAPIDocument() ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}}
	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		p := openAPIPath(rt.path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.method)] = g.operation(rt)
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "kura",
			"version": s.cfg.Version,
			"description": "kura's HTTP API: search, cited answers (streamed as Server-Sent Events), feedback, conversations, " +
				"uploads, traces, and an OpenAI-compatible chat endpoint. Errors are {\"error\": {\"code\", \"message\"}} " +
				"(OpenAI's error shape under /v1). Authenticate with Authorization: Bearer <key> when the server has keys.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.defs,
			"securitySchemes": map[string]any{
				"bearerAuth": map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// openAPIPath turns a mux pattern into an OpenAPI path.
func openAPIPath(p string) string {
	p = strings.ReplaceAll(p, "{$}", "")
	p = strings.ReplaceAll(p, "...}", "}")
	return p
}

func pathParams(p string) []string {
	var out []string
	for _, seg := range strings.Split(openAPIPath(p), "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.Trim(seg, "{}"))
		}
	}
	return out
}

func (g *schemaGen) operation(rt route) map[string]any {
	d := rt.doc
	o := map[string]any{
		"operationId": operationID(rt),
		"summary":     d.summary,
		"tags":        []string{tag(rt.path)},
	}
	if d.description != "" {
		o["description"] = d.description
	}
	var params []any
	for _, name := range pathParams(rt.path) {
		params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	for _, q := range d.query {
		params = append(params, map[string]any{"name": q.name, "in": "query", "required": q.required,
			"description": q.description, "schema": map[string]any{"type": q.typ}})
	}
	if params != nil {
		o["parameters"] = params
	}
	if d.request != nil {
		o["requestBody"] = map[string]any{"required": true, "content": map[string]any{
			"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(d.request))}}}
	}
	if d.form != nil {
		props := map[string]any{}
		var required []string
		for _, f := range d.form {
			var sch map[string]any
			switch f.typ {
			case "binary":
				sch = map[string]any{"type": "array", "items": map[string]any{"type": "string", "contentMediaType": "application/octet-stream"}}
			default:
				sch = map[string]any{"type": f.typ}
			}
			sch["description"] = f.description
			props[f.name] = sch
			if f.required {
				required = append(required, f.name)
			}
		}
		o["requestBody"] = map[string]any{"required": true, "content": map[string]any{
			"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "properties": props, "required": required}}}}
	}
	status := d.status
	if status == 0 {
		status = http.StatusOK
	}
	ok := map[string]any{"description": http.StatusText(status)}
	content := map[string]any{}
	if d.response != nil {
		content["application/json"] = map[string]any{"schema": g.schema(reflect.TypeOf(d.response))}
	} else if d.content != "" && d.content != "text/event-stream" {
		content[d.content] = map[string]any{}
	}
	if d.stream != nil {
		var lines []string
		var events []any
		for _, ev := range d.stream {
			name := ev.name
			if name == "" {
				name = "(data only)"
			}
			lines = append(lines, fmt.Sprintf("`%s`: %s", name, reflect.TypeOf(ev.payload).Name()))
			events = append(events, g.schema(reflect.TypeOf(ev.payload)))
		}
		content["text/event-stream"] = map[string]any{
			"schema":   map[string]any{"type": "string", "description": "Server-Sent Events; the data of each is one of: " + strings.Join(lines, ", ")},
			"x-events": events,
		}
	}
	if len(content) > 0 {
		ok["content"] = content
	}
	errBody := reflect.TypeOf(api.ErrorBody{})
	if isOpenAIRoute(rt.path) {
		errBody = reflect.TypeOf(api.OpenAIErrorBody{})
	}
	o["responses"] = map[string]any{
		fmt.Sprint(status): ok,
		"default": map[string]any{"description": "An error; see the code.", "content": map[string]any{
			"application/json": map[string]any{"schema": g.schema(errBody)}}},
	}
	if rt.public {
		o["security"] = []any{}
	} else {
		o["security"] = []any{map[string]any{"bearerAuth": []any{}}}
	}
	return o
}

func isOpenAIRoute(p string) bool { return strings.HasPrefix(p, "/v1/") }

func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	if tag(rt.path) == "ui" {
		b.WriteString("Page") // GET /traces (a page) beside GET /api/v1/traces
	}
	for _, seg := range strings.FieldsFunc(openAPIPath(rt.path), func(r rune) bool { return r == '/' || r == '.' || r == '_' }) {
		seg = strings.Trim(seg, "{}")
		if seg == "api" || seg == "v1" || seg == "" {
			continue
		}
		b.WriteString(strings.ToUpper(seg[:1]) + seg[1:])
	}
	if !strings.ContainsAny(b.String()[len(rt.method):], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") || strings.HasSuffix(b.String(), "Page") {
		b.WriteString("Index")
	}
	return b.String()
}

func tag(p string) string {
	switch {
	case strings.HasPrefix(p, "/v1/"):
		return "openai"
	case strings.HasPrefix(p, "/api/v1/"):
		seg := strings.Split(strings.TrimPrefix(p, "/api/v1/"), "/")[0]
		return strings.TrimSuffix(seg, ".json")
	case p == "/healthz" || p == "/readyz" || p == "/metrics":
		return "operations"
	}
	return "ui"
}

// schemaGen turns Go types into JSON Schema (2020-12, as OpenAPI 3.1
// uses), putting named structs under components/schemas.
type schemaGen struct {
	defs map[string]any
}

var (
	timeType    = reflect.TypeOf(time.Time{})
	rawType     = reflect.TypeOf(json.RawMessage(nil))
	contentType = reflect.TypeOf(api.ChatContent(""))
	listType    = reflect.TypeOf(api.StringList(nil))
)

// enums are the closed value sets of named string types.
var enums = map[reflect.Type][]string{
	reflect.TypeOf(api.Code("")):         codeStrings(),
	reflect.TypeOf(api.JobState("")):     {string(api.JobRunning), string(api.JobDone), string(api.JobFailed), string(api.JobCanceled)},
	reflect.TypeOf(api.FeedbackKind("")): {string(api.FeedbackThumbs), string(api.FeedbackFaces)},
	reflect.TypeOf(api.Role("")):         {string(api.RoleSystem), string(api.RoleUser), string(api.RoleAssistant)},
}

func codeStrings() []string {
	var out []string
	for _, c := range api.Codes {
		out = append(out, string(c))
	}
	return out
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawType:
		return map[string]any{"description": "any JSON value (a string or a number), echoed as given"}
	case contentType:
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"},
			map[string]any{"type": "array", "items": map[string]any{"type": "object"}}}}
	case listType:
		return map[string]any{"oneOf": []any{map[string]any{"type": "string"},
			map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}}
	}
	if vals, ok := enums[t]; ok {
		return map[string]any{"type": "string", "enum": vals}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := g.schema(t.Elem())
		if typ, ok := s["type"].(string); ok {
			s["type"] = []string{typ, "null"}
			return s
		}
		return map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		if t.Name() == "" {
			return map[string]any{"type": "object"}
		}
		name := t.Name()
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = map[string]any{} // placeholder: recursion ends here
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// object is a struct's schema: embedded structs flattened as
// encoding/json does; fields without omitempty/omitzero required.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tagv := f.Tag.Get("json")
			if tagv == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tagv, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if name == "" {
				name = f.Name
			}
			s := g.schema(f.Type)
			if doc := fieldDocs[t.Name()+"."+f.Name]; doc != "" {
				if _, isRef := s["$ref"]; isRef {
					s = map[string]any{"allOf": []any{s}, "description": doc}
				} else {
					s["description"] = doc
				}
			}
			props[name] = s
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, name)
			}
		}
	}
	walk(t)
	sort.Strings(required)
	out := map[string]any{"type": "object", "properties": props}
	if doc := fieldDocs[t.Name()]; doc != "" {
		out["description"] = doc
	}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

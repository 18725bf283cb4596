package llmtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// NewOCI fakes OCI Generative AI's POST /20231130/actions/chat with
// chatRequest.isStream true. It requires a request signature in the
// Authorization header (its shape; [VerifyOCISignature] checks the
// signature itself), compartmentId, servingMode (ON_DEMAND with modelId or
// DEDICATED with endpointId) and a chatRequest in one of two formats:
//
//   - COHERE: message (required), chatHistory (USER, CHATBOT, SYSTEM),
//     documents, preambleOverride, and options under OCI's names —
//     maxTokens, temperature 0–1, topK 0–500, topP 0–1, frequencyPenalty
//     and presencePenalty 0–1, seed, stopSequences;
//   - GENERIC: messages (SYSTEM, USER, ASSISTANT with TEXT content),
//     maxTokens, temperature 0–2, topK, topP, frequencyPenalty and
//     presencePenalty −2–2, seed, stop.
//
// Unknown fields are refused. The answer is an SSE stream of "data:"
// events: COHERE sends {"apiFormat": "COHERE", "text": piece} per piece
// and a last event with the whole text, finishReason COMPLETE, citations
// (documentIds) and usage; GENERIC sends {"index": 0, "message":
// {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": piece}]}}
// per piece, then {"index": 0, "finishReason": "stop"} and a usage event.
func NewOCI(o Options) *Server {
	return newServer(o, wire{
		path: func(p string) bool { return p == "/20231130/actions/chat" },
		auth: func(h http.Header, _ Options) (int, map[string]any) {
			if !strings.HasPrefix(h.Get("Authorization"), `Signature version="1",`) || h.Get("X-Content-Sha256") == "" || h.Get("Date") == "" {
				return http.StatusUnauthorized, map[string]any{"code": "NotAuthenticated", "message": "The required information to complete authentication was not provided or was incorrect."}
			}
			return 0, nil
		},
		check: checkOCI,
		errorBody: func(status int, msg string) map[string]any {
			code := map[int]string{400: "InvalidParameter", 401: "NotAuthenticated", 404: "NotAuthorizedOrNotFound", 429: "TooManyRequests", 500: "InternalServerError"}[status]
			if code == "" {
				code = "Error"
			}
			return map[string]any{"code": code, "message": msg}
		},
		stream: streamOCI,
	})
}

func checkOCI(b map[string]any) error {
	serving := func(v any) error {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("must be an object")
		}
		switch m["servingType"] {
		case "ON_DEMAND":
			return checkFields("servingMode", m, map[string]field{"servingType": nil, "modelId": nonEmpty}, "modelId")
		case "DEDICATED":
			return checkFields("servingMode", m, map[string]field{"servingType": nil, "endpointId": nonEmpty}, "endpointId")
		}
		return fmt.Errorf("servingType must be ON_DEMAND or DEDICATED, got %v", m["servingType"])
	}
	streamOptions := object("streamOptions", map[string]field{"isIncludeUsage": boolean})
	cohere := map[string]field{
		"apiFormat": nil,
		"message":   str,
		"chatHistory": objects(func(i int, m map[string]any) error {
			return checkFields(fmt.Sprintf("chatHistory[%d]", i), m, map[string]field{
				"role": oneOf("USER", "CHATBOT", "SYSTEM"), "message": str}, "role", "message")
		}),
		"documents": objects(func(i int, m map[string]any) error {
			if len(m) == 0 {
				return fmt.Errorf("documents[%d] is empty", i)
			}
			return nil
		}),
		"preambleOverride": str,
		"isStream":         isTrue,
		"streamOptions":    streamOptions,
		"maxTokens":        integer(1, 4000),
		"maxInputTokens":   integer(1, 1e6),
		"temperature":      number(0, 1),
		"topK":             integer(0, 500),
		"topP":             number(0, 1),
		"frequencyPenalty": number(0, 1),
		"presencePenalty":  number(0, 1),
		"seed":             integer(-(1 << 53), 1<<53),
		"stopSequences":    strings_(0),
		"isEcho":           boolean,
		"promptTruncation": oneOf("OFF", "AUTO_PRESERVE_ORDER"),
		"citationQuality":  oneOf("ACCURATE", "FAST"),
		"safetyMode":       oneOf("CONTEXTUAL", "STRICT", "OFF"),
	}
	text := objects(func(i int, m map[string]any) error {
		return checkFields(fmt.Sprintf("content[%d]", i), m, map[string]field{"type": oneOf("TEXT"), "text": str}, "type", "text")
	})
	generic := map[string]field{
		"apiFormat": nil,
		"messages": objects(func(i int, m map[string]any) error {
			return checkFields(fmt.Sprintf("messages[%d]", i), m, map[string]field{
				"role": oneOf("SYSTEM", "USER", "ASSISTANT", "DEVELOPER"), "content": text, "name": str}, "role", "content")
		}),
		"isStream":            isTrue,
		"streamOptions":       streamOptions,
		"numGenerations":      integer(1, 1),
		"seed":                integer(-(1 << 53), 1<<53),
		"isEcho":              boolean,
		"topK":                integer(-1, 1e6),
		"topP":                number(0, 1),
		"temperature":         number(0, 2),
		"frequencyPenalty":    number(-2, 2),
		"presencePenalty":     number(-2, 2),
		"stop":                strings_(0),
		"maxTokens":           integer(1, 1e6),
		"maxCompletionTokens": integer(1, 1e6),
	}
	chat := func(v any) error {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("must be an object")
		}
		switch m["apiFormat"] {
		case "COHERE":
			return checkFields("chatRequest", m, cohere, "message", "isStream")
		case "GENERIC":
			return checkFields("chatRequest", m, generic, "messages", "isStream")
		}
		return fmt.Errorf("apiFormat must be COHERE or GENERIC, got %v", m["apiFormat"])
	}
	return checkFields("body", b, map[string]field{
		"compartmentId": nonEmpty,
		"servingMode":   serving,
		"chatRequest":   chat,
	}, "compartmentId", "servingMode", "chatRequest")
}

func streamOCI(s *streamWriter, b map[string]any) {
	cr, _ := b["chatRequest"].(map[string]any)
	so, _ := cr["streamOptions"].(map[string]any)
	withUsage := so["isIncludeUsage"] == true
	usage := map[string]any{"promptTokens": s.o.InputTokens, "completionTokens": s.o.OutputTokens, "totalTokens": s.o.InputTokens + s.o.OutputTokens}
	event := func(v map[string]any) { s.write([]byte("data: " + string(mustJSON(v)) + "\n\n")) }
	s.header("text/event-stream")
	if cr["apiFormat"] == "COHERE" {
		for _, p := range pieces(s.o.Reply, s.o.PieceRunes) {
			if !s.piece() {
				return
			}
			event(map[string]any{"apiFormat": "COHERE", "text": p})
		}
		var cits []any
		for _, c := range defaultCitations(s.o, documentIDs(cr, "id", false)) {
			cits = append(cits, map[string]any{"start": c.Start, "end": c.End, "text": runeSlice(s.o.Reply, c.Start, c.End), "documentIds": c.DocumentIDs})
		}
		last := map[string]any{"apiFormat": "COHERE", "text": s.o.Reply, "finishReason": "COMPLETE"}
		if cits != nil {
			last["citations"] = cits
		}
		if withUsage {
			last["usage"] = usage
		}
		event(last)
		return
	}
	for _, p := range pieces(s.o.Reply, s.o.PieceRunes) {
		if !s.piece() {
			return
		}
		event(map[string]any{"index": 0, "message": map[string]any{"role": "ASSISTANT", "content": []any{map[string]any{"type": "TEXT", "text": p}}}})
	}
	event(map[string]any{"index": 0, "finishReason": "stop"})
	if withUsage {
		event(map[string]any{"usage": usage})
	}
}

// Identity of the API key [WriteOCIConfig] writes.
const (
	OCITenancy     = "ocid1.tenancy.oc1..aaaatenancy"
	OCIUser        = "ocid1.user.oc1..aaaauser"
	OCIFingerprint = "12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0"
	OCICompartment = "ocid1.compartment.oc1..aaaacompartment"
)

// OCIKeyID is the keyId a request signed with profile's key carries.
const OCIKeyID = OCITenancy + "/" + OCIUser + "/" + OCIFingerprint

// WriteOCIConfig writes an OCI config file into dir with a freshly
// generated 2048-bit RSA API key: a DEFAULT profile for another user and
// the given profile (such as CHICAGO) for [OCIUser], region
// us-chicago-1. It returns the file's path and the key, whose public half
// verifies the requests signed with it.
func WriteOCIConfig(dir, profile string) (string, *rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", nil, err
	}
	keyFile := filepath.Join(dir, "oci_api_key.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		return "", nil, err
	}
	cfg := fmt.Sprintf("[DEFAULT]\nuser=ocid1.user.oc1..other\nfingerprint=00:00\ntenancy=%s\nregion=ap-osaka-1\nkey_file=%s\n\n[%s]\nuser=%s\nfingerprint=%s\ntenancy=%s\nregion=us-chicago-1\nkey_file=%s\n",
		OCITenancy, keyFile, profile, OCIUser, OCIFingerprint, OCITenancy, keyFile)
	path := filepath.Join(dir, "config")
	return path, key, os.WriteFile(path, []byte(cfg), 0o600)
}

var sigParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

// VerifyOCISignature checks a recorded request's Authorization header the
// way OCI does: version 1, rsa-sha256, the expected keyId, the headers a
// request with a body must sign (date, (request-target), host,
// content-length, content-type, x-content-sha256), a body digest that
// matches the body, and a signature over the rebuilt signing string that
// verifies with pub.
func VerifyOCISignature(r Request, pub *rsa.PublicKey, keyID string) error {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Signature ") {
		return fmt.Errorf("authorization %q is not an OCI signature", auth)
	}
	params := map[string]string{}
	for _, m := range sigParam.FindAllStringSubmatch(auth, -1) {
		params[m[1]] = m[2]
	}
	if params["version"] != "1" || params["algorithm"] != "rsa-sha256" {
		return fmt.Errorf("signature parameters %v", params)
	}
	if params["keyId"] != keyID {
		return fmt.Errorf("keyId %q, want %q", params["keyId"], keyID)
	}
	headers := strings.Fields(params["headers"])
	for _, h := range []string{"date", "(request-target)", "host", "content-length", "content-type", "x-content-sha256"} {
		if !strings.Contains(" "+params["headers"]+" ", " "+h+" ") {
			return fmt.Errorf("signed headers %q lack %s", params["headers"], h)
		}
	}
	sum := sha256.Sum256(r.Raw)
	if got := r.Header.Get("X-Content-Sha256"); got != base64.StdEncoding.EncodeToString(sum[:]) {
		return fmt.Errorf("x-content-sha256 %q does not match the body", got)
	}
	var lines []string
	for _, h := range headers {
		switch h {
		case "(request-target)":
			target := strings.ToLower(r.Method) + " " + r.Path
			if r.Query != "" {
				target += "?" + r.Query
			}
			lines = append(lines, "(request-target): "+target)
		case "host":
			lines = append(lines, "host: "+r.Host)
		default:
			lines = append(lines, h+": "+r.Header.Get(h))
		}
	}
	sig, err := base64.StdEncoding.DecodeString(params["signature"])
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("the signature does not verify with the key: %v", err)
	}
	return nil
}

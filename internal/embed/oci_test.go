package embed

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kura-rag/kura/internal/embed/embedtest"
)

const (
	ociTenancy     = "ocid1.tenancy.oc1..aaaatenancy"
	ociUser        = "ocid1.user.oc1..aaaauser"
	ociFingerprint = "12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0"
	ociCompartment = "ocid1.compartment.oc1..aaaacompartment"
)

// ociConfig writes an OCI config file with a freshly generated API key
// and returns its path and the key.
func ociConfig(t testing.TB) (string, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "oci_api_key.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("[DEFAULT]\nuser=ocid1.user.oc1..other\nfingerprint=00:00\ntenancy=%s\nregion=us-chicago-1\nkey_file=%s\n\n[KURA]\nuser=%s\nfingerprint=%s\ntenancy=%s\nregion=ap-osaka-1\nkey_file=%s\n",
		ociTenancy, keyFile, ociUser, ociFingerprint, ociTenancy, keyFile)
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, key
}

var sigParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

// verifyOCISignature checks an Authorization header the way OCI does:
// rebuild the signing string from the listed headers and verify it with
// the public key.
func verifyOCISignature(t *testing.T, r embedtest.Request, pub *rsa.PublicKey) {
	t.Helper()
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Signature ") {
		t.Fatalf("Authorization %q is not an OCI signature", auth)
	}
	params := map[string]string{}
	for _, m := range sigParam.FindAllStringSubmatch(auth, -1) {
		params[m[1]] = m[2]
	}
	if params["version"] != "1" || params["algorithm"] != "rsa-sha256" {
		t.Fatalf("signature params %v", params)
	}
	if want := ociTenancy + "/" + ociUser + "/" + ociFingerprint; params["keyId"] != want {
		t.Fatalf("keyId %q, want %q (profile KURA)", params["keyId"], want)
	}
	headers := strings.Fields(params["headers"])
	for _, h := range []string{"date", "(request-target)", "host", "content-length", "content-type", "x-content-sha256"} {
		if !strings.Contains(" "+params["headers"]+" ", " "+h+" ") {
			t.Fatalf("signed headers %q lack %s", params["headers"], h)
		}
	}
	sum := sha256.Sum256(r.Raw)
	if got := r.Header.Get("X-Content-Sha256"); got != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("x-content-sha256 %q does not match the body", got)
	}
	var lines []string
	for _, h := range headers {
		switch h {
		case "(request-target)":
			lines = append(lines, "(request-target): post "+r.Path)
		case "host":
			lines = append(lines, "host: "+r.Host)
		default:
			lines = append(lines, h+": "+r.Header.Get(h))
		}
	}
	sig, err := base64.StdEncoding.DecodeString(params["signature"])
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("signature does not verify with the generated key: %v", err)
	}
}

func TestOCISignedEmbedText(t *testing.T) {
	path, key := ociConfig(t)
	srv := embedtest.NewOCI(embedtest.Options{Dim: 1024})
	defer srv.Close()
	e, err := New(Config{Name: "oci", Endpoint: srv.URL, OCI: OCIConfig{ConfigFile: path, Profile: "KURA", CompartmentID: ociCompartment}})
	if err != nil {
		t.Fatal(err)
	}
	if i := e.Info(); i.Model != DefaultOCIModel || i.Dim != 1024 || e.MaxBatch() != 96 {
		t.Fatalf("info %+v, max batch %d", i, e.MaxBatch())
	}
	in := texts(96)
	vs, err := e.Embed(context.Background(), in, ModeDocument)
	if err != nil {
		t.Fatal(err)
	}
	aligned(t, in, vs, 1024)
	if _, err := e.Embed(context.Background(), in[:1], ModeQuery); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	r := reqs[0]
	if r.Path != "/20231130/actions/embedText" {
		t.Fatalf("path %s", r.Path)
	}
	sm, _ := r.Body["servingMode"].(map[string]any)
	if sm["modelId"] != DefaultOCIModel || sm["servingType"] != "ON_DEMAND" || r.Body["compartmentId"] != ociCompartment ||
		r.Body["truncate"] != "END" || r.Body["inputType"] != "SEARCH_DOCUMENT" {
		t.Fatalf("body %v", r.Body)
	}
	if reqs[1].InputType != "SEARCH_QUERY" {
		t.Fatalf("query input type %q", reqs[1].InputType)
	}
	verifyOCISignature(t, r, &key.PublicKey)

	// A dedicated endpoint OCID is sent as a dedicated serving mode.
	d, err := New(Config{Name: "oci", Model: "ocid1.generativeaiendpoint.oc1.ap-osaka-1.xyz", Endpoint: srv.URL, OCI: OCIConfig{ConfigFile: path, Profile: "KURA", CompartmentID: ociCompartment}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Embed(context.Background(), in[:2], ModeDocument); err != nil {
		t.Fatal(err)
	}
	sm, _ = srv.Requests()[2].Body["servingMode"].(map[string]any)
	if sm["servingType"] != "DEDICATED" || sm["endpointId"] == nil {
		t.Fatalf("dedicated serving mode %v", sm)
	}
}

func TestOCIFailures(t *testing.T) {
	path, _ := ociConfig(t)
	srv := embedtest.NewOCI(embedtest.Options{Fail429Every: 1, RetryAfter: "2"})
	defer srv.Close()
	e, err := New(Config{Name: "oci", Endpoint: srv.URL, OCI: OCIConfig{ConfigFile: path, Profile: "KURA", CompartmentID: ociCompartment}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Embed(context.Background(), texts(2), ModeDocument)
	var ae *APIError
	if !asAPIError(err, &ae) || !ae.Retryable || ae.RetryAfter.Seconds() != 2 || srv.Calls() != 1 {
		t.Fatalf("429: %v (calls %d); the SDK's own retries must be off", err, srv.Calls())
	}
	srv2 := embedtest.NewOCI(embedtest.Options{})
	defer srv2.Close()
	srv2.Hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		w.Write([]byte(`{"code":"NotAuthorizedOrNotFound","message":"Authorization failed or requested resource not found."}`))
		return true
	}
	e2, _ := New(Config{Name: "oci", Endpoint: srv2.URL, OCI: OCIConfig{ConfigFile: path, Profile: "KURA", CompartmentID: ociCompartment}})
	_, err = e2.Embed(context.Background(), texts(2), ModeDocument)
	if !asAPIError(err, &ae) || ae.Retryable || !strings.Contains(err.Error(), "COMPARTMENT_ID") || !strings.Contains(err.Error(), "Authorization failed") {
		t.Fatalf("404: %v", err)
	}
}

func asAPIError(err error, target **APIError) bool { return errors.As(err, target) }

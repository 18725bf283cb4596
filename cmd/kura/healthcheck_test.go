package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthcheck(t *testing.T) {
	ready := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/healthz" && r.URL.Path != "/slow" {
			http.NotFound(w, r)
			return
		}
		if r.URL.Path == "/slow" {
			time.Sleep(time.Second)
		}
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status": "unavailable", "message": "store closed"}`))
			return
		}
		w.Write([]byte(`{"status": "ok"}`))
	}))
	defer srv.Close()
	// An address nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/healthz"
	ln.Close()

	f := func(wantCode int, wantOut, wantErr string, args ...string) {
		t.Helper()
		out, errs, code := kura(t, append([]string{"healthcheck"}, args...)...)
		if code != wantCode || !strings.Contains(out, wantOut) || !strings.Contains(errs, wantErr) {
			t.Fatalf("healthcheck %v: exit %d, stdout %q, stderr %q; want %d, %q, %q", args, code, out, errs, wantCode, wantOut, wantErr)
		}
	}
	f(0, "200 OK", "", srv.URL+"/healthz")
	ready = false
	f(1, "", "answered 503 Service Unavailable: {\"status\": \"unavailable\", \"message\": \"store closed\"}", srv.URL+"/healthz")
	f(1, "", "/nope answered 404", srv.URL+"/nope")
	f(1, "", "is not answering", closed)
	f(1, "", "is not answering", "--timeout", "100ms", srv.URL+"/slow")
	f(2, "", "give an http:// or https:// URL", "localhost:8080/healthz")
	f(2, "", "--timeout 0s must be positive", "--timeout", "0", srv.URL+"/healthz")
	f(2, "", "at most one URL", srv.URL, srv.URL)
}

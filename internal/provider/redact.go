package provider

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// secretParam matches credentials people put into gateway URLs
// (?api_key=..., &token=..., &sig=...).
var secretParam = regexp.MustCompile(`(?i)((?:api[-_]?key|key|token|access_token|secret|signature|sig|password|auth)=)[^&\s"']+`)

// userinfo matches https://user:password@host.
var userinfo = regexp.MustCompile(`(://)[^/@\s:]+:[^/@\s]+@`)

// bearer matches Authorization header values echoed back by a proxy.
var bearer = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}`)

// Redact removes secrets from s: the given values wherever they appear,
// and anything that looks like a credential in a URL or header. Values
// shorter than 4 bytes are not searched for (they would mangle ordinary
// text and are no real key).
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	s = secretParam.ReplaceAllString(s, "${1}[REDACTED]")
	s = userinfo.ReplaceAllString(s, "${1}[REDACTED]@")
	s = bearer.ReplaceAllString(s, "${1}[REDACTED]")
	return s
}

// RedactError returns err with secrets removed from its text, keeping
// errors.Is/As working on the original chain.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// url.Error prints the full URL; keep only scheme, host and path.
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.User, u.RawQuery, u.Fragment = nil, "", ""
			err = &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	msg := Redact(err.Error(), secrets...)
	if msg == err.Error() {
		return err
	}
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

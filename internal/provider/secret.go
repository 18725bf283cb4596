package provider

import "fmt"

// Secret is a credential (an API key). Every fmt verb prints it as
// [REDACTED], and so do String, GoString and MarshalText, so a
// configuration logged or encoded by mistake leaks nothing. Use
// string(s) where the value itself is needed.
type Secret string

func (s Secret) Format(f fmt.State, _ rune) { f.Write([]byte(s.mask())) }
func (s Secret) String() string             { return s.mask() }
func (s Secret) GoString() string           { return s.mask() }

// MarshalText keeps the secret out of JSON, YAML and other encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return "[REDACTED]"
}

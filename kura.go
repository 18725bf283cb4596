// Package kura holds what the kura binary carries with it: the project's
// own documentation, which `kura quickstart` ingests so the demo works
// anywhere, with no files, network or keys.
//
// The code lives under internal/, one package per pipeline step; the
// command is cmd/kura.
package kura

import "embed"

// Docs is the docs/ directory (English and Japanese).
//
//go:embed docs
var Docs embed.FS

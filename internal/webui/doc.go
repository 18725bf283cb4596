// Package webui is kura's web chat, built into the binary: plain HTML,
// CSS and JavaScript modules with no build step and nothing fetched from
// another site, served by package server at / (chat), /traces (the local
// trace view) and /ui/ (assets).
//
// Everything the pages show that comes from documents or models is
// untrusted: the scripts build DOM nodes with textContent and
// createElement only, the Markdown renderer (assets/markdown.js) never
// produces raw HTML, and links keep only http and https URLs. The server
// adds a Content-Security-Policy without 'unsafe-inline', so even markup
// that slipped through could not run.
package webui

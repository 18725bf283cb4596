// Package deploy checks how kura is shipped: the container image's
// Dockerfile, compose.yaml, the Kubernetes manifests under kubernetes/ and
// the release workflow. It is its own Go module so that its heavy
// dependencies (Open Policy Agent, kustomize, the Kubernetes API types,
// BuildKit's Dockerfile parser, compose-go, actionlint) stay out of the
// kura binary's module.
//
// The Kubernetes checks work in three steps, each of which a broken
// manifest fails:
//
//  1. [Render] builds a kustomization with kustomize's own Go API (what
//     kubectl apply -k and Argo CD run);
//  2. [DecodeStrict] decodes every rendered resource into its Kubernetes
//     API type, refusing unknown and duplicate fields, so a misspelt
//     field (readinesProbe) fails instead of being silently dropped by
//     the API server;
//  3. [Evaluate] runs the Rego policies in policy/ over the whole rendered
//     set with Open Policy Agent.
//
// Run the tests with `go test ./...` in this directory; .ci/run does.
package deploy

// Package embed turns chunk texts into vectors: the embed step of
// collect → load → split → embed → store → search.
//
// [Embedder] is the contract every provider implements, with a document and
// a query [Mode] because asymmetric models embed the two differently. [New]
// is the one place where providers are registered:
//
//   - hash: offline, no model (the default); its algorithm is documented
//     on [Hash].
//   - cohere: Cohere's v2 embed API ([Cohere]).
//   - oci: OCI Generative AI EmbedText through the OCI Go SDK, which signs
//     the requests ([OCI]).
//   - openai: the OpenAI embeddings API through the OpenAI Go SDK, against
//     OpenAI or any compatible server ([OpenAI]).
//   - ollama: Ollama's /api/embed ([Ollama]).
//
// A provider makes one attempt per call and reports failures as
// [APIError] (Retryable or not, with a hint naming the setting to check)
// or [ResponseError] (an answer that cannot be used: never retried, never
// stored); both come from the shared provider HTTP layer (package
// provider), which the reranker and the chat clients use too. Around it,
// [WithRetry] adds per-attempt timeouts, exponential backoff with full
// jitter that honours Retry-After, a shared pause after a 429 and a
// client-side rate limit; [Cache] keeps every vector on disk
// keyed by vector space and text hash, so texts already paid for are not
// sent again. The CLI stacks them as cache → retry → provider.
//
// Secrets ([Secret], API keys, credentials in URLs) are removed from every
// error this package returns. The package reads no environment variable:
// the CLI resolves flags, environment and .env into a [Config].
//
// The embedtest sub-package serves in-process fakes of each provider's
// wire format for tests and benchmarks.
package embed

// Package embed turns chunk texts into vectors: the embed step of
// collect → load → split → embed → store → search.
//
// [Embedder] is the contract every provider implements, with a document and
// a query [Mode] because asymmetric models embed the two differently. The
// default provider, [Hash], runs offline with no model at all; its algorithm
// is documented on the type. [New] is the one place where providers are
// registered.
package embed

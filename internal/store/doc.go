// Package store is the store step of collect → load → split → embed →
// store → search: the contract every backend implements ([Store],
// [Collection]), the collection [Schema] modelled on the notebook's Milvus
// collection, row checks shared by all backends ([Schema.CheckRow]) and the
// sentinel errors the CLI maps to exit codes.
//
// Backends live in sub-packages: local (the embedded default, bbolt) and,
// as they land, milvus. Each runs the conformance suite in storetest.
// Filter expressions (Milvus syntax) are parsed by the filter sub-package.
package store

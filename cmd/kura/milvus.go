package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/kura-rag/kura/internal/store/milvus"
)

// milvusOptions are the global flags of the Milvus store. Credentials come
// only from the environment (MILVUS_TOKEN, or MILVUS_USER and
// MILVUS_PASSWORD, .env included): a flag would show them in the process
// list and the shell history.
type milvusOptions struct {
	URI         string
	DB          string
	Consistency string
}

func (o *milvusOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.URI, "milvus-uri", milvus.DefaultURI, "Milvus server; setting it selects --store milvus (env MILVUS_URI; token in MILVUS_TOKEN)")
	fs.StringVar(&o.DB, "milvus-db", "", "Milvus database (env MILVUS_DB; default: the URI's path or \"default\")")
	fs.StringVar(&o.Consistency, "consistency", milvus.DefaultConsistency, "Milvus search consistency: Strong, Bounded, Session or Eventually (env MILVUS_CONSISTENCY)")
}

func (o *milvusOptions) resolve(fs *pflag.FlagSet) error {
	fromEnv(fs, "milvus-uri", &o.URI, "MILVUS_URI")
	fromEnv(fs, "milvus-db", &o.DB, "MILVUS_DB")
	fromEnv(fs, "consistency", &o.Consistency, "MILVUS_CONSISTENCY")
	if _, err := milvus.ParseConsistency(o.Consistency); err != nil {
		return &usageError{fmt.Errorf("--consistency: %w", err)}
	}
	return nil
}

func (o *milvusOptions) options() milvus.Options {
	return milvus.Options{
		URI:         o.URI,
		Database:    o.DB,
		Consistency: o.Consistency,
		Token:       os.Getenv("MILVUS_TOKEN"),
		User:        os.Getenv("MILVUS_USER"),
		Password:    os.Getenv("MILVUS_PASSWORD"),
	}
}

// where names the server for messages, without credentials.
func (o *milvusOptions) where() string {
	return milvus.Where(o.URI, o.DB)
}

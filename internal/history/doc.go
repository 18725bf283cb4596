// Package history keeps what kura's users asked and said, in the data
// directory, for the front ends to show and for feedback to reach Langfuse:
//
//   - conversations (a chat's title and turns), each owned by one user;
//   - answer records: question, rewritten question, sources, answer,
//     citations, model, options, token usage and timings of every answer,
//     with the OpenTelemetry trace id that links it to its trace — the local
//     trace view for a team without Langfuse;
//   - feedback on answers (thumbs 1/0 or faces 1/0.75/0.5/0.25/0, with a
//     comment), and an outbox of feedback not yet sent to Langfuse, so a
//     failed send is retried later.
//
// Everything lives in one bbolt file, DATA/app/history.db, with a format
// version. Retention limits (age, number of answers, conversations per
// user) are applied as records are written.
//
// Isolation: every conversation call names the user, and a user's key
// prefix is the only place it looks, so no call returns another user's
// conversation; an answer or its feedback is likewise only found for its
// own user (operators listing everything say so with AllUsers).
//
// Locking: each operation opens the file, runs one short transaction and
// closes it, so the file is never held between operations. bbolt locks the
// file with flock: a writer takes it exclusively, readers share it. A
// server writing and a `kura traces` in another process therefore take
// turns, waiting at most [Options.LockTimeout] (operations take
// milliseconds). Within one process a read-write mutex orders the opens, as
// two opens of one file in one process would otherwise wait on each other's
// flock. Nothing slow — no network call — ever runs inside a transaction:
// [Store.DeliverFeedback] reads the outbox, sends, then records the result.
package history

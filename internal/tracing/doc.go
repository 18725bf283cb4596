// Package tracing records what kura does as OpenTelemetry traces and
// exports them over OTLP/HTTP to Langfuse or to any OTLP backend.
//
// Where it sits in the data flow: the front ends (CLI, server) call
// [Setup] once with a [Config] read by [FromEnv], start one root span per
// unit of work ([Provider.StartAsk], [Provider.StartIngest],
// [Provider.Start]) and hand the returned context down. The stages
// (ingest, embed, store, retrieve, answer) start their own spans from that
// context with the package functions ([StartLoad], [StartSplit],
// [StartEmbed], [StartStoreWrite], [StartRewrite], [StartRetrieve],
// [StartRerank], [StartGeneration]); they never see the provider. A child
// span takes its tracer from its parent, so without a recording parent
// every helper returns at once and its End methods do nothing: no
// allocation, no lock, nothing exported.
//
// Every span carries two vocabularies at once: the OpenTelemetry semantic
// conventions (gen_ai.*, db.*, session.id, user.id) that any backend
// understands, and the langfuse.* attributes Langfuse reads first
// (observation type, model, usage, input/output, completion start time,
// prompt name/version). Trace-wide context (trace name, session, user,
// environment, release) is copied onto every span by a span processor, as
// Langfuse's v4 data model needs it on each observation.
//
// Content: with [Config.Content] off, no question, prompt, document text or
// answer is put on any span; ids, counts, scores, model names and timings
// still are. Credentials are never attributes: the exporter sends them as
// HTTP headers only.
//
// Export is asynchronous and bounded: ending a span only enqueues it on a
// bounded queue (the SDK's batch span processor, non-blocking); a full
// queue drops the span and a failed export is counted, never returned to
// the traced operation. [Provider.Shutdown] flushes within its context's
// deadline (or [DefaultFlushTimeout]) and returns [Stats] whose
// [Stats.Problem] is the one line a front end prints when spans were lost.
package tracing

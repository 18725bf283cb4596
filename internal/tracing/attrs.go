package tracing

import "go.opentelemetry.io/otel/attribute"

// Langfuse's OTLP attribute names (its property mapping): Langfuse reads
// these before the gen_ai.* conventions. Values that are objects are JSON
// strings, as Langfuse expects.
const (
	lfTraceName      = attribute.Key("langfuse.trace.name")
	lfTraceTags      = attribute.Key("langfuse.trace.tags")
	lfTraceInput     = attribute.Key("langfuse.trace.input")
	lfTraceOutput    = attribute.Key("langfuse.trace.output")
	lfSessionID      = attribute.Key("langfuse.session.id")
	lfUserID         = attribute.Key("langfuse.user.id")
	lfEnvironment    = attribute.Key("langfuse.environment")
	lfRelease        = attribute.Key("langfuse.release")
	lfObsType        = attribute.Key("langfuse.observation.type")
	lfObsInput       = attribute.Key("langfuse.observation.input")
	lfObsOutput      = attribute.Key("langfuse.observation.output")
	lfObsLevel       = attribute.Key("langfuse.observation.level")
	lfObsStatus      = attribute.Key("langfuse.observation.status_message")
	lfModel          = attribute.Key("langfuse.observation.model.name")
	lfModelParams    = attribute.Key("langfuse.observation.model.parameters")
	lfUsage          = attribute.Key("langfuse.observation.usage_details")
	lfCompletionTime = attribute.Key("langfuse.observation.completion_start_time")
	lfPromptName     = attribute.Key("langfuse.observation.prompt.name")
	lfPromptVersion  = attribute.Key("langfuse.observation.prompt.version")
)

// Langfuse observation types kura uses.
const (
	obsSpan       = "span"
	obsGeneration = "generation"
	obsEmbedding  = "embedding"
	obsRetriever  = "retriever"
)

// kura's own attributes, for what no convention names.
const (
	attrCollection     = attribute.Key("kura.collection")
	attrAnswerID       = attribute.Key("kura.answer.id")
	attrNotFound       = attribute.Key("kura.answer.not_found")
	attrSources        = attribute.Key("kura.answer.sources")
	attrSource         = attribute.Key("kura.source")
	attrDocuments      = attribute.Key("kura.documents")
	attrBytes          = attribute.Key("kura.bytes")
	attrProblems       = attribute.Key("kura.problems")
	attrSplitter       = attribute.Key("kura.splitter")
	attrChunks         = attribute.Key("kura.chunks")
	attrFiles          = attribute.Key("kura.ingest.files")
	attrSkipped        = attribute.Key("kura.ingest.skipped")
	attrAdded          = attribute.Key("kura.ingest.added")
	attrUnchanged      = attribute.Key("kura.ingest.unchanged")
	attrRemoved        = attribute.Key("kura.ingest.removed")
	attrEmbedded       = attribute.Key("kura.ingest.embedded")
	attrCached         = attribute.Key("kura.ingest.cached")
	attrEmbedder       = attribute.Key("kura.embedder")
	attrEmbedModel     = attribute.Key("kura.embed.model")
	attrEmbedInputType = attribute.Key("kura.embed.input_type")
	attrEmbedTexts     = attribute.Key("kura.embed.texts")
	attrEmbedRetries   = attribute.Key("kura.embed.retries")
	attrEmbedCached    = attribute.Key("kura.embed.cached")
	attrSearchType     = attribute.Key("kura.retrieval.search_type")
	attrK              = attribute.Key("kura.retrieval.k")
	attrFetchK         = attribute.Key("kura.retrieval.fetch_k")
	attrLambda         = attribute.Key("kura.retrieval.lambda")
	attrThreshold      = attribute.Key("kura.retrieval.score_threshold")
	attrFilter         = attribute.Key("kura.retrieval.filter")
	attrHitIDs         = attribute.Key("kura.retrieval.hit_ids")
	attrHitScores      = attribute.Key("kura.retrieval.hit_scores")
	attrHitCount       = attribute.Key("kura.retrieval.hits")
	attrRerankProvider = attribute.Key("kura.rerank.provider")
	attrRerankModel    = attribute.Key("kura.rerank.model")
	attrRerankIn       = attribute.Key("kura.rerank.candidates")
	attrRerankTopN     = attribute.Key("kura.rerank.top_n")
	attrRewriteTurns   = attribute.Key("kura.rewrite.history_turns")
	attrRewriteChanged = attribute.Key("kura.rewrite.changed")
	attrLLMExtractive  = attribute.Key("kura.llm.extractive")
	attrTTFT           = attribute.Key("kura.llm.time_to_first_token_ms")
	attrCitations      = attribute.Key("kura.llm.citations")
	attrStoreRows      = attribute.Key("kura.store.rows")
)

// Package answer is the last stage of collect → load → split → embed →
// store → search → answer: it turns a question and the chunks retrieval
// found into a streamed answer whose every citation is checked against
// the sources the model was given.
//
// One [Stage.Ask] runs these steps, each also usable alone:
//
//  1. Rewrite ([Stage.Rewrite], [CarryTerms]): a follow-up question in a
//     conversation ("それはいつから？") becomes a standalone question for
//     retrieval — by the language model with a short prompt, or without
//     one by carrying the previous turn's key terms.
//  2. Retrieve, through any [Retriever] (*retrieve.Retriever is one), so
//     an answer sees exactly the chunks search shows.
//  3. Assemble ([Assemble]): the hits become numbered sources [1], [2],
//     …: neighbouring chunks of one document joined without the overlap
//     the splitter gave them, repeated text dropped, the whole within a
//     character budget. Rows of a collection kura did not make (no
//     source, no chunk_index) are sources of their own, labelled by id.
//  4. Prompt: the built-in Japanese or English prompt, chosen by the
//     question's language, or a user's Jinja2 template ([ParsePrompt],
//     rendered by package jinja) with {{ question }} and {{ context }}.
//     Sources are untrusted: they sit inside <source> elements that their
//     text cannot close ([FormatContext]), the system prompt tells the
//     model they are data, and they also go to the provider as
//     llm.Document for providers that ground natively.
//  5. Generate through any llm.Client and check the citations as the text
//     streams: markers ([1], [1, 2], ［１］, [Source 1], …) naming a
//     source that was not given are removed and counted, the others are
//     written as [n]; a marker cut across two pieces is held back until
//     it is known, so the text a user sees never shows a marker that is
//     later removed. Providers' own citations (Cohere) are mapped onto
//     the same sources. Each [Citation] names the chunk, its source,
//     title and chunk index, the span of the answer it supports and the
//     sentence of the source that matches it.
//
// When retrieval finds nothing the answer says so in the question's
// language and no model is asked. When the model cannot be reached the
// caller still gets the sources, a notice, and — with a fallback client,
// usually the extractive answerer of package extractive — an answer.
//
// Ask reports its progress as [Event]s in a fixed order that a server can
// send as Server-Sent Events: sources, text deltas, citations, done (the
// finished [Answer], with usage and timings); notices may come at any
// point. Errors never name command-line flags: the same stage serves the
// CLI, the HTTP server and library users.
package answer

// Package split cuts a document's text into chunks: the split step of
// collect → load → split → embed → store → search. Each chunk is embedded
// and stored on its own, so its length decides both what a search hit can
// say and whether the store accepts it at all.
//
// [New] builds a [Splitter] from [Options]; [DefaultOptions] are kura's
// defaults. Every length here — ChunkSize, ChunkOverlap, the length of a
// chunk — is counted in Unicode code points, like Python's len(), so
// settings carry over from LangChain notebooks unchanged. A code point is
// not a byte (a Japanese character is 3 bytes in UTF-8, an emoji 4) and not
// a user-perceived character (が written with a combining mark is 2).
//
// # character and recursive: LangChain, exactly
//
// "character" is LangChain's CharacterTextSplitter (langchain_text_splitters)
// with a literal separator, keep_separator=False and strip_whitespace=True:
// split at every separator (between all code points when it is empty), drop
// empty pieces, then merge pieces greedily with the separator put back,
// carrying trailing pieces of up to ChunkOverlap code points into the next
// chunk. "recursive" is RecursiveCharacterTextSplitter with literal
// separators (default "\n\n", "\n", " ", ""), keep_separator=True (each
// separator starts the piece after it) and strip_whitespace=True: split at
// the first separator found in the text, merge the pieces shorter than
// ChunkSize, and split longer ones again with the remaining separators.
//
// Both reproduce LangChain decision for decision, quirks included, and are
// tested chunk for chunk against LangChain's own output (the golden files
// in the shared directory). That is their whole point: a team moving from
// its notebook gets the same chunks, hence the same ids and embeddings.
// The quirks they keep:
//   - character: a piece longer than ChunkSize becomes a chunk of its own,
//     however long (LangChain only logs a warning). With "\n" and size 200,
//     62 of the 418 chunks of the seed corpus exceed 200 code points, one
//     reaches 1,128; with the default "\n\n" and size 1,000, 20 of 87 chunks
//     exceed 2,048 bytes (up to 6,616), which Milvus rejects: its
//     VARCHAR(2048) text field counts bytes, and Japanese takes 3 per
//     character.
//   - character: empty pieces are dropped before the separator is put back,
//     so "a\n\nb" becomes the chunk "a\nb", not a substring of the input.
//   - recursive: with an empty last separator chunks never exceed
//     ChunkSize, but one may start with the separator that ended the
//     previous sentence ("。三文目"), and a piece still too long when the
//     separators run out is emitted unchanged, not even stripped.
//
// # ja: kura's default
//
// "ja" is written for Japanese (and mixed Japanese/English) text and fixes
// those weak points. Its guarantees:
//   - No chunk is ever longer than ChunkSize code points — overlap included,
//     whatever the input (a 10,000-character line without punctuation,
//     emoji, combining marks, invalid UTF-8). At 4 bytes per code point at
//     most, ChunkSize ≤ 512 always fits Milvus's 2,048 bytes; for Japanese
//     (3 bytes) ChunkSize ≤ 682 does.
//   - Chunks are substrings of the input, in document order, stripped of
//     surrounding whitespace and never empty, and together they contain every
//     non-whitespace character of the input.
//
// It scores every gap between two code points by how good a place it is to
// end a chunk, from best to worst: a blank line (paragraph); a line break;
// a sentence end, after 。！？．｡ (ASCII ! and ? only before whitespace or
// non-ASCII text, ASCII . only before whitespace, so "v1.2" and "a!=b" stay
// whole) together with any closing brackets and quotes that follow
// (」』）)"” ...); a clause mark 、，, ；; whitespace; a change of script
// (hiragana to kanji, Japanese to Latin); inside a word; and last, inside a
// grapheme cluster (before a combining mark, around a zero-width joiner, in
// a flag or skin-tone sequence) or a CR LF pair. A chunk then runs from its
// start to the best-scoring gap among those that keep it within ChunkSize
// and at least half full, the latest one on ties. Merging is therefore
// greedy (chunks are usually well over half of ChunkSize) while paragraph
// and sentence boundaries win over a few more characters.
//
// Overlap is built from whole trailing units of the previous chunk, of the
// coarsest kind that fits in ChunkOverlap: sentences (or lines, paragraphs)
// if at least one fits, else clauses, else whitespace-separated words.
// Overlap never starts inside a word or at an arbitrary character, so when
// even the last word or clause of the previous chunk is longer than
// ChunkOverlap — common in Japanese, which has no spaces — the overlap is
// empty. It is also dropped when it would leave no room for new text.
//
// Splitters hold only their options and are safe for concurrent use. They
// work on byte offsets with precomputed code point counts, so splitting is
// linear in the text and most chunks are substrings sharing its memory.
package split

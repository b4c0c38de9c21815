/**
 * A sink: where the entries of a {@link Source} go (a backup directory, an image
 * file or stdout, a running server by TTS import, page validation). A sink
 * consumes every entry it is given, each to its end, and returns a typed summary
 * of what it did.
 */
import type { Source } from "./source.ts";

/** Consumes a source's entries and says what it did. */
export interface Sink<Summary> {
  /** Consume `source` (its manifest and its entries) and return the summary. */
  write(source: Source): Promise<Summary>;
}

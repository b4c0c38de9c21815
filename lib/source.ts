/**
 * A source of a backup: where {@link FileEntry}s come from (a backup directory,
 * an image file or stdin, a live server's TTS export). Every source knows its
 * manifest and yields its entries in order; sinks (see `sink.ts`) consume them.
 */
import type { FileEntry } from "./entry.ts";
import type { Manifest } from "./core/manifest.ts";
import type { SeenEntry } from "./core/completeness.ts";

/** A backup being read. */
export interface Source {
  /** Its name in messages: a directory, an image file, `stdin`, a server. */
  readonly name: string;
  /**
   * What the backup holds, known when the source opens. A streamed manifest (an
   * image written by `backup-to-image`, a live export) lists no entries: what
   * {@link Source.seen} records once the entries are read completes it.
   */
  readonly manifest: Manifest;
  /**
   * The entries, in order (only those `select` accepts, when given); iterate once
   * and read each entry's data to its end before asking for the next.
   */
  entries(select?: (path: string) => boolean): AsyncIterable<FileEntry>;
  /** Size and CRC-32C of every entry read to its end so far, in order. */
  readonly seen: ReadonlyMap<string, SeenEntry>;
  /** Stop reading and release what the source holds (files, workers, locks); idempotent. */
  close(): Promise<void>;
}

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

/** How a backup found by its path is read: "check" verifies an image's chunks without decoding. */
export interface OpenHow {
  mode?: "full" | "check";
  /** The consumer is done with each chunk when it asks for the next (an image may reuse it). */
  recycle?: boolean;
  /** An image's hot copies and their deltas (minimum locking) joined into rebuilt files. */
  rebuilt?: boolean;
  /**
   * With `rebuilt`: leave hot copies and their deltas as stored, named by the
   * source's `hotCopies`, for a consumer that joins them without a spool (validation).
   */
  pairsAsStored?: boolean;
}

/** What a source opened `rebuilt` adds to the one it wraps. */
export interface Rebuilt {
  /** The hot copies left as stored (with `pairsAsStored`), each followed by its delta. */
  readonly hotCopies: ReadonlySet<string>;
}

/**
 * Opens backups found by their path (in a root of backups, or given) as sources;
 * commands make one from their options (key, threads), so services that work over
 * many backups (retention, monitoring) read each through the one way of opening.
 */
export interface BackupOpener {
  /** Whether a key was given (an encrypted image can be read). */
  readonly hasKey: boolean;
  /** Open the backup directory (it must hold a manifest) or image file at `path` (entries as stored unless `rebuilt`). */
  open(
    path: string,
    form: "directory" | "image",
    how?: OpenHow,
  ): Promise<Source & Partial<Rebuilt>>;
}

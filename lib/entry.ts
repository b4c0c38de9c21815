/**
 * The unit that flows from a source to a sink: one file of a backup, with its
 * relative path and its bytes as an async stream. Sources yield entries one at a
 * time; a sink must finish reading an entry's data before it asks for the next.
 */

/** One file travelling through ibvault. */
export interface FileEntry {
  /** Relative path inside the backup, `/`-separated, filename-encoded (`db/@0gbc.ibd`). */
  path: string;
  /** Length in bytes of the (uncompressed) content. */
  size: number;
  /** Unix mode bits, when known. */
  mode?: number;
  /** The content, in order. Chunks may be reused by the source after the consumer moves on. */
  data: AsyncIterable<Uint8Array>;
  /**
   * When `data` is the content in a standard compressed framing rather than the
   * content itself (`extract --keep-compressed`): the file name suffix it asks for,
   * `.lz4` or `.zst`.
   */
  framedSuffix?: string;
}

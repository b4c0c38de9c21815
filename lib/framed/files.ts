/**
 * Tablespaces kept in standard compression frames on disk (`db/t.ibd.lz4` from
 * `extract --keep-compressed`, `db/t.ibd.zst`): recognised by name and read as
 * entries whose content is decoded on the way (LZ4 frames with every checksum
 * they carry verified, zstd frames with their content checksums), so the stream
 * validator judges their pages without a decompressed copy on disk.
 */
import { join } from "node:path";
import type { FileEntry } from "../entry.ts";
import { readFileChunks } from "../core/files.ts";
import { lz4FrameDecode } from "../image/lz4frame.ts";
import { isInnodbName } from "../innodb/discover.ts";
import { zstdDecode } from "../frames/zstd.ts";

/** The frame format of a framed tablespace name (`t.ibd.lz4` → "lz4"), else undefined. */
export function framedInnodb(path: string): "lz4" | "zstd" | undefined {
  const base = path.split(/[\\/]/).pop() ?? path;
  const m = /^(.*)\.(lz4|zst)$/i.exec(base);
  if (!m || !isInnodbName(m[1])) return undefined;
  return m[2].toLowerCase() === "lz4" ? "lz4" : "zstd";
}

/** `path` without its frame suffix (`db/t.ibd.lz4` → `db/t.ibd`). */
export function unframedPath(path: string): string {
  return path.replace(/\.(lz4|zst)$/i, "");
}

/**
 * Entries for framed tablespaces `rels` (relative to `root`, or as given when
 * `root` is empty): each entry's path is the unframed one, its data the decoded
 * content. A damaged frame makes reading that entry throw a CorruptionError.
 */
export async function* framedEntries(root: string, rels: string[]): AsyncGenerator<FileEntry> {
  for (const rel of rels) {
    const file = root ? join(root, ...rel.split("/")) : rel;
    const raw = readFileChunks(file, 1 << 20, undefined, true);
    const data = framedInnodb(rel) === "lz4"
      ? lz4FrameDecode(raw, { name: rel })
      : zstdDecode(raw, rel);
    yield { path: unframedPath(rel), size: 0, data };
  }
}

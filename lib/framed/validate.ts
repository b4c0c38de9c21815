/**
 * Validating framed tablespaces (`db/t.ibd.lz4`, `db/t.ibd.zst`) in a directory:
 * each is decoded while its pages are judged by the stream validator; a frame
 * that fails its own checks (a checksum, a truncated block) is reported by name
 * as a problem and the file as unreadable, and the run goes on with the next.
 */
import { CorruptionError } from "../errors.ts";
import type { FileEntry } from "../entry.ts";
import type { FileReport } from "../innodb/report.ts";
import { type StreamOptions, validateEntries } from "../innodb/stream.ts";
import { errorReport } from "../innodb/report.ts";
import { tableOfPath } from "../names/table_path.ts";
import { framedEntries } from "./files.ts";

/** Reports (named as on disk) and frame damage found. */
export interface FramedRun {
  files: FileReport[];
  problems: string[];
}

/** Validate the framed tablespaces `rels` under `root` (or as given when `root` is ""). */
export async function validateFramed(
  root: string,
  rels: string[],
  opts: StreamOptions = {},
): Promise<FramedRun> {
  const damaged = new Map<string, string>();
  const stored = new Map<string, string>();
  let i = 0;
  async function* guarded(): AsyncGenerator<FileEntry> {
    for await (const e of framedEntries(root, rels)) {
      const rel = rels[i++];
      stored.set(e.path, rel);
      const inner = e.data;
      yield {
        ...e,
        data: (async function* () {
          try {
            yield* inner;
          } catch (err) {
            if (!(err instanceof CorruptionError)) throw err;
            damaged.set(e.path, err.message);
          }
        })(),
      };
    }
  }
  const reports = await validateEntries(guarded(), opts);
  const problems: string[] = [];
  const files = reports.map((r) => {
    const rel = stored.get(r.name) ?? r.name;
    const why = damaged.get(r.name);
    const out = why ? errorReport({ name: rel }, why, r.bytes) : r;
    out.name = rel;
    out.table ??= tableOfPath(rel);
    if (why) problems.push(why);
    return out;
  });
  return { files, problems };
}

/**
 * A source whose `.ibd` entries are rebuilt from a hot copy and its delta
 * (docs/FORMAT.md, version 2): an image made with minimum locking carries each
 * `F` (the hot copy) early and `F.delta` (the pages taken under the lock) after
 * UNLOCK TABLES. This source spools each such `F` into a private directory,
 * applies `F.delta` when it arrives, and yields the rebuilt `F` in its place, so
 * every consumer (copy-back, validate, extract, image-to-backup-dir) sees whole,
 * consistent files. The `ibvault_backup_end.json` entry is merged into the
 * manifest instead of being yielded, and the manifest lists the rebuilt files.
 * A source without deltas passes through unchanged.
 */
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { FileEntry } from "../entry.ts";
import type { Rebuilt, Source } from "../source.ts";
import { isStreamed, type Manifest } from "../core/manifest.ts";
import type { SeenEntry } from "../core/completeness.ts";
import { Crc32c } from "../core/crc.ts";
import { ioWords, readFileChunks, writeStream } from "../core/files.ts";
import { CorruptionError, IoError, OutputError } from "../errors.ts";
import { applyDelta } from "../innodb/delta_apply.ts";
import {
  BACKUP_END_FILE,
  type BackupEnd,
  deltaTarget,
  finalManifest,
  parseBackupEnd,
} from "../core/chain.ts";

const MAX_END_ENTRY = 16 << 20;

/** Files of `m` whose delta follows them in the same backup (hot copy + delta). */
export function filesWithDelta(m: Manifest): Set<string> {
  const out = new Set<string>();
  for (const t of m.tables ?? []) {
    const files = new Set(t.files ?? []);
    for (const f of files) {
      const target = deltaTarget(f);
      if (target && files.has(target)) out.add(target);
    }
  }
  return out;
}

/** `m` as a rebuilt backup: each hot copy + delta pair listed as the one rebuilt file. */
export function rebuiltManifest(m: Manifest, end?: BackupEnd): Manifest {
  const paired = filesWithDelta(m);
  const base = end ? finalManifest(m, end) : m;
  return {
    ...base,
    tables: base.tables.map((t) => ({
      ...t,
      files: t.files.filter((f) => !(deltaTarget(f) && paired.has(deltaTarget(f)!))),
    })),
    entries: base.entries.filter((e) => !(deltaTarget(e.path) && paired.has(deltaTarget(e.path)!))),
  };
}

/**
 * A failure to spool, as an OutputError saying where and what to do: the hot
 * copies wait there, each whole, until their deltas arrive after the last one.
 */
function spoolError(err: unknown, where: string): unknown {
  if (err instanceof IoError || !(err as { code?: string })?.code) return err;
  return new OutputError(
    `${where}: ${ioWords(err)}; the hot copies of a minimum-locking image wait there until ` +
      "their deltas arrive: free space there, or point TMPDIR (or the working directory) at " +
      "a file system with room for them",
    { cause: err },
  );
}

/** How {@link rebuildingSource} treats hot copies. */
export interface RebuildOptions {
  /**
   * Leave hot copies and their deltas as stored, for a consumer that joins them
   * itself without a spool (validation: `validateEntries` with `hotCopies`).
   * Only for a streamed manifest, which lists no entry CRC to check against the
   * rebuilt file: with one, the files are rebuilt all the same.
   */
  pairsAsStored?: boolean;
}

/** Wrap `inner` (see the module documentation); spool files go under `spoolDir`. */
export function rebuildingSource<S extends Source>(
  inner: S,
  spoolDir: string,
  opts: RebuildOptions = {},
): S & Rebuilt {
  const asStored = opts.pairsAsStored === true && isStreamed(inner.manifest);
  const hotCopies = asStored ? filesWithDelta(inner.manifest) : new Set<string>();
  const paired = asStored ? new Set<string>() : filesWithDelta(inner.manifest);
  let end: BackupEnd | undefined;
  const seen = new Map<string, SeenEntry>();
  let spool: string | undefined;

  async function* entries(select?: (p: string) => boolean): AsyncGenerator<FileEntry> {
    const want = (p: string) =>
      p === BACKUP_END_FILE || !select || select(p) || select(deltaTarget(p) ?? p);
    const pending = new Map<string, string>();
    const waiting = new Set<string>(); // hot copies passed through as stored, until their delta
    let n = 0;
    try {
      for await (const e of inner.entries(want)) {
        if (e.path === BACKUP_END_FILE) {
          if (e.size > MAX_END_ENTRY) {
            throw new CorruptionError(`${inner.name}: ${BACKUP_END_FILE} is too large`);
          }
          const parts: Uint8Array[] = [];
          for await (const c of e.data) parts.push(c.slice());
          end = parseBackupEnd(parts, inner.name);
          continue;
        }
        if (paired.has(e.path)) {
          spool ??= await mkdtemp(join(spoolDir, ".ibvault-rebuild-")).catch((err) => {
            throw spoolError(err, `creating a spool for the hot copies in ${spoolDir}`);
          });
          const file = join(spool, String(n++));
          const fh = await open(file, "wx", 0o600);
          try {
            await writeStream(fh, e.data).catch((err) => {
              throw spoolError(err, `spooling the hot copy ${e.path} in ${spool}`);
            });
          } finally {
            await fh.close();
          }
          pending.set(e.path, file);
          continue;
        }
        const target = deltaTarget(e.path);
        if (target && pending.has(target)) {
          const file = pending.get(target)!;
          pending.delete(target);
          const fh = await open(file, "r+");
          try {
            await applyDelta(fh, e.data, `${inner.name}: ${e.path}`);
          } finally {
            await fh.close();
          }
          const size = (await stat(file)).size;
          yield counted({
            path: target,
            size,
            mode: 0o640,
            data: (async function* () {
              try {
                yield* readFileChunks(file, 1 << 20, size);
              } finally {
                await rm(file, { force: true });
              }
            })(),
          });
          continue;
        }
        // as stored: the consumer joins them, but a hot copy without its delta is refused here too
        if (hotCopies.has(e.path)) waiting.add(e.path);
        else if (target) waiting.delete(target);
        yield counted(e);
      }
      const missing = [...pending.keys(), ...waiting][0];
      if (missing !== undefined) {
        throw new CorruptionError(`${inner.name}: ${missing} is a hot copy whose delta is missing`);
      }
    } finally {
      if (spool) await rm(spool, { recursive: true, force: true });
      spool = undefined;
    }
  }

  function counted(e: FileEntry): FileEntry {
    const crc = new Crc32c();
    return {
      ...e,
      data: (async function* () {
        let size = 0;
        for await (const c of e.data) {
          crc.update(c);
          size += c.length;
          yield c;
        }
        seen.set(e.path, { size, crc32c: crc.hex() });
      })(),
    };
  }

  const out = Object.create(inner) as S & Rebuilt;
  Object.defineProperties(out, {
    hotCopies: { value: hotCopies },
    manifest: { get: () => rebuiltManifest(inner.manifest, end), enumerable: true },
    entries: { value: entries },
    seen: { value: seen },
    close: {
      value: async () => {
        if (spool) await rm(spool, { recursive: true, force: true });
        await inner.close();
      },
    },
  });
  return out;
}

/**
 * An incremental chain as one {@link Source}: a full backup then its
 * incrementals in the order they were taken, each a rebuilding source (so hot
 * copies and their deltas are already joined). Reading it reads every link in
 * turn: each selected `.ibd` is materialised in a private spool directory from
 * the full backup, replaced by a link that copied it whole, or changed in place
 * by a link's `F.delta`; the `.cfg`s and the table list are the last link's. Then
 * the rebuilt files are yielded, so copy-back imports the tables as of the last
 * incremental. Each link must continue the previous one (its base id and end LSN),
 * and a delta must have a file to apply to; otherwise ChainError names the link.
 */
import { copyFile, mkdtemp, open, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { FileEntry } from "../entry.ts";
import type { Source } from "../source.ts";
import type { Manifest } from "../core/manifest.ts";
import type { SeenEntry } from "../core/completeness.ts";
import { readFileChunks, writeStream } from "../core/files.ts";
import { ChainError } from "../errors.ts";
import { applyDelta } from "../innodb/delta_apply.ts";
import { type ChainFields, checkLink, deltaTarget } from "../core/chain.ts";

/** The chain's table list and files: the last link's, with each delta named as its file. */
function chainManifest(last: Manifest): Manifest {
  return {
    ...last,
    kind: "incremental",
    tables: last.tables.map((t) => ({
      ...t,
      files: [...new Set(t.files.map((f) => deltaTarget(f) ?? f))],
    })),
    entries: [],
  } as Manifest;
}

/** Open a chain over already opened, rebuilding `links` (full first). */
export async function openChainSource(links: Source[], spoolDir: string): Promise<Source> {
  if (links.length < 2) {
    throw new ChainError("an incremental chain needs a full backup and at least one incremental");
  }
  const last = links[links.length - 1];
  // What can be checked before reading: the ids, and the end LSNs that are known
  // (a directory's; an image's comes at its end and is checked when read).
  for (let i = 1; i < links.length; i++) {
    const prev = links[i - 1].manifest;
    const next = links[i].manifest;
    checkLink(
      { ...prev, endLsn: prev.endLsn ?? next.base?.endLsn, where: links[i - 1].name },
      { ...next, where: links[i].name },
    );
  }
  const seen = new Map<string, SeenEntry>();
  const spool = await mkdtemp(join(spoolDir, ".ibvault-chain-"));
  let n = 0;

  async function* entries(select?: (p: string) => boolean): AsyncGenerator<FileEntry> {
    const manifest = chainManifest(last.manifest);
    const wanted = new Set(
      manifest.tables.flatMap((t) => t.files).filter((f) => !select || select(f)),
    );
    const want = (p: string) => wanted.has(deltaTarget(p) ?? p);
    const files = new Map<string, string>();
    let prev: (ChainFields & { where: string }) | undefined;
    for (const link of links) {
      const fields = { ...link.manifest, where: link.name };
      if (prev) checkLink(prev, fields);
      else if (fields.kind === "incremental") {
        throw new ChainError(
          `${link.name} is an incremental backup: the chain must start with its full backup`,
        );
      }
      for await (const e of link.entries(want)) {
        const target = deltaTarget(e.path);
        if (target) {
          const file = files.get(target);
          if (!file) {
            throw new ChainError(
              `${link.name}: ${e.path} changes ${target}, which the backups before it do not have ` +
                `(give the chain from its full backup, in order)`,
            );
          }
          const fh = await open(file, "r+");
          try {
            await applyDelta(fh, e.data, `${link.name}: ${e.path}`);
          } finally {
            await fh.close();
          }
          continue;
        }
        const file = join(spool, String(n++));
        const fh = await open(file, "wx", 0o600);
        try {
          await writeStream(fh, e.data);
        } finally {
          await fh.close();
        }
        const old = files.get(e.path);
        if (old) await rm(old, { force: true });
        files.set(e.path, file);
      }
      // the link as read to its end: an image's end LSN is known now
      prev = { ...link.manifest, where: link.name };
    }
    for (const t of manifest.tables) {
      for (const path of t.files) {
        if (!wanted.has(path)) continue;
        const file = files.get(path);
        if (!file) {
          throw new ChainError(
            `${last.name}: ${path} of ${t.database}.${t.name} is in no link of the chain`,
          );
        }
        const size = (await stat(file)).size;
        yield {
          path,
          size,
          mode: 0o640,
          data: (async function* () {
            let got = 0;
            for await (const c of readFileChunks(file, 1 << 20, size)) {
              got += c.length;
              yield c;
            }
            seen.set(path, { size: got });
          })(),
        };
      }
    }
  }

  return {
    name: `${links[0].name} + ${links.length - 1} incremental(s)`,
    get manifest() {
      return chainManifest(last.manifest);
    },
    entries,
    seen,
    close: async () => {
      await rm(spool, { recursive: true, force: true });
      for (const l of links) await l.close().catch(() => {});
    },
  };
}

/** Copy `file` for a later in-place change (apply-incremental-backup works on copies). */
export async function copyForUpdate(file: string, to: string): Promise<void> {
  await copyFile(file, to);
}

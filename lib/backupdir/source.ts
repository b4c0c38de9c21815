/**
 * A backup directory (or any directory) as a {@link Source}: its regular files
 * in path order (the manifest and files being written aside), each read in
 * fixed-size buffers, with the manifest it has or, for a plain directory, one
 * built from its files.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { IoError, UsageError } from "../errors.ts";
import type { FileEntry } from "../entry.ts";
import type { Source } from "../source.ts";
import { buildManifest, type Manifest, MANIFEST_FILE } from "../core/manifest.ts";
import { fileCrc32c, readManifest } from "../core/manifest_io.ts";
import type { SeenEntry } from "../core/completeness.ts";
import { Crc32c } from "../core/crc.ts";
import { ioFailure, PART_SUFFIX, READ_SIZE, readFileChunks } from "../core/files.ts";
import { printable } from "../names/printable.ts";
import { type FoundFile, walkFiles } from "./walk.ts";
import { isRunLogPath } from "../core/run_log_path.ts";
import { incompleteNote, JOURNAL_FILE } from "../core/write_journal.ts";

/** How to open a directory. */
export interface DirSourceOptions {
  /** "required": a directory without a manifest is a UsageError; "build": one is built from its files. */
  manifest: "required" | "build";
  /** Told about names that are not regular files (left out). */
  onOther?: (rel: string) => void;
  /** Told when a manifest is built for a plain directory. */
  onBuilt?: () => void;
}

/** A directory opened as a source. */
export interface DirSource extends Source {
  readonly kind: "directory";
  /** The regular files found, sorted by path. */
  readonly files: readonly FoundFile[];
  /** True when the directory had its own manifest (false: built from its files). */
  readonly hadManifest: boolean;
  /** Throw an IoError naming every one of these entries that is not a file of the directory. */
  requireFiles(paths: readonly string[]): Promise<void>;
}

/** A manifest for a plain directory: every file with its size and CRC-32C, no server facts. */
export async function manifestForFiles(
  dir: string,
  files: readonly FoundFile[],
): Promise<Manifest> {
  const entries = [];
  for (const f of files) {
    entries.push({
      path: f.path,
      size: f.size,
      crc32c: await fileCrc32c(join(dir, ...f.path.split("/"))),
    });
  }
  return buildManifest({ options: { builtFrom: "directory" }, entries });
}

/** Open directory `dir` as a source (see {@link DirSourceOptions}). */
export async function openDirSource(dir: string, opts: DirSourceOptions): Promise<DirSource> {
  const st = await stat(dir).catch((e) => {
    throw ioFailure(e, `read backup directory ${printable(dir)}`);
  });
  if (!st.isDirectory()) {
    throw new IoError(`cannot read backup directory ${printable(dir)}: it is not a directory`);
  }
  let manifest = await readManifest(dir);
  if (!manifest && opts.manifest === "required") {
    throw new UsageError(
      `${dir} is not a complete backup directory: it has no manifest${await incompleteNote(dir)}`,
    );
  }
  const files = await walkFiles(dir, {
    skip: (rel) =>
      rel === MANIFEST_FILE || rel === JOURNAL_FILE || rel.endsWith(PART_SUFFIX) ||
      isRunLogPath(rel),
    onOther: opts.onOther,
    what: "backup directory",
  });
  const hadManifest = manifest !== undefined;
  if (!manifest) {
    opts.onBuilt?.();
    manifest = await manifestForFiles(dir, files);
  }
  return {
    kind: "directory",
    name: dir,
    manifest,
    files,
    hadManifest,
    ...dirReading(
      dir,
      files,
      `backup directory ${dir}`,
      " (listed in its manifest; --force does not import without them): copy them back " +
        "from another copy of this backup, or take a new backup",
    ),
    close: async () => {},
  };
}

/**
 * What every directory source does the same way: its entries read from `files`
 * (only those `select` accepts), `seen` filled as each is read to its end, and
 * the check that required entries are files (the error names the directory as `what`,
 * then says `advice`).
 */
export function dirReading(
  dir: string,
  files: readonly FoundFile[],
  what: string,
  advice = "",
): Pick<DirSource, "seen" | "entries" | "requireFiles"> {
  const seen = new Map<string, SeenEntry>();
  return {
    seen,
    async *entries(select) {
      for (const f of files) {
        if (select && !select(f.path)) continue;
        yield entryOf(dir, f, seen);
      }
    },
    async requireFiles(paths) {
      const missing: string[] = [];
      for (const p of paths) {
        const ok = await stat(join(dir, ...p.split("/"))).then((st) => st.isFile(), () => false);
        if (!ok) missing.push(p);
      }
      if (missing.length > 0) {
        throw new IoError(`${what} is incomplete: missing ${missing.join(", ")}${advice}`);
      }
    },
  };
}

/** One file as an entry; its size and CRC-32C go into `seen` once read to the end. */
function entryOf(dir: string, f: FoundFile, seen: Map<string, SeenEntry>): FileEntry {
  const chunks = readFileChunks(join(dir, ...f.path.split("/")), READ_SIZE, f.size, true);
  return {
    path: f.path,
    size: f.size,
    mode: f.mode,
    data: (async function* () {
      const crc = new Crc32c();
      let size = 0;
      for await (const b of chunks) {
        crc.update(b);
        size += b.length;
        yield b;
      }
      seen.set(f.path, { size, crc32c: crc.hex() });
    })(),
  };
}

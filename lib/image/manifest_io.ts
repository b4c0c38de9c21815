/**
 * Reading and writing a backup directory's manifest (`ibvault_manifest.json`,
 * written atomically), and building a manifest for a plain directory from the
 * files there (sizes and CRC-32C of each).
 */
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { CorruptionError, IoError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { type Manifest, MANIFEST_FILE } from "./manifest.ts";
import { crc32c } from "./kernels.ts";
import { readFileChunks } from "../backupdir/source.ts";
import type { FoundFile } from "../backupdir/walk.ts";
import { syncDirectory, writeAtomically } from "../backupdir/sink.ts";

/** The manifest of backup directory `dir`, or undefined when it has none. */
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new IoError(`cannot read ${join(dir, MANIFEST_FILE)}: ${(e as Error).message}`);
  }
  try {
    const m = JSON.parse(text) as Manifest;
    if (m?.format !== "ibvault-manifest" || !Array.isArray(m.entries)) {
      throw new Error("not an ibvault manifest");
    }
    return m;
  } catch (e) {
    throw new CorruptionError(`${join(dir, MANIFEST_FILE)} is unreadable: ${(e as Error).message}`);
  }
}

/** Write `manifest` into `dir` (temporary name, flushed unless `sync` is false, then rename). */
export async function writeManifest(dir: string, manifest: Manifest, sync = true): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n");
  await writeAtomically(
    join(dir, MANIFEST_FILE),
    [bytes].values() as unknown as AsyncIterable<Uint8Array>,
    0o640,
    sync,
  );
  // The manifest completes the directory: make the directory's own name durable too.
  if (sync) await syncDirectory(dirname(resolve(dir)));
}

/** CRC-32C of a file, 8 hex digits. */
export async function fileCrc32c(file: string): Promise<string> {
  let c = 0;
  for await (const b of readFileChunks(file, 1 << 20, undefined, true)) c = crc32c(b, c);
  return (c >>> 0).toString(16).padStart(8, "0");
}

/** A manifest for a plain directory: every file with its size and CRC-32C, no server facts. */
export async function buildManifest(dir: string, files: readonly FoundFile[]): Promise<Manifest> {
  const entries = [];
  for (const f of files) {
    entries.push({
      path: f.path,
      size: f.size,
      crc32c: await fileCrc32c(join(dir, ...f.path.split("/"))),
    });
  }
  return {
    format: "ibvault-manifest",
    version: 1,
    tool: { name: "ibvault", version: VERSION },
    createdAt: new Date().toISOString(),
    options: { builtFrom: "directory" },
    databases: [],
    tables: [],
    entries,
  };
}

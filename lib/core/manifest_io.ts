/**
 * A backup directory's manifest file (`ibvault_manifest.json`): reading it,
 * writing it atomically (the last file of a backup), and the CRC-32C of a file
 * as manifests record it.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { CorruptionError } from "../errors.ts";
import { encodeManifest, type Manifest, MANIFEST_FILE } from "./manifest.ts";
import { ManifestScanner, readManifestBytes } from "./manifest_schema.ts";
import { Crc32c } from "./crc.ts";
import { ioFailure, once, readFileChunks, syncDirectory, writeAtomically } from "./files.ts";

/** The manifest of backup directory `dir`, or undefined when it has none. */
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  const file = join(dir, MANIFEST_FILE);
  let bytes: Uint8Array;
  try {
    // Untrusted input: its size is bounded before it is read.
    new ManifestScanner(file).declare((await stat(file)).size);
    bytes = await readFile(file);
  } catch (e) {
    if (e instanceof CorruptionError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw ioFailure(e, `read ${file}`);
  }
  return readManifestBytes(bytes, file);
}

/**
 * Write `manifest` into `dir` (temporary name, flushed unless `sync` is false,
 * then renamed); with `sync` the directory's own name is flushed too, since the
 * manifest completes it.
 */
export async function writeManifest(dir: string, manifest: Manifest, sync = true): Promise<void> {
  await writeAtomically(join(dir, MANIFEST_FILE), once(encodeManifest(manifest)), 0o640, sync);
  if (sync) await syncDirectory(dirname(resolve(dir)));
}

/** CRC-32C of a file, 8 hex digits. */
export async function fileCrc32c(file: string): Promise<string> {
  const c = new Crc32c();
  for await (const b of readFileChunks(file, 1 << 20, undefined, true)) c.update(b);
  return c.hex();
}

/**
 * A backup directory (or any directory) as a source of {@link FileEntry}: its
 * regular files in path order, each read in fresh fixed-size buffers.
 */
import { open } from "node:fs/promises";
import { join } from "node:path";
import { IoError } from "../errors.ts";
import type { FileEntry } from "../entry.ts";
import type { FoundFile } from "./walk.ts";

/** Read size used for file content. */
export const READ_SIZE = 1 << 20;

/**
 * The content of `file` as a stream of buffers of at most `readSize` bytes; with
 * `reuse`, one buffer is refilled for every read (the consumer must be done with
 * a buffer when it asks for the next).
 */
export async function* readFileChunks(
  file: string,
  readSize = READ_SIZE,
  expected?: number,
  reuse = false,
): AsyncGenerator<Uint8Array> {
  let fh;
  try {
    fh = await open(file, "r");
  } catch (e) {
    throw new IoError(`cannot open ${file}: ${(e as Error).message}`);
  }
  let shared: Uint8Array | undefined;
  try {
    let pos = 0;
    for (;;) {
      const want = expected === undefined ? readSize : Math.min(readSize, expected - pos);
      if (want <= 0 && expected !== undefined) {
        // Read one byte more to notice a file that grew.
        const probe = new Uint8Array(1);
        const { bytesRead } = await fh.read(probe, 0, 1, pos);
        if (bytesRead > 0) yield probe;
        return;
      }
      const buf = reuse
        ? (shared ??= new Uint8Array(readSize)).subarray(0, want)
        : new Uint8Array(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got === 0) return;
      pos += got;
      yield got === want ? buf : buf.subarray(0, got);
      if (got < want) return;
    }
  } catch (e) {
    if (e instanceof IoError) throw e;
    throw new IoError(`cannot read ${file}: ${(e as Error).message}`);
  } finally {
    await fh.close();
  }
}

/** The files of `root` (as listed by `walkFiles`) as entries. */
export async function* directoryEntries(
  root: string,
  files: readonly FoundFile[],
): AsyncGenerator<FileEntry> {
  for (const f of files) {
    yield {
      path: f.path,
      size: f.size,
      mode: f.mode,
      data: readFileChunks(join(root, ...f.path.split("/")), READ_SIZE, f.size, true),
    };
  }
}

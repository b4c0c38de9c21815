/**
 * File I/O every layer shares: reading a file in chunks, writing through a
 * temporary name renamed on success, short-write-safe writes, flushing files and
 * directories to the disk, and turning a file-system failure into a typed error.
 */
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { IoError, OutputError } from "../errors.ts";
import { createPartFile, PART_SUFFIX } from "./part_files.ts";

/** Suffix of files being written. */
export { PART_SUFFIX } from "./part_files.ts";

/** Read size used for file content. */
export const READ_SIZE = 1 << 20;

/**
 * The content of `file` as a stream of buffers of at most `readSize` bytes; with
 * `reuse`, one buffer is refilled for every read (the consumer must be done with
 * a buffer when it asks for the next). With `expected`, one byte more is read at
 * the end so a file that grew is noticed (the extra byte is yielded).
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

/**
 * Write `data` to `file` through `file + PART_SUFFIX`, renamed on success and
 * removed on failure; returns the bytes written. With `sync` (the default) the
 * data reaches the disk before the rename and the rename before this returns, so
 * after a crash `file` is either absent or complete.
 */
export async function writeAtomically(
  file: string,
  data: AsyncIterable<Uint8Array>,
  mode = 0o640,
  sync = true,
): Promise<number> {
  const part = file + PART_SUFFIX;
  // Exclusive and never through a link; a part file left by a dead run is replaced.
  const fh = await createPartFile(part, mode);
  try {
    const n = await writeStream(fh, data);
    if (sync) await fh.datasync();
    await fh.close();
    await rename(part, file);
    if (sync) await syncDirectory(dirname(file));
    return n;
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(part, { force: true });
    throw e;
  }
}

/** Write all of `chunk` at the file position of `fh` (a short write is continued). */
export async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

/** Write every chunk of `data` to `fh`, in order; returns the bytes written. */
export async function writeStream(
  fh: FileHandle,
  data: AsyncIterable<Uint8Array>,
): Promise<number> {
  let n = 0;
  for await (const chunk of data) {
    await writeAll(fh, chunk);
    n += chunk.length;
  }
  return n;
}

/** One chunk as a stream (to write a small buffer with the stream writers). */
export async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Flush directory `dir` (the names in it, e.g. after a rename) to the disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Flush files written earlier without `sync` (e.g. while tables were locked), and
 * their directories, to the disk.
 */
export async function syncFiles(files: Iterable<string>): Promise<void> {
  const dirs = new Set<string>();
  for (const file of files) {
    const fh = await open(file, "r");
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
    dirs.add(dirname(file));
  }
  for (const dir of dirs) await syncDirectory(dir);
}

/**
 * A file-system failure while writing an output, as an OutputError that says
 * what happened (no space, or the system's message); typed errors pass through.
 */
export function outputError(err: unknown, where: string): unknown {
  const code = (err as { code?: string })?.code;
  if (code === "ENOSPC" || code === "EFBIG" || code === "EDQUOT") {
    return new OutputError(
      `${where}: no space left for the backup (${code}); nothing was completed`,
      { cause: err },
    );
  }
  if (code && !(err instanceof IoError)) {
    return new OutputError(`${where}: ${(err as Error).message}`, { cause: err });
  }
  return err;
}

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
    throw ioFailure(e, `open ${file}`);
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
    throw ioFailure(e, `read ${file}`);
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

/** What a file-system error code means, in words ("it does not exist"). */
const IO_WORDS: Record<string, string> = {
  ENOENT: "it does not exist",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "it is a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ELOOP: "too many symbolic links (or a link where none is allowed)",
  EEXIST: "it already exists",
  ENAMETOOLONG: "the name is too long",
  EROFS: "the file system is read-only",
  EMFILE: "too many open files",
  EIO: "input/output error (a failing disk?)",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exhausted",
};

/** The words for a file-system error: "it does not exist", else the system's message. */
export function ioWords(err: unknown): string {
  const code = (err as { code?: string })?.code;
  const words = code ? IO_WORDS[code] : undefined;
  return words ? `${words} (${code})` : String((err as Error)?.message ?? err);
}

/**
 * A file-system failure as an IoError "cannot `what`: <words>" (`what` names the
 * operation and the path: "read backup directory /x"); typed errors pass through.
 */
export function ioFailure(err: unknown, what: string): unknown {
  if (err instanceof IoError) return err;
  return new IoError(`cannot ${what}: ${ioWords(err)}`, { cause: err });
}

/** What an output that ran out of room says, by error code. */
const NO_ROOM: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exhausted",
  EFBIG: "the file is larger than the file system allows",
};

/**
 * A file-system failure while writing an output, as an OutputError that says
 * where, what happened and what to do (no space: nothing was completed; free
 * space or write elsewhere); typed errors pass through. `where` names the
 * operation and the file ("writing /x/db/t.ibd").
 */
export function outputError(err: unknown, where: string): unknown {
  const code = (err as { code?: string })?.code;
  if (code && NO_ROOM[code]) {
    return new OutputError(
      `${where}: ${NO_ROOM[code]} (${code}); nothing was completed (this run's partial ` +
        "output is removed): free space there or choose another destination, then run again",
      { cause: err },
    );
  }
  if (code && !(err instanceof IoError)) {
    return new OutputError(`${where}: ${ioWords(err)}`, { cause: err });
  }
  return err;
}

/**
 * Where image bytes come from and go to: a file or `-` (stdin/stdout). Files are
 * read sequentially; regular files are written under a temporary name, renamed
 * when complete, while devices and FIFOs (e.g. /dev/null) are written into
 * directly, never renamed over; stdout is written with backpressure.
 */
import { access, lstat, open, rm, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { constants as fsConstants, read as fsRead, writeSync } from "node:fs";
import { IbvaultError, IoError, UsageError } from "../errors.ts";
import {
  ioFailure,
  outputError,
  PART_SUFFIX,
  readFileChunks,
  writeAtomically,
  writeStream,
} from "../core/files.ts";
import { PartFileRefused } from "../core/part_files.ts";

/** Read size for image files. */
const IMAGE_READ = 4 << 20;

/** The display name of an image argument. */
export function imageName(arg: string): string {
  return arg === "-" ? "stdin" : arg;
}

/**
 * The bytes of image `arg` (a file, or `-` for stdin), in order. One buffer is
 * refilled for every read: each yielded chunk is valid only until the next is
 * asked for (the image reader copies what it keeps).
 */
export async function* imageBytes(arg: string): AsyncGenerator<Uint8Array> {
  if (arg === "-") {
    // fd 0 read into our own buffer: no read-ahead beyond one buffer.
    const buf = new Uint8Array(IMAGE_READ);
    for (;;) {
      const n = await new Promise<number>((resolve, reject) =>
        fsRead(0, buf, 0, buf.length, null, (e, bytes) => {
          if (!e) resolve(bytes);
          else if ((e as NodeJS.ErrnoException).code === "EAGAIN") setTimeout(() => resolve(-1), 5);
          else reject(new IoError(`cannot read stdin: ${e.message}`));
        })
      );
      if (n === 0) return;
      if (n > 0) yield buf.subarray(0, n);
    }
  }
  yield* readFileChunks(arg, IMAGE_READ, undefined, true);
}

async function writeStdout(bytes: AsyncIterable<Uint8Array>): Promise<number> {
  // Synchronous writes to fd 1: a full pipe blocks this thread (workers carry on), which is
  // the backpressure that keeps memory bounded.
  let n = 0;
  for await (const b of bytes) {
    let off = 0;
    while (off < b.length) {
      try {
        off += writeSync(1, b, off, b.length - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") {
          throw outputError(e, "writing the image to stdout");
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    n += b.length;
  }
  return n;
}

/** Write `bytes` straight into the existing non-regular file `arg` (a device, FIFO or socket). */
async function writeInPlace(arg: string, bytes: AsyncIterable<Uint8Array>): Promise<number> {
  let fh;
  try {
    // No O_CREAT/O_TRUNC: the node exists and is not a regular file; open it as it is.
    fh = await open(arg, fsConstants.O_WRONLY);
  } catch (e) {
    throw ioFailure(e, `open ${arg} for writing`);
  }
  try {
    return await writeStream(fh, bytes);
  } catch (e) {
    if (e instanceof IbvaultError) throw e;
    throw outputError(e, `writing the image to ${arg}`);
  } finally {
    await fh.close().catch(() => {});
  }
}

/**
 * What `writeImageBytes` would do with target `arg`: "new" (no such file),
 * "replace" (an existing regular file, replaced by rename), "in-place" (a
 * character device, FIFO or socket, written into directly, never renamed over).
 * A directory is a UsageError.
 */
export async function imageTargetKind(arg: string): Promise<"new" | "replace" | "in-place"> {
  let st;
  try {
    // A link at the final name is never written through, except the system's own
    // links to a stream (/dev/stdout, /dev/fd/N).
    if ((await lstat(arg)).isSymbolicLink()) {
      const to = await stat(arg).catch(() => undefined);
      if (!(/^\/(dev|proc)\//.test(arg) && to && !to.isFile() && !to.isDirectory())) {
        throw new UsageError(
          `${arg} is a symbolic link: ibvault does not write through links at a final name ` +
            "(give the path it points to, or remove it)",
        );
      }
    }
    st = await stat(arg);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "new";
    throw ioFailure(e, `use ${arg}`);
  }
  if (st.isDirectory()) {
    throw new UsageError(`${arg} is a directory: --backup-image needs a file name (or -)`);
  }
  return st.isFile() ? "replace" : "in-place";
}

/**
 * Check, before any work, that image target `arg` can be written: for a file, its
 * directory exists and is writable and no link sits at its temporary name. Throws
 * a UsageError (a missing directory) or IoError saying which path and why.
 */
export async function checkImageTarget(arg: string): Promise<void> {
  if (arg === "-" || (await imageTargetKind(arg)) === "in-place") return;
  const dir = dirname(resolve(arg));
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new UsageError(`cannot write ${arg}: its directory ${dir} does not exist`);
  }
  try {
    await access(dir, fsConstants.W_OK);
  } catch {
    throw new IoError(`cannot write ${arg}: its directory ${dir} is not writable`);
  }
  const part = await lstat(arg + PART_SUFFIX).catch(() => undefined);
  if (part && (part.isSymbolicLink() || !part.isFile())) {
    throw new IoError(
      `cannot write ${arg}: something that is not a file is at its temporary name ` +
        `${arg + PART_SUFFIX} (ibvault never writes through links: remove it)`,
    );
  }
}

/**
 * Write image `bytes` to `arg` (a file, or `-` for stdout); returns the bytes
 * written. A new or existing regular file is written under a temporary name and
 * renamed when complete (flushed to the disk first when `sync`; an existing one is
 * refused unless `force`); an existing
 * character device, FIFO or socket (e.g. /dev/null) is written into directly and
 * never replaced; a directory is a UsageError.
 */
export async function writeImageBytes(
  arg: string,
  bytes: AsyncIterable<Uint8Array>,
  force: boolean,
  sync = true,
): Promise<number> {
  if (arg === "-") return await writeStdout(bytes);
  const kind = await imageTargetKind(arg);
  if (kind === "in-place") return await writeInPlace(arg, bytes);
  if (kind === "replace" && !force) {
    throw new UsageError(`${arg} already exists (use --force to replace it)`);
  }
  try {
    return await writeAtomically(arg, bytes, 0o640, sync);
  } catch (e) {
    // Never remove a temporary name that was not ours (a planted link, a live run's file).
    if (!(e instanceof PartFileRefused)) await rm(arg + PART_SUFFIX, { force: true });
    throw e;
  }
}

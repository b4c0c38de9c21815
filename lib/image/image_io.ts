/**
 * Where image bytes come from and go to: a file or `-` (stdin/stdout). Files are
 * read sequentially and written under a temporary name, renamed when complete;
 * stdout is written with backpressure.
 */
import { rm, stat } from "node:fs/promises";
import { read as fsRead, writeSync } from "node:fs";
import { IoError, UsageError } from "../errors.ts";
import { readFileChunks } from "../backupdir/source.ts";
import { PART_SUFFIX, writeAtomically } from "../backupdir/sink.ts";

/** Read size for image files. */
const IMAGE_READ = 4 << 20;

/** The display name of an image argument. */
export function imageName(arg: string): string {
  return arg === "-" ? "stdin" : arg;
}

/** The bytes of image `arg` (a file, or `-` for stdin), in order. */
export async function* imageBytes(arg: string): AsyncGenerator<Uint8Array> {
  if (arg === "-") {
    // fd 0 read into our own buffers: no read-ahead beyond one buffer, no reuse surprises.
    for (;;) {
      const buf = new Uint8Array(IMAGE_READ);
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
  yield* readFileChunks(arg, IMAGE_READ);
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
          throw new IoError(`cannot write to stdout: ${(e as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    n += b.length;
  }
  return n;
}

/**
 * Write image `bytes` to `arg` (a file, or `-` for stdout); returns the bytes
 * written. An existing file is refused unless `force`.
 */
export async function writeImageBytes(
  arg: string,
  bytes: AsyncIterable<Uint8Array>,
  force: boolean,
): Promise<number> {
  if (arg === "-") return await writeStdout(bytes);
  try {
    await stat(arg);
    if (!force) throw new UsageError(`${arg} already exists (use --force to replace it)`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  try {
    return await writeAtomically(arg, bytes, 0o640);
  } catch (e) {
    await rm(arg + PART_SUFFIX, { force: true });
    throw e;
  }
}

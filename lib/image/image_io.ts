/**
 * Where image bytes come from and go to: a file or `-` (stdin/stdout). Files are
 * read sequentially and written under a temporary name, renamed when complete;
 * stdout is written with backpressure.
 */
import { rm, stat } from "node:fs/promises";
import process from "node:process";
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
    for await (const b of process.stdin as AsyncIterable<Uint8Array>) yield b;
    return;
  }
  yield* readFileChunks(arg, IMAGE_READ);
}

async function writeStdout(bytes: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  const out = process.stdout;
  for await (const b of bytes) {
    n += b.length;
    if (!out.write(b)) {
      await new Promise<void>((resolve, reject) => {
        const done = (e?: Error) => {
          out.off("drain", done);
          out.off("error", done);
          e ? reject(new IoError(`cannot write to stdout: ${e.message}`)) : resolve();
        };
        out.on("drain", () => done());
        out.on("error", done);
      });
    }
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

/**
 * What the image commands take from the options: checking the codec options,
 * the key for writing or reading, the image argument, the codec threads.
 */
import type { Options } from "./options.ts";
import type { Reporter } from "../progress/reporter.ts";
import { UsageError } from "../errors.ts";
import { loadKey } from "../image/key.ts";

/** The key to encrypt with (undefined: plain image), after checking the options agree. */
export async function keyForWriting(o: Options, report: Reporter): Promise<Uint8Array | undefined> {
  if (o.compressMethod && o.compressMethod.toLowerCase() !== "lz4") {
    throw new UsageError(`--compress-method=${o.compressMethod}: only lz4 is supported`);
  }
  const key = await loadKey(o, (m) => report.warn(m));
  if (o.encrypt && !key) {
    throw new UsageError("--encrypt needs a key: --key-file, --key-env or --key");
  }
  if (key && !o.encrypt) {
    throw new UsageError("a key was given without --encrypt (add --encrypt to encrypt the image)");
  }
  return key;
}

/** The key to read with, if one was given (--decrypt is accepted and implies nothing else). */
export async function keyForReading(o: Options, report: Reporter): Promise<Uint8Array | undefined> {
  const key = await loadKey(o, (m) => report.warn(m));
  if (o.decrypt && !key) {
    throw new UsageError("--decrypt needs a key: --key-file, --key-env or --key");
  }
  return key;
}

/** The image argument, required. */
export function requireImage(o: Options): string {
  if (!o.backupImage) {
    throw new UsageError("--backup-image=FILE (or - for stdin/stdout) is required");
  }
  return o.backupImage;
}

/** Worker threads for the codec: the --threads value (at least 1). */
export function codecThreads(o: Options): number {
  return Math.max(1, o.threads | 0);
}

/**
 * What the image commands take from the options: checking the codec options
 * (compression, keys),
 * the key for writing or reading, the image argument, the codec threads.
 */
import type { Options } from "./options.ts";
import type { Reporter } from "../progress/reporter.ts";
import { UsageError } from "../errors.ts";
import { loadKey } from "../image/key.ts";
import type { Compression } from "../image/chunk_codec.ts";
import { assertZstd, ZSTD_DEFAULT_LEVEL, ZSTD_MAX_LEVEL, ZSTD_MIN_LEVEL } from "../image/zstd.ts";

/** The key to encrypt with (undefined: plain image), after checking the options agree. */
export async function keyForWriting(o: Options, report: Reporter): Promise<Uint8Array | undefined> {
  const key = await loadKey(o, (m) => report.warn(m));
  if (o.encrypt && !key) {
    throw new UsageError("--encrypt needs a key: --key-file, --key-env or --key");
  }
  if (key && !o.encrypt) {
    throw new UsageError("a key was given without --encrypt (add --encrypt to encrypt the image)");
  }
  return key;
}

/**
 * How image chunks are to be compressed, from --compress, --compress-method and
 * --compress-level (MEB's meanings: a method or a nonzero level implies
 * --compress, level 0 or method `none` turns it off). Sets `o.compress` to the
 * outcome so what the manifest records agrees. zstd is self-tested here, before
 * anything is read or written: ZstdUnavailableError (exit 3) if it is missing.
 */
export function compressionFor(o: Options, report: Reporter): Compression {
  const method = o.compressMethod?.toLowerCase();
  if (method !== undefined && !["lz4", "zstd", "none"].includes(method)) {
    throw new UsageError(
      `--compress-method=${o.compressMethod}: ibvault compresses with lz4 or zstd (or none)`,
    );
  }
  const level = o.compressLevel;
  if (level !== undefined && level > ZSTD_MAX_LEVEL) {
    throw new UsageError(
      `--compress-level=${level}: zstd levels go from ${ZSTD_MIN_LEVEL} to ${ZSTD_MAX_LEVEL}`,
    );
  }
  const on = method === "none" || level === 0
    ? false
    : o.compress || method !== undefined || level !== undefined;
  o.compress = on;
  if (!on) return false;
  if (method === "zstd") {
    assertZstd();
    return { method: "zstd", level: level ?? ZSTD_DEFAULT_LEVEL };
  }
  if (level !== undefined) {
    report.info(`--compress-level=${level}: LZ4 has one level; levels apply to zstd`);
  }
  return true;
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

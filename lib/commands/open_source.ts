/**
 * The one way commands open what they read: `--backup-dir` as a directory
 * source, `--backup-image` (a file, or `-` for stdin) as an image source with
 * the key and threads of the options. With both, the image is the source and
 * `--backup-dir` MEB's working directory (`work_dir.ts`). The backups of a root
 * (check-backup, purge-backups) are opened through {@link backupOpener}.
 */
import type { CommandContext } from "./command.ts";
import { codecThreads, keyForReading, requireImage } from "./image_options.ts";
import { UsageError } from "../errors.ts";
import type { DecodeMode } from "../image/chunk_codec.ts";
import { type ImageSource, openImageSource } from "../image/source.ts";
import { imageBytes, imageName } from "../image/image_io.ts";
import { sniffSource } from "../xbstream/detect.ts";
import { type DirSource, openDirSource } from "../backupdir/source.ts";
import { rebuildingSource } from "../delta/rebuild_source.ts";
import type { BackupOpener, Rebuilt } from "../source.ts";
import { imageWorkDir, prepareWorkDir, tempDirOf } from "./work_dir.ts";

/** How the source is read. */
export interface OpenSourceOptions {
  /** Image decoding: "full" (default), "keep-compressed" (LZ4 frames), "check" (verify only). */
  mode?: DecodeMode;
  /** The consumer is done with each chunk when it asks for the next (an image may reuse it). */
  recycle?: boolean;
  /** A directory without a manifest: refused ("required", default) or imaged as plain files. */
  manifest?: "required" | "build";
  /** "check" mode: entries whose path this accepts are decoded all the same. */
  decodeWhole?: (path: string) => boolean;
  /** Where rebuilt files are spooled (default: the working directory, else the system's). */
  spoolDir?: string;
  /**
   * Leave hot copies and their deltas as stored (named by the source's
   * `hotCopies`), for a consumer that joins them itself without a spool.
   */
  pairsAsStored?: boolean;
}

/** A source opened from the options. */
export type OpenedSource = DirSource | ImageSource;

/** Open the image of `--backup-image` (required). */
export async function openImageOption(
  ctx: CommandContext,
  opts: OpenSourceOptions = {},
): Promise<ImageSource & Partial<Rebuilt>> {
  const image = requireImage(ctx.options);
  return await openImageAt(ctx, image, await keyForReading(ctx.options, ctx.report), opts);
}

/** Open image `image` (a file, or `-`) with `key` and the options' threads. */
export async function openImageAt(
  ctx: CommandContext,
  image: string,
  key: Uint8Array | undefined,
  opts: OpenSourceOptions = {},
): Promise<ImageSource & Partial<Rebuilt>> {
  const source = await openImageBytes(ctx, image, opts, key);
  // Hot copies and their deltas (minimum locking) are joined into rebuilt files,
  // unless the entries are wanted as stored (LZ4 frames, or only verified).
  const stored = opts.mode !== undefined && opts.mode !== "full";
  if (stored) return source;
  return rebuildingSource(source, opts.spoolDir ?? tempDirOf(ctx.options), {
    pairsAsStored: opts.pairsAsStored,
  });
}

/** Open image `image` with the options' key and threads, as stored (from `bytes` when already begun). */
async function openImageBytes(
  ctx: CommandContext,
  image: string,
  opts: OpenSourceOptions,
  key: Uint8Array | undefined,
  bytes?: AsyncIterable<Uint8Array>,
): Promise<ImageSource> {
  return await openImageSource(image, {
    key,
    threads: codecThreads(ctx.options),
    mode: opts.mode,
    recycle: opts.recycle,
    signal: ctx.signal,
    decodeWhole: opts.decodeWhole,
  }, bytes);
}

/**
 * Open `--backup-dir` or `--backup-image` for `command`. With both, the image is
 * the source and the directory the working directory (made if missing).
 */
export async function openSource(
  ctx: CommandContext,
  command: string,
  opts: OpenSourceOptions = {},
): Promise<OpenedSource> {
  const o = ctx.options;
  if (!o.backupDir && !o.backupImage) {
    throw new UsageError(`${command} needs --backup-dir=DIR or --backup-image=FILE|-`);
  }
  const work = imageWorkDir(o);
  if (work !== undefined) await prepareWorkDir(work);
  if (o.backupImage) return await openImageOption(ctx, opts);
  return await openDirSource(o.backupDir!, {
    manifest: opts.manifest ?? "required",
    onOther: (rel) => ctx.report.warn(`${rel}: not a regular file, left out`),
  });
}

/**
 * Opens backups by path with the options' threads and `key` (already loaded by the
 * command), entries as stored unless asked rebuilt: for services over a root of backups.
 */
export function backupOpener(ctx: CommandContext, key: Uint8Array | undefined): BackupOpener {
  return {
    hasKey: key !== undefined,
    async open(path, form, how = {}) {
      if (form === "directory") return await openDirSource(path, { manifest: "required" });
      const source = await openImageBytes(ctx, path, how, key);
      if (!how.rebuilt) return source;
      return rebuildingSource(source, tempDirOf(ctx.options), { pairsAsStored: how.pairsAsStored });
    },
  };
}

/** Another tool's stream given as `--backup-image` (mariadb-backup/xtrabackup xbstream). */
export interface XbstreamInput {
  kind: "xbstream";
  name: string;
  /** The stream's bytes from the start. */
  bytes: AsyncIterable<Uint8Array>;
}

/** Open `--backup-image` (required): an ibvault image as a source, or an xbstream's bytes. */
export async function openImageOrXbstream(
  ctx: CommandContext,
  opts: OpenSourceOptions = {},
): Promise<ImageSource | XbstreamInput> {
  const o = ctx.options;
  const image = requireImage(o);
  const work = imageWorkDir(o);
  if (work !== undefined) await prepareWorkDir(work);
  const key = await keyForReading(o, ctx.report);
  const sniffed = await sniffSource(imageBytes(image));
  if (sniffed.xbstream) return { kind: "xbstream", name: imageName(image), bytes: sniffed.bytes };
  return await openImageBytes(ctx, image, opts, key, sniffed.bytes);
}

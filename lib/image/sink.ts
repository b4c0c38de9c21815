/**
 * An image file (or `-` for stdout) as a sink: the source's manifest then its
 * entries, chunked, compressed and encrypted as asked, written under a temporary
 * name and renamed when whole (a device or FIFO is written into directly).
 */
import type { Sink } from "../sink.ts";
import type { Source } from "../source.ts";
import { outputError } from "../core/files.ts";
import { isStreamed, MANIFEST_FILE } from "../core/manifest.ts";
import { writeImage } from "./writer.ts";
import { writeImageBytes } from "./image_io.ts";
import type { Compression } from "./chunk_codec.ts";

/** How an image sink writes. */
export interface ImageSinkOptions {
  /** A file name, or `-` for stdout. */
  target: string;
  /** `true`: LZ4; `{ method: "zstd", level }`: zstd (see `chunk_codec.ts`). */
  compress: Compression;
  /** The 256-bit key: present means encrypt. */
  key?: Uint8Array;
  /** Codec worker threads (0: on this thread). */
  threads: number;
  /** Replace an existing regular file. */
  force: boolean;
  /** Flush the file to the disk before renaming it into place. */
  sync: boolean;
  signal?: AbortSignal;
  /** A streamed manifest's `plannedBytes` (the export's size, for readers' progress). */
  plannedBytes?: number;
  /** Called as data is read, with the raw bytes so far and the total the manifest lists. */
  onProgress?: (done: number, total: number) => void;
  /** Told about an entry whose content differs from the CRC-32C its manifest lists. */
  onAltered?: (path: string, crc32c: string, listed: string) => void;
}

/** What an image sink wrote. */
export interface ImageSinkSummary {
  destination: string;
  /** Entries written (the manifest aside). */
  entries: number;
  /** Raw bytes of those entries. */
  bytes: number;
  /** Bytes of the image itself. */
  imageBytes: number;
  /** Entries whose content differed from their manifest's CRC-32C. */
  altered: number;
}

/** A sink writing a source as one image. */
export function imageSink(opts: ImageSinkOptions): Sink<ImageSinkSummary> {
  return { write: (source) => writeToImage(source, opts) };
}

async function writeToImage(source: Source, opts: ImageSinkOptions): Promise<ImageSinkSummary> {
  const listed = new Map(source.manifest.entries.map((e) => [e.path, e.crc32c]));
  const total = source.manifest.entries.reduce((s, e) => s + e.size, 0);
  const summary: ImageSinkSummary = {
    destination: opts.target === "-" ? "stdout" : opts.target,
    entries: 0,
    bytes: 0,
    imageBytes: 0,
    altered: 0,
  };
  const manifest = opts.plannedBytes !== undefined && isStreamed(source.manifest)
    ? { ...source.manifest, plannedBytes: opts.plannedBytes }
    : source.manifest;
  const bytes = writeImage(manifest, source.entries(), {
    compress: opts.compress,
    key: opts.key,
    threads: opts.threads,
    signal: opts.signal,
    onProgress: (done) => opts.onProgress?.(done, total),
    onEntry: (path, size, crc) => {
      if (path === MANIFEST_FILE) return;
      summary.entries++;
      summary.bytes += size;
      const want = listed.get(path);
      if (want && want !== crc) {
        summary.altered++;
        opts.onAltered?.(path, crc, want);
      }
    },
  });
  try {
    summary.imageBytes = await writeImageBytes(
      opts.target,
      untilAborted(bytes, opts.signal),
      opts.force,
      opts.sync,
    );
  } catch (err) {
    throw outputError(err, `writing ${opts.target === "-" ? "the image to stdout" : opts.target}`);
  }
  return summary;
}

/**
 * `bytes`, then one last look at `signal` after the last of them: an interrupt that
 * came while the end was being written stops the run before the image is renamed
 * into place, so an interrupted run leaves no image.
 */
async function* untilAborted(
  bytes: AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  yield* bytes;
  signal?.throwIfAborted();
}

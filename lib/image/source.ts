/**
 * An image (a file, or `-` for stdin) as a {@link Source}: the entry iterator
 * over the image's bytes, skipping (and verifying) entries not selected.
 */
import type { Source } from "../source.ts";
import type { EndInfo, ImageHeader } from "./format.ts";
import { type ImageEntry, type ImageReadOptions, openImage } from "./reader.ts";
import { imageBytes, imageName } from "./image_io.ts";

/** An image opened as a source. */
export interface ImageSource extends Source {
  readonly kind: "image";
  readonly header: ImageHeader;
  /** The end record's totals, once the entries were read to the end. */
  readonly end?: EndInfo;
  entries(select?: (path: string) => boolean): AsyncIterable<ImageEntry>;
}

/**
 * Open image `arg` (a file name, or `-` for stdin) with plain reading options
 * (`{ key, threads }`, and the mode); its name in messages is the file or `stdin`.
 * `bytes` are the image's bytes when the caller already started reading them.
 */
export async function openImageSource(
  arg: string,
  opts: Omit<ImageReadOptions, "name">,
  bytes: AsyncIterable<Uint8Array> = imageBytes(arg),
): Promise<ImageSource> {
  const name = imageName(arg);
  const img = await openImage(bytes, { ...opts, name });
  return {
    kind: "image",
    name,
    header: img.header,
    manifest: img.manifest,
    seen: img.seen,
    get end() {
      return img.end;
    },
    async *entries(select) {
      for await (const e of img.entries()) {
        if (!select || select(e.path)) yield e;
        else for await (const _ of e.data) { /* not selected: verified and skipped */ }
      }
    },
    close: () => img.close(),
  };
}

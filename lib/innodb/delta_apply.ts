/**
 * Applying a page delta to the file it continues (docs/FORMAT.md, "Page deltas"):
 * check that the file is the tablespace the delta was taken from (space id and
 * physical page size on its page 0), write every run at page number × page size
 * in order, then set the length to the final size. The file is changed in place:
 * callers apply to a copy under a temporary name and rename it on success.
 */
import type { FileHandle } from "node:fs/promises";
import { CorruptionError } from "../errors.ts";
import { spaceInfoFromPage0 } from "./flags.ts";
import { FSP_SPACE_FLAGS } from "./layout.ts";
import { type DeltaEnd, type DeltaHeader, readDelta } from "./delta_format.ts";

/** What applying a delta did. */
export interface ApplyResult extends DeltaEnd {
  header: DeltaHeader;
  /** Page numbers written, once each, ascending. */
  replaced?: number[];
}

/**
 * Check that a file's page 0 (its first bytes, `page0`) belongs to the tablespace
 * of `header`: same space id and physical page size. Throws CorruptionError
 * naming `where` otherwise.
 */
export function checkDeltaBase(page0: Uint8Array, header: DeltaHeader, where: string): void {
  let info;
  try {
    info = spaceInfoFromPage0(page0);
  } catch (err) {
    throw new CorruptionError(
      `${where}: the file the delta applies to has a bad page 0 (${(err as Error).message})`,
    );
  }
  if (info.spaceId !== header.spaceId || info.physicalSize !== header.pageSize) {
    throw new CorruptionError(
      `${where}: the delta is for space ${header.spaceId} with ${header.pageSize}-byte pages, ` +
        `but the file it continues is space ${info.spaceId} with ${info.physicalSize}-byte pages ` +
        `(not the same tablespace: the chain is broken)`,
    );
  }
}

/**
 * Apply the delta in `data` to the open file `fh` (read-write). The file's
 * current content is the copy the delta continues (checked by its page 0); a
 * complete delta replaces it whatever it is. With `collect`, the result lists the
 * page numbers written; `beforeWrite` sees each run before it is written.
 */
export async function applyDelta(
  fh: FileHandle,
  data: AsyncIterable<Uint8Array>,
  where: string,
  opts: {
    collect?: boolean;
    /** Called before each run is written at `offset` (to read what it replaces, say). */
    beforeWrite?: (offset: number, bytes: Uint8Array) => Promise<void>;
  } = {},
): Promise<ApplyResult> {
  const { header, runs } = await readDelta(data, where);
  if (header.complete) await fh.truncate(0);
  else {
    const page0 = new Uint8Array(FSP_SPACE_FLAGS + 4);
    const { bytesRead } = await fh.read(page0, 0, page0.length, 0);
    if (bytesRead < page0.length) {
      throw new CorruptionError(`${where}: the file the delta applies to is missing or empty`);
    }
    checkDeltaBase(page0, header, where);
  }
  const replaced = opts.collect ? new Set<number>() : undefined;
  let step = await runs.next();
  while (!step.done) {
    const run = step.value;
    await opts.beforeWrite?.(run.first * header.pageSize, run.bytes);
    let off = 0;
    while (off < run.bytes.length) {
      const { bytesWritten } = await fh.write(
        run.bytes,
        off,
        run.bytes.length - off,
        run.first * header.pageSize + off,
      );
      off += bytesWritten;
    }
    if (replaced) { for (let i = 0; i < run.count; i++) replaced.add(run.first + i); }
    step = await runs.next();
  }
  const end = step.value;
  await fh.truncate(end.pages * header.pageSize);
  const result: ApplyResult = { header, ...end };
  if (replaced) result.replaced = [...replaced].sort((a, b) => a - b);
  return result;
}

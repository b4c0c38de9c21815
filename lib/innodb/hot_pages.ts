/**
 * The pages a hot pass read intact with an LSN at or above a threshold, so the
 * pass under the lock can leave out each one whose LSN has not moved since: the
 * same LSN on disk means the same version of the page, and the hot pass already
 * has it whole. A page counts as intact when the checksum judge finds it sound
 * and, where the format keeps the low half of the LSN at a fixed place at the
 * page's end, that copy equals the header's (a torn read has the two halves of
 * different writes). ROW_FORMAT=COMPRESSED, page_compressed and full_crc32
 * encrypted pages have no such plain copy there; their checksum over the whole
 * page decides alone.
 */
import type { SpaceInfo } from "./flags.ts";
import type { CorruptPage } from "./page_range.ts";
import { pageLsn } from "./page_lsn.ts";
import {
  FIL_PAGE_COMPRESS_FCRC32_MARKER,
  FIL_PAGE_LSN,
  FIL_PAGE_PAGE_COMPRESSED,
  FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED,
  FIL_PAGE_TYPE,
} from "./layout.ts";

const be32 = (b: Uint8Array, o: number) =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/** True when the page at `off` has no torn LSN: its trailer copy (if it has one) is the header's. */
export function lsnCopiesAgree(b: Uint8Array, off: number, space: SpaceInfo): boolean {
  if (space.zipSize) return true;
  const size = space.physicalSize;
  const head = be32(b, off + FIL_PAGE_LSN + 4);
  const type = (b[off + FIL_PAGE_TYPE] << 8) | b[off + FIL_PAGE_TYPE + 1];
  if (space.fullCrc32) {
    // bytes 0..3 hold the key version of an encrypted page; the trailer copy is encrypted then
    if (type & FIL_PAGE_COMPRESS_FCRC32_MARKER || be32(b, off) !== 0) return true;
    return be32(b, off + size - 8) === head;
  }
  if (type === FIL_PAGE_PAGE_COMPRESSED || type === FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED) return true;
  return be32(b, off + size - 4) === head;
}

/** Page number → LSN of the pages a hot pass read intact at or above `since`. */
export class HotPages {
  readonly #lsns = new Map<number, bigint>();

  constructor(readonly space: SpaceInfo, readonly since: bigint) {}

  /** Note whole pages `bytes` (the first is page `firstPage`); `corrupt` are the judge's findings among them. */
  note(firstPage: number, bytes: Uint8Array, corrupt: readonly CorruptPage[]): void {
    const size = this.space.physicalSize;
    const bad = corrupt.length > 0 ? new Set(corrupt.map((c) => c.page)) : undefined;
    const n = Math.floor(bytes.length / size);
    for (let i = 0; i < n; i++) {
      const off = i * size;
      const lsn = pageLsn(bytes, off);
      if (lsn < this.since) continue;
      const page = firstPage + i;
      if (bad?.has(page) || !lsnCopiesAgree(bytes, off, this.space)) {
        this.#lsns.delete(page);
        continue;
      }
      this.#lsns.set(page, lsn);
    }
  }

  /** True when page `page`, now at `lsn`, is the version the hot pass read intact. */
  unchanged(page: number, lsn: bigint): boolean {
    return this.#lsns.get(page) === lsn;
  }

  /** Pages noted. */
  get size(): number {
    return this.#lsns.size;
  }
}

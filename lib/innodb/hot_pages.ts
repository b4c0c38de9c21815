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

/**
 * Page number → LSN of the pages a hot pass read intact at or above `since`.
 * Pages arrive in file order, so they are kept in two growing typed arrays (12
 * bytes a page: a 100 GiB table rewritten since the checkpoint needs ~80 MB)
 * and looked up by binary search; a page noted out of order goes to a small map
 * that overrides them.
 */
export class HotPages {
  #pages = new Uint32Array(1024);
  #lsns = new BigUint64Array(1024);
  #n = 0;
  readonly #over = new Map<number, bigint | null>();

  constructor(readonly space: SpaceInfo, readonly since: bigint) {}

  /** Note whole pages `bytes` (the first is page `firstPage`); `corrupt` are the judge's findings among them. */
  note(firstPage: number, bytes: Uint8Array, corrupt: readonly CorruptPage[]): void {
    const size = this.space.physicalSize;
    const bad = corrupt.length > 0 ? new Set(corrupt.map((c) => c.page)) : undefined;
    const n = Math.floor(bytes.length / size);
    for (let i = 0; i < n; i++) {
      const off = i * size;
      const lsn = pageLsn(bytes, off);
      const page = firstPage + i;
      const intact = lsn >= this.since && !bad?.has(page) && lsnCopiesAgree(bytes, off, this.space);
      if (this.#n === 0 || page > this.#pages[this.#n - 1]) {
        if (intact) this.#push(page, lsn);
      } else if (intact) this.#over.set(page, lsn);
      else if (this.#find(page) >= 0 || this.#over.has(page)) this.#over.set(page, null);
    }
  }

  #push(page: number, lsn: bigint): void {
    if (this.#n === this.#pages.length) {
      const pages = new Uint32Array(this.#n * 2);
      pages.set(this.#pages);
      const lsns = new BigUint64Array(this.#n * 2);
      lsns.set(this.#lsns);
      this.#pages = pages;
      this.#lsns = lsns;
    }
    this.#pages[this.#n] = page;
    this.#lsns[this.#n++] = lsn;
  }

  #find(page: number): number {
    let lo = 0, hi = this.#n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = this.#pages[mid];
      if (p === page) return mid;
      if (p < page) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** True when page `page`, now at `lsn`, is the version the hot pass read intact. */
  unchanged(page: number, lsn: bigint): boolean {
    const o = this.#over.get(page);
    if (o !== undefined) return o === lsn;
    const i = this.#find(page);
    return i >= 0 && this.#lsns[i] === lsn;
  }

  /** Pages noted intact (out-of-order notes aside). */
  get size(): number {
    let n = this.#n;
    for (const [p, v] of this.#over) {
      const inArrays = this.#find(p) >= 0;
      if (v === null && inArrays) n--;
      if (v !== null && !inArrays) n++;
    }
    return n;
  }
}

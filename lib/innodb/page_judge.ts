/**
 * Page verdicts over a stream of whole pages, collecting corrupt pages instead of
 * failing at the first: a hot copy is expected to hold torn pages, and only
 * those the delta taken under the lock does not replace are real corruption.
 */
import type { ChecksumAlgorithm } from "./algorithm.ts";
import { allocPageBuffer, type PageBuffer } from "./checksum_kernels.ts";
import type { SpaceInfo } from "./flags.ts";
import { checkPages, type CorruptPage, emptyRange } from "./page_range.ts";

const CAP = 1 << 20;

/** Judges runs of pages; one instance is used by one stream at a time. */
export class PageJudge {
  #buf: PageBuffer | undefined;
  #algo: ChecksumAlgorithm;

  /** Judge pages as a server with this checksum algorithm would. */
  constructor(algo: ChecksumAlgorithm) {
    this.#algo = algo;
  }

  /** The corrupt pages among `bytes` (whole pages of `space`, the first being `firstPage`). */
  judge(space: SpaceInfo, firstPage: number, bytes: Uint8Array): CorruptPage[] {
    const size = space.physicalSize;
    this.#buf ??= allocPageBuffer(CAP);
    const per = Math.floor(CAP / size);
    const out: CorruptPage[] = [];
    for (let off = 0, page = firstPage; off < bytes.length; off += per * size, page += per) {
      const part = bytes.subarray(off, Math.min(bytes.length, off + per * size));
      const count = Math.floor(part.length / size);
      this.#buf.bytes.set(part.subarray(0, count * size), 0);
      const r = checkPages(this.#buf, 0, count, page, space, this.#algo, Infinity, emptyRange());
      out.push(...r.corrupt);
    }
    return out;
  }

  /**
   * Pass `data` through unchanged while judging its pages (page size of `space`;
   * a partial last page is ignored); corrupt pages go into `into`. `onPages` is
   * told each judged run of whole pages with the corrupt ones among them.
   */
  async *watch(
    data: AsyncIterable<Uint8Array>,
    space: SpaceInfo,
    into: CorruptPage[],
    onPages?: (firstPage: number, bytes: Uint8Array, corrupt: CorruptPage[]) => void,
  ): AsyncGenerator<Uint8Array> {
    const size = space.physicalSize;
    let carry = new Uint8Array(0);
    let page = 0;
    for await (const chunk of data) {
      let bytes = chunk;
      if (carry.length > 0) {
        bytes = new Uint8Array(carry.length + chunk.length);
        bytes.set(carry);
        bytes.set(chunk, carry.length);
      }
      const whole = Math.floor(bytes.length / size) * size;
      const bad = this.judge(space, page, bytes.subarray(0, whole));
      into.push(...bad);
      onPages?.(page, bytes.subarray(0, whole), bad);
      page += whole / size;
      carry = bytes.slice(whole);
      yield chunk;
    }
  }
}

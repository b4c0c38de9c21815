/**
 * Large buffers (image chunks) kept for reuse and released on purpose: a steady
 * stream of chunks then allocates nothing, and peak memory does not depend on when
 * the garbage collector runs.
 */

/**
 * Buffers to recycle between this thread and the workers, matched by exact byte
 * length: so a steady stream of chunks allocates nothing, and memory does not
 * grow with garbage waiting for collection. Holds at most `max` buffers (the
 * oldest is dropped first) and none under 64 KiB.
 */
export class BufferPool {
  #free: ArrayBuffer[] = [];
  #max: number;

  /** A pool keeping at most `max` buffers. */
  constructor(max = 8) {
    this.#max = max;
  }

  /** A buffer of exactly `size` bytes (recycled when one is free; contents undefined). */
  take(size: number): ArrayBuffer {
    return this.takeFree(size) ?? new ArrayBuffer(size);
  }

  /** A free buffer of exactly `size` bytes, if there is one. */
  takeFree(size: number): ArrayBuffer | undefined {
    for (let i = this.#free.length - 1; i >= 0; i--) {
      if (this.#free[i].byteLength === size) return this.#free.splice(i, 1)[0];
    }
    return undefined;
  }

  /** Give `buf` back (small or detached buffers are ignored; the oldest is released when full). */
  give(buf: ArrayBuffer | undefined): void {
    if (!buf || buf.byteLength < 65536) return;
    if (this.#free.length >= this.#max) releaseBuffer(this.#free.shift());
    this.#free.push(buf);
  }
}

/**
 * Free `buf`'s memory now instead of at the next garbage collection, by detaching it
 * (`transfer(0)`); for a large buffer nothing refers to any more. Chunk buffers of
 * 1 MiB that wait for collection are what drives peak memory: releasing them took a
 * 3 GiB encrypted image's reader in the binary from 241 to 106 MB, and its
 * writer from 170 to 110 MB and 25% faster.
 */
export function releaseBuffer(buf: ArrayBufferLike | undefined): void {
  if (!buf || buf.byteLength < 65536 || !(buf instanceof ArrayBuffer)) return;
  (buf as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer }).transfer?.(0);
}

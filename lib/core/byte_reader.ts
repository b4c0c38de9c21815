/**
 * Exact-length reads over an async stream of byte chunks, strictly sequential (no
 * seeks), as image and LZ4 frame readers need. A short read at the end of input is
 * reported to the caller, which decides whether that means "truncated".
 */

/** Reads exact byte counts from an async iterable of chunks. */
export class ByteReader {
  #it: AsyncIterator<Uint8Array>;
  #cur: Uint8Array = new Uint8Array(0);
  #pos = 0;
  #done = false;
  /** Bytes consumed so far (the offset of the next byte in the stream). */
  offset = 0;

  /** Wrap a source of chunks. */
  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    while (this.#pos >= this.#cur.length) {
      if (this.#done) return false;
      const r = await this.#it.next();
      if (r.done) {
        this.#done = true;
        return false;
      }
      this.#cur = r.value;
      this.#pos = 0;
    }
    return true;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }

  /**
   * Read exactly `n` bytes; resolves to fewer only at the end of input. The result
   * is a fresh copy unless it lies inside one source chunk (then a view of it).
   */
  async read(n: number): Promise<Uint8Array> {
    if (!(await this.#fill())) return new Uint8Array(0);
    if (this.#cur.length - this.#pos >= n) {
      const v = this.#cur.subarray(this.#pos, this.#pos + n);
      this.#pos += n;
      this.offset += n;
      return v;
    }
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n && (await this.#fill())) {
      const take = Math.min(n - got, this.#cur.length - this.#pos);
      out.set(this.#cur.subarray(this.#pos, this.#pos + take), got);
      this.#pos += take;
      got += take;
    }
    this.offset += got;
    return got === n ? out : out.subarray(0, got);
  }

  /**
   * Up to `max` bytes (at least one unless the input ended) as a view of the
   * current source chunk, never a copy: for consumers that take data piecewise.
   */
  async readSome(max: number): Promise<Uint8Array> {
    if (!(await this.#fill())) return new Uint8Array(0);
    const n = Math.min(max, this.#cur.length - this.#pos);
    const v = this.#cur.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    this.offset += n;
    return v;
  }

  /** Fill `target` from the stream; resolves to the bytes copied (fewer only at the end). */
  async readInto(target: Uint8Array): Promise<number> {
    let got = 0;
    while (got < target.length && (await this.#fill())) {
      const take = Math.min(target.length - got, this.#cur.length - this.#pos);
      target.set(this.#cur.subarray(this.#pos, this.#pos + take), got);
      this.#pos += take;
      got += take;
    }
    this.offset += got;
    return got;
  }

  /** Stop reading the source (lets a file or pipe close early). */
  async close(): Promise<void> {
    if (!this.#done) {
      this.#done = true;
      await this.#it.return?.();
    }
  }
}

/**
 * Streaming xxHash32: the LZ4 frame content checksum is an xxHash32 of the whole
 * content, which arrives in pieces. One-shot hashing goes through `kernels.ts`.
 */
const P1 = 2654435761, P2 = 2246822519, P3 = 3266489917, P4 = 668265263, P5 = 374761393;
const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;

/** An xxHash32 computed over data given in any number of `update` calls. */
export class Xxh32 {
  #v = new Uint32Array(4);
  #buf = new Uint8Array(16);
  #bufLen = 0;
  #total = 0;
  #seed: number;

  /** Start a hash with `seed` (default 0). */
  constructor(seed = 0) {
    this.#seed = seed >>> 0;
    this.#v[0] = seed + P1 + P2;
    this.#v[1] = seed + P2;
    this.#v[2] = seed;
    this.#v[3] = seed - P1;
  }

  #stripe(b: Uint8Array, i: number) {
    const v = this.#v;
    for (let k = 0; k < 4; k++) {
      const o = i + 4 * k;
      const w = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
      v[k] = Math.imul(rotl((v[k] + Math.imul(w, P2)) >>> 0, 13), P1);
    }
  }

  /** Add `data` to the hash. */
  update(data: Uint8Array): this {
    this.#total += data.length;
    let i = 0;
    if (this.#bufLen > 0) {
      const take = Math.min(16 - this.#bufLen, data.length);
      this.#buf.set(data.subarray(0, take), this.#bufLen);
      this.#bufLen += take;
      i = take;
      if (this.#bufLen < 16) return this;
      this.#stripe(this.#buf, 0);
      this.#bufLen = 0;
    }
    for (; i + 16 <= data.length; i += 16) this.#stripe(data, i);
    if (i < data.length) {
      this.#buf.set(data.subarray(i), 0);
      this.#bufLen = data.length - i;
    }
    return this;
  }

  /** The hash of everything added so far. */
  digest(): number {
    const v = this.#v;
    let h = this.#total >= 16
      ? (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) >>> 0
      : (this.#seed + P5) >>> 0;
    h = (h + this.#total) >>> 0;
    const b = this.#buf;
    let i = 0;
    for (; i + 4 <= this.#bufLen; i += 4) {
      const w = (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
      h = Math.imul(rotl((h + Math.imul(w, P3)) >>> 0, 17), P4);
    }
    for (; i < this.#bufLen; i++) h = Math.imul(rotl((h + Math.imul(b[i], P5)) >>> 0, 11), P1);
    h ^= h >>> 15;
    h = Math.imul(h, P2);
    h ^= h >>> 13;
    h = Math.imul(h, P3);
    h ^= h >>> 16;
    return h >>> 0;
  }
}

/**
 * Plain TypeScript versions of the kernels the image code needs (CRC-32C, xxHash32,
 * LZ4 block compress/decompress). They stand in until the WASM kernels are wired in
 * through `kernels.ts`, and the LZ4 decoder here also handles linked blocks (a
 * prefix dictionary), which the block kernel does not.
 */
import { CorruptionError } from "../errors.ts";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli) of `data`, continuing from `init` (a previous result, default 0). */
export function crc32cTs(data: Uint8Array, init = 0): number {
  let c = ~init >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const P1 = 2654435761, P2 = 2246822519, P3 = 3266489917, P4 = 668265263, P5 = 374761393;
const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
const round = (acc: number, v: number) => Math.imul(rotl((acc + Math.imul(v, P2)) >>> 0, 13), P1);

/** xxHash32 of `data` with `seed` (default 0). */
export function xxhash32Ts(data: Uint8Array, seed = 0): number {
  const n = data.length;
  const dv = new DataView(data.buffer, data.byteOffset, n);
  let i = 0;
  let h: number;
  if (n >= 16) {
    let v1 = (seed + P1 + P2) >>> 0, v2 = (seed + P2) >>> 0, v3 = seed >>> 0;
    let v4 = (seed - P1) >>> 0;
    for (; i + 16 <= n; i += 16) {
      v1 = round(v1, dv.getUint32(i, true));
      v2 = round(v2, dv.getUint32(i + 4, true));
      v3 = round(v3, dv.getUint32(i + 8, true));
      v4 = round(v4, dv.getUint32(i + 12, true));
    }
    h = (rotl(v1 >>> 0, 1) + rotl(v2 >>> 0, 7) + rotl(v3 >>> 0, 12) + rotl(v4 >>> 0, 18)) >>> 0;
  } else h = (seed + P5) >>> 0;
  h = (h + n) >>> 0;
  for (; i + 4 <= n; i += 4) {
    h = Math.imul(rotl((h + Math.imul(dv.getUint32(i, true), P3)) >>> 0, 17), P4);
  }
  for (; i < n; i++) h = Math.imul(rotl((h + Math.imul(data[i], P5)) >>> 0, 11), P1);
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Largest LZ4 block that `n` input bytes can compress to. */
export function lz4BoundTs(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

const MIN_MATCH = 4, LAST_LITERALS = 5, MF_LIMIT = 12, HASH_LOG = 14;

/** Compress `src` into one LZ4 block (greedy, single hash table). */
export function lz4CompressBlockTs(src: Uint8Array): Uint8Array {
  const n = src.length;
  const out = new Uint8Array(lz4BoundTs(n));
  const table = new Int32Array(1 << HASH_LOG).fill(-1);
  const dv = new DataView(src.buffer, src.byteOffset, n);
  let op = 0, anchor = 0, ip = 0;
  const emit = (litEnd: number, matchLen: number, offset: number) => {
    const lit = litEnd - anchor;
    const token = op++;
    let t = (lit >= 15 ? 15 : lit) << 4;
    if (lit >= 15) {
      let r = lit - 15;
      for (; r >= 255; r -= 255) out[op++] = 255;
      out[op++] = r;
    }
    out.set(src.subarray(anchor, litEnd), op);
    op += lit;
    if (matchLen > 0) {
      out[op++] = offset & 0xff;
      out[op++] = offset >>> 8;
      const m = matchLen - MIN_MATCH;
      t |= m >= 15 ? 15 : m;
      if (m >= 15) {
        let r = m - 15;
        for (; r >= 255; r -= 255) out[op++] = 255;
        out[op++] = r;
      }
    }
    out[token] = t;
  };
  if (n >= MF_LIMIT + 1) {
    const limit = n - MF_LIMIT;
    const matchEnd = n - LAST_LITERALS;
    while (ip < limit) {
      const seq = dv.getUint32(ip, true);
      const h = Math.imul(seq, 2654435761) >>> (32 - HASH_LOG);
      const ref = table[h];
      table[h] = ip;
      if (ref >= 0 && ip - ref <= 65535 && dv.getUint32(ref, true) === seq) {
        let len = MIN_MATCH;
        while (ip + len < matchEnd && src[ref + len] === src[ip + len]) len++;
        emit(ip, len, ip - ref);
        ip += len;
        anchor = ip;
      } else ip++;
    }
  }
  emit(n, 0, 0);
  return out.slice(0, op);
}

/**
 * Decompress one LZ4 block into at most `maxOutput` bytes. With `prefix` (up to the
 * last 64 KiB of earlier output, for linked blocks), matches may reach back into it.
 * Throws CorruptionError on malformed input; never reads or writes out of bounds.
 */
export function lz4DecompressBlockTs(
  src: Uint8Array,
  maxOutput: number,
  prefix?: Uint8Array,
): Uint8Array {
  const pre = prefix?.length ?? 0;
  const out = new Uint8Array(pre + maxOutput);
  if (prefix) out.set(prefix);
  let ip = 0, op = pre;
  const end = out.length;
  const bad = (why: string): never => {
    throw new CorruptionError(`malformed LZ4 block: ${why}`);
  };
  while (true) {
    if (ip >= src.length) bad("truncated");
    const token = src[ip++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b;
      do {
        if (ip >= src.length) bad("truncated literal length");
        b = src[ip++];
        lit += b;
      } while (b === 255);
    }
    if (ip + lit > src.length) bad("literals past end of input");
    if (op + lit > end) bad("output larger than declared");
    out.set(src.subarray(ip, ip + lit), op);
    ip += lit;
    op += lit;
    if (ip === src.length) break;
    if (ip + 2 > src.length) bad("truncated offset");
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op) bad("offset out of range");
    let len = token & 15;
    if (len === 15) {
      let b;
      do {
        if (ip >= src.length) bad("truncated match length");
        b = src[ip++];
        len += b;
      } while (b === 255);
    }
    len += MIN_MATCH;
    if (op + len > end) bad("output larger than declared");
    let m = op - offset;
    if (offset >= len) {
      out.copyWithin(op, m, m + len);
      op += len;
    } else {
      for (let k = 0; k < len; k++) out[op++] = out[m++];
    }
  }
  return out.slice(pre, op);
}

import assert from "node:assert/strict";
import { randomBytes } from "./fixtures/prng.ts";
import { alloc, crc32c, crc32cAt, crc32cCombine, free, kernels, view } from "../lib/kernels/mod.ts";

/** Byte-at-a-time reference CRC-32C. */
function reference(data: Uint8Array, crc = 0): number {
  crc = ~crc;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** Deterministic pseudo-random bytes. */
const bytes = (n: number, seed: number) => randomBytes(n, seed);

/** Remainder of the polynomial with the given exponents modulo x^32 + 0x1EDC6F41 (normal form). */
function polyMod(exponents: number[]): bigint {
  const p = (1n << 32n) | 0x1edc6f41n;
  let v = 0n;
  for (const e of exponents) v ^= 1n << BigInt(e);
  for (let d = v.toString(2).length - 1; d >= 32; d--) {
    if ((v >> BigInt(d)) & 1n) v ^= p << BigInt(d - 32);
  }
  return v;
}

Deno.test("crc32c: fold polynomials are multiples of the generator", () => {
  assert.equal(polyMod([290, 136, 113, 107, 32, 0]), 0n);
  assert.equal(polyMod([209, 144, 54, 39, 14, 0]), 0n);
  assert.equal(polyMod([5275, 4508, 2751, 0]), 0n);
  assert.notEqual(polyMod([209, 144, 54, 39, 15, 0]), 0n);
});

Deno.test("crc32c: check value", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(0), 0x12345678), 0x12345678);
});

Deno.test("crc32c: matches the reference on random lengths, alignments and initial values", () => {
  const data = bytes(70000, 42);
  const ptr = alloc(data.length + 64);
  view(ptr, data.length).set(data);
  let seed = 7;
  for (let i = 0; i < 3000; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const align = seed % 61;
    // Mostly short and near the fold threshold, some long (the slide of the window).
    const len = i % 10 === 0 ? (seed >>> 8) % (data.length - align) : (seed >>> 8) % 3000;
    const init = i % 3 === 0 ? 0 : Math.imul(seed, 2654435761) >>> 0;
    const got = crc32cAt(ptr + align, len, init);
    assert.equal(got, reference(data.subarray(align, align + len), init), `len ${len} at ${align}`);
  }
  free(ptr);
});

Deno.test("crc32c: fold and slicing agree on whole pages of every size", () => {
  const k = kernels();
  const sizes = [4096, 8192, 16384, 32768, 65536, 524287, 524288, 600_001, 1 << 20, 5 << 20];
  for (const size of sizes) {
    const data = bytes(size, size);
    const ptr = alloc(size);
    view(ptr, size).set(data);
    for (const init of [0, 0xffffffff, 0x1234]) {
      assert.equal(crc32cAt(ptr, size, init), k.crc32cSliced(ptr, size, init) >>> 0, `${size}`);
    }
    free(ptr);
  }
});

Deno.test("crc32c: the input is left untouched", () => {
  const data = bytes(20000, 3);
  const ptr = alloc(data.length);
  view(ptr, data.length).set(data);
  crc32cAt(ptr, data.length);
  assert.deepEqual(view(ptr, data.length), data);
  free(ptr);
});

Deno.test("crc32c: combine", () => {
  const data = bytes(5000, 9);
  for (const cut of [0, 1, 17, 2500, 4999, 5000]) {
    const a = crc32c(data.subarray(0, cut));
    const b = crc32c(data.subarray(cut));
    assert.equal(crc32cCombine(a, b, data.length - cut), reference(data));
  }
});

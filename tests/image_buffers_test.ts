// Chunk buffers: recycled by exact size, released (detached, memory freed) when dropped.
import assert from "node:assert/strict";
import { BufferPool, releaseBuffer } from "../lib/image/buffers.ts";

Deno.test("releaseBuffer frees a large buffer at once and leaves small ones alone", () => {
  const big = new ArrayBuffer(1 << 20);
  releaseBuffer(big);
  assert.equal(big.byteLength, 0, "a released buffer is detached");
  assert.throws(() => new Uint8Array(big, 0, 1), TypeError);
  const small = new ArrayBuffer(4096);
  releaseBuffer(small);
  assert.equal(small.byteLength, 4096);
  releaseBuffer(undefined);
});

Deno.test("BufferPool hands back buffers of the exact size and releases the oldest beyond its cap", () => {
  const pool = new BufferPool(2);
  const [a, b, c] = [1, 2, 3].map(() => new ArrayBuffer(1 << 20));
  pool.give(a);
  pool.give(b);
  pool.give(c); // over the cap: `a`, the oldest, is released
  assert.equal(a.byteLength, 0);
  assert.equal(pool.takeFree(1 << 19), undefined, "no buffer of another size");
  assert.equal(pool.takeFree(1 << 20), c);
  assert.equal(pool.takeFree(1 << 20), b);
  assert.equal(pool.takeFree(1 << 20), undefined);
  assert.equal(pool.take(65536).byteLength, 65536, "take allocates when none is free");
  pool.give(new ArrayBuffer(100)); // too small to keep
  assert.equal(pool.takeFree(100), undefined);
});

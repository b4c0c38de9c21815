/**
 * The validation pool's workers (Web Workers under Deno) give the same range results as the
 * calling thread, including corrupt pages and their reasons; tasks run on the calling thread only
 * until a worker is ready.
 */
import assert from "node:assert/strict";
import { decodeFlags } from "../lib/innodb/flags.ts";
import { parseAlgorithm } from "../lib/innodb/algorithm.ts";
import { crc32cTs } from "../lib/innodb/checksum_ts.ts";
import { putBe32 } from "../lib/innodb/layout.ts";
import { ValidatePool } from "../lib/innodb/pool.ts";
import type { RangeTask } from "../lib/innodb/pool_protocol.ts";

function makeFile(pages: number): Uint8Array {
  const size = 16384;
  const b = new Uint8Array(pages * size);
  let seed = 7;
  for (let i = 0; i < b.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    b[i] = seed >>> 24;
  }
  for (let p = 0; p < pages; p++) {
    const off = p * size;
    putBe32(b, off + 4, p);
    b[off + 24] = 0x45;
    b[off + 25] = 0xbf;
    b.copyWithin(off + size - 4, off + 20, off + 24);
    const c = (crc32cTs(b, off + 4, 22) ^ crc32cTs(b, off + 38, size - 46)) >>> 0;
    putBe32(b, off, c);
    putBe32(b, off + size - 8, c);
  }
  b.fill(0, 5 * size, 6 * size); // never-written page: valid
  b[9 * size + 1000] ^= 1; // body
  b[10 * size + 21] ^= 1; // LSN copy
  b[11 * size + 7] ^= 1; // page number
  return b;
}

Deno.test("validate pool: workers and the calling thread agree", async () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/t.ibd`;
  const pages = 96;
  Deno.writeFileSync(path, makeFile(pages));
  const space = decodeFlags(0x21, 9);
  const task = (id: number, firstPage: number, n: number): RangeTask => ({
    id,
    path,
    offset: firstPage * 16384,
    length: n * 16384,
    firstPage,
    space,
    algo: parseAlgorithm("crc32"),
    maxCorrupt: 64,
    kernels: "auto",
    pieceSize: 65536,
  });
  const inline = new ValidatePool(0);
  // Three threads: the calling one and two workers.
  const pool = new ValidatePool(3);
  try {
    await pool.whenReady();
    assert.equal(pool.size, 2);
    for (const [first, n] of [[0, 96], [0, 8], [8, 8], [9, 3], [40, 56]]) {
      const want = await inline.run(task(1, first, n));
      const got = await Promise.all([pool.run(task(2, first, n)), pool.run(task(3, first, n))]);
      for (const g of got) assert.deepEqual({ ...g, id: 0 }, { ...want, id: 0 });
    }
    assert.equal(pool.inlineRuns, 0);
    const all = await pool.run(task(4, 0, 96));
    if (all.error !== undefined) throw new Error(all.error);
    assert.deepEqual(all.result.corrupt.map((c) => c.page), [9, 10, 11]);
    assert.equal(all.result.flavours[0], 1);
    assert.equal(all.result.flavours[1], 92);
    // With every worker's queue full (4 tasks each), the next task runs on the calling thread.
    const burst = await Promise.all(
      Array.from({ length: 9 }, (_, i) => pool.run(task(10 + i, 0, 96))),
    );
    for (const r of burst) {
      if (r.error !== undefined) throw new Error(r.error);
      assert.deepEqual(r.result.corrupt.map((c) => c.page), [9, 10, 11]);
    }
    assert.equal(pool.inlineRuns, 1);
    assert.equal(pool.concurrency, 9);
  } finally {
    pool.close();
    inline.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("validate pool: a small run stays on the calling thread; workers start once it is exceeded", async () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/t.ibd`;
  Deno.writeFileSync(path, makeFile(96));
  const task = (id: number): RangeTask => ({
    id,
    path,
    offset: 0,
    length: 96 * 16384,
    firstPage: 0,
    space: decodeFlags(0x21, 9),
    algo: parseAlgorithm("crc32"),
    maxCorrupt: 64,
    kernels: "auto",
    pieceSize: 65536,
  });
  // Room for two tasks on the calling thread, then the workers start.
  const pool = new ValidatePool(3, 2 * 96 * 16384);
  try {
    for (const id of [1, 2]) {
      const r = await pool.run(task(id));
      if (r.error !== undefined) throw new Error(r.error);
      assert.deepEqual(r.result.corrupt.map((c) => c.page), [9, 10, 11]);
    }
    assert.equal(pool.size, 0, "no worker started for a run within the budget");
    assert.equal(pool.inlineRuns, 2);
    await pool.run(task(3));
    assert.equal(pool.size, 2, "the third task starts the workers");
    await pool.whenReady();
    const r = await pool.run(task(4));
    if (r.error !== undefined) throw new Error(r.error);
    assert.deepEqual(r.result.corrupt.map((c) => c.page), [9, 10, 11]);
    assert.equal(pool.inlineRuns, 3, "once ready, tasks go to the workers");
  } finally {
    pool.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { alloc, crc32c, free, kernels, memory, ownedStart, view } from "../lib/kernels/mod.ts";

Deno.test("wasm: the owned region starts on a 64 KiB boundary above the module's data", () => {
  const base = kernels().heapBase();
  assert.ok(base > 16384, "tables live in static data");
  assert.equal(ownedStart() % 65536, 0);
  assert.ok(ownedStart() >= base && ownedStart() - base < 65536);
  assert.ok(memory().buffer.byteLength >= ownedStart());
});

Deno.test("wasm: alloc, free and view", () => {
  const a = alloc(100);
  const b = alloc(1 << 20);
  assert.ok(a >= ownedStart() && a % 64 === 0 && b >= a + 100);
  view(b, 5).set([1, 2, 3, 4, 5]);
  free(a);
  const c = alloc(64);
  assert.equal(c, a, "a freed block is reused");
  // Growing the memory keeps earlier contents (views must be taken afresh).
  const big = alloc(64 << 20);
  assert.deepEqual([...view(b, 5)], [1, 2, 3, 4, 5]);
  for (const p of [big, b, c]) free(p);
  assert.throws(() => free(12345), RangeError);
  assert.equal(alloc(64), a, "everything freed: allocation starts over");
  free(a);
});

Deno.test("wasm: reading file data straight into kernel memory", async () => {
  const { openSync, readSync, closeSync, writeFileSync, rmSync } = await import("node:fs");
  const data = crypto.getRandomValues(new Uint8Array(40000));
  const path = await Deno.makeTempFile();
  writeFileSync(path, data);
  const ptr = alloc(data.length);
  const fd = openSync(path, "r");
  assert.equal(readSync(fd, view(ptr, data.length)), data.length);
  closeSync(fd);
  rmSync(path);
  const { crc32cAt } = await import("../lib/kernels/mod.ts");
  assert.equal(crc32cAt(ptr, data.length), crc32c(data));
  assert.equal(crc32c(view(ptr, data.length)), crc32c(data), "a view is used in place");
  free(ptr);
});

Deno.test("wasm: each worker thread gets its own instance", async () => {
  const src = `
    import { parentPort } from "node:worker_threads";
    import { crc32c, memory } from ${
    JSON.stringify(new URL("../lib/kernels/mod.ts", import.meta.url).href)
  };
    const m = memory();
    parentPort.postMessage({ crc: crc32c(new TextEncoder().encode("123456789")), shared: m.buffer instanceof SharedArrayBuffer });
  `;
  const url = `data:application/javascript,${encodeURIComponent(src)}`;
  const results = await Promise.all(
    [0, 1].map(() =>
      new Promise<{ crc: number; shared: boolean }>((resolve, reject) => {
        const w = new Worker(new URL(url));
        w.once("message", (m) => {
          w.terminate();
          resolve(m);
        });
        w.once("error", reject);
      })
    ),
  );
  for (const r of results) assert.deepEqual(r, { crc: 0xe3069283, shared: false });
});

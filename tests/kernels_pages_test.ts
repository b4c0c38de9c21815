/**
 * The page-run kernel (wasm/assembly/pages.ts) against the page-by-page TypeScript verdict: on
 * synthetic crc32 and full_crc32 pages with chosen corruptions, checkPages with the WASM buffer
 * (one kernel call per run of good pages) must give exactly the result of the TypeScript kernels.
 */
import assert from "node:assert/strict";
import { decodeFlags, type SpaceInfo } from "../lib/innodb/flags.ts";
import { parseAlgorithm } from "../lib/innodb/algorithm.ts";
import { allocPageBuffer } from "../lib/innodb/checksum_kernels.ts";
import { crc32cTs } from "../lib/innodb/checksum_ts.ts";
import { putBe32 } from "../lib/innodb/layout.ts";
import { checkPages } from "../lib/innodb/page_range.ts";
import { F_CRC32, F_FULL_CRC32, F_ZERO } from "../lib/innodb/verdict.ts";
import { PAGES_CRC32, PAGES_FULL_CRC32, pagesCheckAt, pagesZeroCount } from "../lib/kernels/mod.ts";
import { alloc, free, view } from "../lib/kernels/mod.ts";

let seed = 12345;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed >>> 8;
}

/** A valid page `pageNo` of `space` at `off` of `b`. */
function makePage(b: Uint8Array, off: number, pageNo: number, space: SpaceInfo): void {
  const size = space.physicalSize;
  for (let i = 0; i < size; i++) b[off + i] = rnd() & 0xff;
  putBe32(b, off + 4, pageNo);
  b[off + 24] = 0x45; // FIL_PAGE_INDEX, no page_compressed marker
  b[off + 25] = 0xbf;
  if (space.fullCrc32) {
    putBe32(b, off, 0);
    putBe32(
      b,
      off + size - 8,
      (b[off + 20] << 24 | b[off + 21] << 16 | b[off + 22] << 8 |
        b[off + 23]) >>> 0,
    );
    putBe32(b, off + size - 4, crc32cTs(b, off, size - 4));
  } else {
    b.copyWithin(off + size - 4, off + 20, off + 24);
    const c = (crc32cTs(b, off + 4, 22) ^ crc32cTs(b, off + 38, size - 46)) >>> 0;
    putBe32(b, off, c);
    putBe32(b, off + size - 8, c);
  }
}

type Damage = "body" | "checksum" | "lsn" | "pageno" | "zero";

function damage(b: Uint8Array, off: number, size: number, how: Damage): void {
  if (how === "body") b[off + 100 + (rnd() % (size - 200))] ^= 1 + (rnd() % 255);
  else if (how === "checksum") b[off + (b[off] === 0 ? size - 1 : 0)] ^= 0x10;
  else if (how === "lsn") b[off + 21] ^= 4;
  else if (how === "pageno") b[off + 7] ^= 1;
  else b.fill(0, off, off + size);
}

function compare(space: SpaceInfo, algoName: string, count: number, hits: [number, Damage][]) {
  const size = space.physicalSize;
  const wasmBuf = allocPageBuffer(count * size);
  const tsBuf = allocPageBuffer(count * size, "ts");
  assert.equal(wasmBuf.kind, "wasm");
  const b = wasmBuf.bytes;
  for (let i = 0; i < count; i++) makePage(b, i * size, 1000 + i, space);
  for (const [page, how] of hits) damage(b, page * size, size, how);
  tsBuf.bytes.set(b);
  const algo = parseAlgorithm(algoName);
  const got = checkPages(wasmBuf, 0, count, 1000, space, algo, 1000);
  const want = checkPages(tsBuf, 0, count, 1000, space, algo, 1000);
  assert.deepEqual(got, want, `${algoName} ${JSON.stringify(hits)}`);
  return got;
}

const CASES: [number, Damage][][] = [
  [],
  [[0, "body"]],
  [[1, "body"]],
  [[2, "checksum"], [3, "lsn"]],
  [[4, "pageno"], [5, "zero"], [6, "zero"]],
  [[7, "zero"], [8, "body"], [30, "checksum"], [31, "checksum"]],
  [[0, "zero"], [31, "zero"], [15, "pageno"], [16, "lsn"]],
];

Deno.test("page-run kernel: crc32 pages, same verdicts as page by page", () => {
  for (const flags of [0x21, 0] as const) {
    const space = decodeFlags(flags, 5);
    for (const algo of ["strict_crc32", "crc32", "strict_innodb"]) {
      for (const hits of CASES) {
        const r = compare(space, algo, 32, hits);
        if (algo !== "strict_innodb") {
          const zeros = hits.filter(([, h]) => h === "zero").length;
          assert.equal(r.flavours[F_ZERO], zeros);
          assert.equal(r.flavours[F_CRC32], 32 - r.corrupt.length - zeros);
        }
      }
    }
  }
  // 4 KiB pages
  const small = decodeFlags(3 << 6, 5);
  for (const hits of CASES) compare(small, "strict_crc32", 32, hits);
});

Deno.test("page-run kernel: full_crc32 pages, same verdicts as page by page", () => {
  for (const flags of [0x15, 0x13, 0x17]) {
    const space = decodeFlags(flags, 7);
    for (const hits of CASES) {
      const r = compare(space, "full_crc32", 32, hits);
      const zeros = hits.filter(([, h]) => h === "zero").length;
      assert.equal(r.flavours[F_FULL_CRC32], 32 - r.corrupt.length - zeros);
    }
  }
});

Deno.test("page-run kernel: system tablespace skips the doublewrite pages", () => {
  const space = decodeFlags(0x21, 0);
  const count = 200; // extent of 64 pages: pages 64..191 are doublewrite copies
  const size = space.physicalSize;
  const wasmBuf = allocPageBuffer(count * size);
  const tsBuf = allocPageBuffer(count * size, "ts");
  const b = wasmBuf.bytes;
  for (let i = 0; i < count; i++) makePage(b, i * size, i, space);
  damage(b, 70 * size, size, "body"); // inside the doublewrite area: not judged
  damage(b, 195 * size, size, "body");
  tsBuf.bytes.set(b);
  const algo = parseAlgorithm("crc32");
  const got = checkPages(wasmBuf, 0, count, 0, space, algo, 100);
  assert.deepEqual(got, checkPages(tsBuf, 0, count, 0, space, algo, 100));
  assert.equal(got.skipped, 128);
  assert.deepEqual(got.corrupt.map((c) => c.page), [195]);
});

Deno.test("page-run kernel: stop index and zero count", () => {
  const space = decodeFlags(0x21, 5);
  const size = space.physicalSize;
  const ptr = alloc(8 * size);
  const b = view(ptr, 8 * size);
  for (let i = 0; i < 8; i++) makePage(b, i * size, 40 + i, space);
  assert.equal(pagesCheckAt(ptr, 8, size, 40, PAGES_CRC32), 8);
  assert.equal(pagesZeroCount(), 0);
  b.fill(0, 2 * size, 3 * size);
  b[5 * size + 500] ^= 1;
  assert.equal(pagesCheckAt(ptr, 8, size, 40, PAGES_CRC32), 5);
  assert.equal(pagesZeroCount(), 1);
  assert.equal(pagesCheckAt(ptr, 8, size, 40, PAGES_FULL_CRC32), 0);
  assert.equal(pagesCheckAt(ptr, 0, size, 40, PAGES_CRC32), 0);
  free(ptr);
});

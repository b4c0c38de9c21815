/**
 * Which hot-read pages the locked pass may leave out (lib/innodb/hot_pages.ts):
 * only those read intact (checksum sound, LSN copies equal) at or above the start
 * LSN, and only while their LSN has not moved.
 */
import assert from "node:assert/strict";
import { HotPages, lsnCopiesAgree } from "../lib/innodb/hot_pages.ts";
import type { SpaceInfo } from "../lib/innodb/flags.ts";

const SIZE = 16384;
const classic = { physicalSize: SIZE, zipSize: 0, fullCrc32: false } as SpaceInfo;
const full = { physicalSize: SIZE, zipSize: 0, fullCrc32: true } as SpaceInfo;

/** `n` pages with the given LSNs, the low half copied where each format keeps it. */
function pages(space: SpaceInfo, lsns: bigint[]): Uint8Array {
  const b = new Uint8Array(lsns.length * SIZE);
  const dv = new DataView(b.buffer);
  lsns.forEach((lsn, i) => {
    const o = i * SIZE;
    dv.setBigUint64(o + 16, lsn);
    dv.setUint32(o + SIZE - (space.fullCrc32 ? 8 : 4), Number(lsn & 0xffffffffn));
  });
  return b;
}

Deno.test("hot pages: intact pages at or above the start LSN are kept, by LSN", () => {
  for (const space of [classic, full]) {
    const b = pages(space, [10n, 100n, 200n, 300n]);
    const hot = new HotPages(space, 100n);
    hot.note(7, b, [{ page: 10, reason: "checksum mismatch" }]);
    assert.equal(hot.size, 2, "page 7 is below the start LSN, page 10 corrupt");
    assert.ok(hot.unchanged(8, 100n));
    assert.ok(hot.unchanged(9, 200n));
    assert.ok(!hot.unchanged(9, 201n), "its LSN moved: taken again");
    assert.ok(!hot.unchanged(7, 10n) && !hot.unchanged(10, 300n));
  }
});

Deno.test("hot pages: a torn read (trailer LSN of another write) is not kept", () => {
  for (const space of [classic, full]) {
    const b = pages(space, [500n, 600n]);
    const dv = new DataView(b.buffer);
    dv.setUint32(SIZE + SIZE - (space.fullCrc32 ? 8 : 4), 599);
    assert.ok(lsnCopiesAgree(b, 0, space));
    assert.ok(!lsnCopiesAgree(b, SIZE, space));
    const hot = new HotPages(space, 1n);
    hot.note(0, b, []);
    assert.ok(hot.unchanged(0, 500n));
    assert.ok(!hot.unchanged(1, 600n));
    // read again later, intact: kept; read torn after an intact read: forgotten
    hot.note(1, pages(space, [600n]), []);
    assert.ok(hot.unchanged(1, 600n));
    hot.note(1, b.subarray(SIZE), []);
    assert.ok(!hot.unchanged(1, 600n));
  }
});

Deno.test("hot pages: ROW_FORMAT=COMPRESSED pages (no trailer) are judged by their checksum alone", () => {
  const zip = { physicalSize: 8192, zipSize: 8192, fullCrc32: false } as SpaceInfo;
  const b = new Uint8Array(8192);
  new DataView(b.buffer).setBigUint64(16, 42n);
  assert.ok(lsnCopiesAgree(b, 0, zip));
  const hot = new HotPages(zip, 1n);
  hot.note(3, b, []);
  assert.ok(hot.unchanged(3, 42n));
  hot.note(3, b, [{ page: 3, reason: "checksum mismatch" }]);
  assert.ok(!hot.unchanged(3, 42n));
});

Deno.test("hot pages: thousands of pages in file order, looked up exactly", () => {
  const space = { physicalSize: SIZE, zipSize: 0, fullCrc32: true } as SpaceInfo;
  const hot = new HotPages(space, 1000n);
  // 5000 pages in runs of 50; every third page below the start LSN
  for (let first = 0; first < 5000; first += 50) {
    const lsns = Array.from({ length: 50 }, (_, i) => {
      const p = first + i;
      return p % 3 === 0 ? 10n : 1000n + BigInt(p) * 4294967296n; // LSNs far beyond 32 bits
    });
    hot.note(first, pages(space, lsns), []);
  }
  assert.equal(hot.size, 5000 - Math.ceil(5000 / 3));
  for (const p of [1, 2, 1024, 1025, 4097, 4999]) {
    const lsn = 1000n + BigInt(p) * 4294967296n;
    assert.equal(hot.unchanged(p, lsn), p % 3 !== 0, `page ${p}`);
    assert.ok(!hot.unchanged(p, lsn + 4294967296n), `page ${p}: same low half, moved`);
  }
  assert.ok(!hot.unchanged(3, 10n) && !hot.unchanged(5000, 1000n));
});

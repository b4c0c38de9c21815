import assert from "node:assert/strict";
import { FileCrc } from "../lib/core/crc_patch.ts";
import { crc32c } from "../lib/kernels/mod.ts";
import { randomBytes } from "./fixtures/prng.ts";
import { concat } from "./fixtures/tree.ts";
import { join } from "node:path";
import { crcHex } from "../lib/core/crc.ts";
import { fileCrc32c } from "../lib/core/manifest_io.ts";
import { writeRebuilding } from "../lib/delta/dir_sink.ts";
import { DeltaBuilder } from "../lib/innodb/delta_format.ts";
import {
  FIL_PAGE_OFFSET,
  FIL_PAGE_SPACE_ID,
  FSP_SPACE_FLAGS,
  putBe32,
} from "../lib/innodb/layout.ts";

Deno.test("FileCrc: overwrites, appends and writes past the end give the CRC of the result", () => {
  let file: Uint8Array = randomBytes(64 * 1024, 1);
  const f = new FileCrc(crc32c(file), file.length);
  let seed = 5;
  const next = (m: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % m;
  for (let i = 0; i < 200; i++) {
    // Mostly inside the file, some straddling its end, some past it (a gap of zeros).
    const offset = i % 10 === 9 ? file.length + next(5000) : next(file.length + 2000);
    const bytes = randomBytes(1 + next(20000), 100 + i);
    const before = file.slice(offset, offset + bytes.length);
    f.write(offset, before, bytes);
    const end = Math.max(file.length, offset + bytes.length);
    const grown = new Uint8Array(end);
    grown.set(file);
    grown.set(bytes, offset);
    file = grown;
    assert.equal(f.length, file.length);
    assert.equal(f.crc, crc32c(file), `step ${i}: ${bytes.length} bytes at ${offset}`);
  }
});

Deno.test("FileCrc: an overwrite without the old bytes it replaces loses the CRC", () => {
  const f = new FileCrc(crc32c(new Uint8Array(100)), 100);
  f.write(10, new Uint8Array(5), new Uint8Array(20));
  assert.equal(f.lost, true);
});

/** A fake tablespace of `pages` 4 KiB full_crc32 pages of space 7, filled with `fill`. */
function tablespace(pages: number, fill: number): Uint8Array {
  const size = 4096;
  const b = new Uint8Array(size * pages);
  for (let i = 0; i < pages; i++) {
    putBe32(b, i * size + FIL_PAGE_OFFSET, i);
    putBe32(b, i * size + FIL_PAGE_SPACE_ID, 7);
    b.fill((fill + i) & 0xff, i * size + 64, (i + 1) * size);
  }
  putBe32(b, FSP_SPACE_FLAGS, 0x13);
  return b;
}

Deno.test("a delta applied in place keeps the file's CRC-32C without reading it again", async () => {
  const size = 4096;
  const older = tablespace(6, 1);
  // Pages 0 and 2 changed, 6 and 7 added.
  const newer = tablespace(8, 1);
  newer.set(tablespace(3, 50).subarray(2 * size), 2 * size);
  newer.fill(9, 100, 200);
  const parts: Uint8Array[] = [];
  const d = new DeltaBuilder(
    { pageSize: size, spaceId: 7, fspFlags: 0x13, complete: false, sinceLsn: 1n },
    (b) => Promise.resolve(void parts.push(b.slice())),
  );
  await d.begin();
  await d.run(0, newer.subarray(0, size));
  await d.run(2, newer.subarray(2 * size, 3 * size));
  await d.run(6, newer.subarray(6 * size));
  await d.end(8);
  const delta = concat(parts);
  const entry = (path: string, data: Uint8Array) => ({
    path,
    size: data.length,
    data: (async function* () {
      yield data;
    })(),
  });
  const seen = new Map([["db/t.ibd", { size: older.length, crc32c: crcHex(crc32c(older)) }]]);
  const dir = await Deno.makeTempDir();
  try {
    const w = await writeRebuilding(
      dir,
      (async function* () {
        yield entry("db/t.ibd", older);
        yield entry("db/t.ibd.delta", delta);
      })(),
      undefined,
      seen,
    );
    const file = join(dir, "db", "t.ibd");
    assert.deepEqual(await Deno.readFile(file), newer);
    assert.equal(w.applied.get("db/t.ibd"), 4);
    const kept = w.crcs.get(file)!;
    assert.equal(kept.lost, false);
    assert.equal(kept.length, newer.length);
    assert.equal(crcHex(kept.crc), await fileCrc32c(file));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

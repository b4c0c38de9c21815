/** Page deltas: LSN scanning, the delta bytes, and applying a delta to a file. */
import assert from "node:assert/strict";
import { open } from "node:fs/promises";
import { CorruptionError } from "../lib/errors.ts";
import { pageLsn, scanChangedPages } from "../lib/innodb/page_lsn.ts";
import {
  FIL_PAGE_LSN,
  FIL_PAGE_OFFSET,
  FIL_PAGE_SPACE_ID,
  FSP_SPACE_FLAGS,
  putBe32,
} from "../lib/innodb/layout.ts";
import { DeltaBuilder, readDelta } from "../lib/innodb/delta_format.ts";
import { applyDelta } from "../lib/innodb/delta_apply.ts";

/** A fake tablespace: `n` pages of `size` bytes, page i with LSN lsns[i], space `space`. */
function tablespace(size: number, lsns: bigint[], space = 7, flags = 0x15): Uint8Array {
  const b = new Uint8Array(size * lsns.length);
  lsns.forEach((lsn, i) => {
    const o = i * size;
    putBe32(b, o + FIL_PAGE_OFFSET, i);
    new DataView(b.buffer).setBigUint64(o + FIL_PAGE_LSN, lsn, false);
    putBe32(b, o + FIL_PAGE_SPACE_ID, space);
    b.fill((i * 13 + 1) & 0xff, o + 64, o + size);
  });
  putBe32(b, FSP_SPACE_FLAGS, flags);
  return b;
}

async function* once(b: Uint8Array) {
  yield b;
}

/** Split bytes into awkward chunks, as an image reader may deliver them. */
async function* pieces(b: Uint8Array, n: number) {
  for (let i = 0; i < b.length; i += n) yield b.slice(i, i + n);
}

async function buildDelta(
  size: number,
  runs: [number, Uint8Array][],
  finalPages: number,
  space = 7,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const d = new DeltaBuilder(
    { pageSize: size, spaceId: space, fspFlags: 0x15, complete: false, sinceLsn: 100n },
    (b) => Promise.resolve(void parts.push(b.slice())),
  );
  await d.begin();
  for (const [first, pages] of runs) await d.run(first, pages);
  await d.end(finalPages);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

Deno.test("pageLsn reads FIL_PAGE_LSN big-endian", () => {
  const b = tablespace(1024, [0n, 0x0102030405060708n]);
  assert.equal(pageLsn(b, 1024), 0x0102030405060708n);
});

Deno.test("scanChangedPages: page 0, pages at or above the LSN, the growth, in runs", async () => {
  const size = 4096;
  const lsns = [5n, 50n, 200n, 201n, 10n, 300n, 1n, 2n, 3n];
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeFile(file, tablespace(size, lsns));
    const fh = await open(file, "r");
    try {
      const got: [number, number][] = [];
      const it = scanChangedPages(fh, {
        pageSize: size,
        length: lsns.length * size,
        since: 200n,
        allFrom: 7,
        chunkSize: 3 * size, // runs must join across reads only where pages are consecutive
        maxRun: 2,
      });
      let step = await it.next();
      while (!step.done) {
        const r = step.value;
        assert.equal(r.bytes.length, r.count * size);
        assert.equal(pageLsn(r.bytes, 0), lsns[r.first]);
        got.push([r.first, r.count]);
        step = await it.next();
      }
      assert.equal(step.value, lsns.length);
      assert.deepEqual(got, [[0, 1], [2, 1], [3, 1], [5, 1], [7, 2]]);
    } finally {
      await fh.close();
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("delta round trip: runs, final size, chunk boundaries anywhere", async () => {
  const size = 1024;
  const p = tablespace(size, [1n, 2n, 3n, 4n]);
  const bytes = await buildDelta(size, [[0, p.subarray(0, size)], [2, p.subarray(2 * size)]], 4);
  const { header, runs } = await readDelta(pieces(bytes, 777), "t.ibd.delta");
  assert.equal(header.pageSize, size);
  assert.equal(header.spaceId, 7);
  assert.equal(header.sinceLsn, 100n);
  const seen: number[] = [];
  let step = await runs.next();
  while (!step.done) {
    seen.push(step.value.first, step.value.count);
    step = await runs.next();
  }
  assert.deepEqual(seen, [0, 1, 2, 2]);
  assert.deepEqual(step.value, { pages: 4, deltaPages: 3 });
});

Deno.test("delta corruption is refused with the entry's name", async () => {
  const size = 1024;
  const p = tablespace(size, [1n, 2n]);
  const good = await buildDelta(size, [[1, p.subarray(size)]], 2);
  const drain = async (b: Uint8Array) => {
    const { runs } = await readDelta(once(b), "db/t.ibd.delta");
    while (!(await runs.next()).done);
  };
  await drain(good);
  const flipped = good.slice();
  flipped[40 + 16 + 100] ^= 1; // a page byte
  await assert.rejects(
    drain(flipped),
    (e) => e instanceof CorruptionError && /db\/t\.ibd\.delta.*checksum/.test(e.message),
  );
  await assert.rejects(drain(good.subarray(0, good.length - 16)), /truncated/);
  await assert.rejects(drain(good.subarray(0, 30)), /truncated in its header/);
  const extra = new Uint8Array(good.length + 1);
  extra.set(good);
  await assert.rejects(drain(extra), /after the delta's end/);
  // a run beyond the final size
  await assert.rejects(
    drain(await buildDelta(size, [[1, p.subarray(size)]], 1)),
    /beyond the final size/,
  );
});

Deno.test("applyDelta rebuilds the newer file from the older one, growing and checking the space", async () => {
  const size = 4096;
  const fcrc4k = 0x13; // full_crc32, 4 KiB pages
  const older = tablespace(size, [10n, 10n, 10n], 7, fcrc4k);
  const newer = tablespace(size, [90n, 10n, 95n, 99n, 99n], 7, fcrc4k);
  newer.fill(0xaa, 2 * size + 64, 3 * size); // page 2 changed
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/t.ibd`;
    await Deno.writeFile(file, older);
    // the delta: page 0, pages with LSN >= 90, and pages past the older length
    const src = `${dir}/new.ibd`;
    await Deno.writeFile(src, newer);
    const parts: Uint8Array[] = [];
    const d = new DeltaBuilder(
      { pageSize: size, spaceId: 7, fspFlags: fcrc4k, complete: false, sinceLsn: 90n },
      (b) => Promise.resolve(void parts.push(b.slice())),
    );
    await d.begin();
    const sfh = await open(src, "r");
    for await (
      const run of scanChangedPages(sfh, {
        pageSize: size,
        length: newer.length,
        since: 90n,
        allFrom: 3,
      })
    ) {
      await d.run(run.first, run.bytes);
    }
    await sfh.close();
    await d.end(newer.length / size);
    const fh = await open(file, "r+");
    const r = await applyDelta(
      fh,
      (async function* () {
        yield* parts;
      })(),
      "t.ibd.delta",
      { collect: true },
    );
    await fh.close();
    assert.deepEqual(r.replaced, [0, 2, 3, 4]);
    assert.deepEqual(await Deno.readFile(file), newer);
    // the same delta on another tablespace is refused
    await Deno.writeFile(file, tablespace(size, [1n, 1n, 1n], 8, fcrc4k));
    const fh2 = await open(file, "r+");
    await assert.rejects(
      applyDelta(
        fh2,
        (async function* () {
          yield* parts;
        })(),
        "t.ibd.delta",
      ),
      (e) => e instanceof CorruptionError && /space 7.*space 8.*chain is broken/.test(e.message),
    );
    await fh2.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

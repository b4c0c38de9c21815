import assert from "node:assert/strict";
import { writeImage } from "../lib/image/writer.ts";
import { openImage } from "../lib/image/reader.ts";
import { encodeImageHeader, RECORD_HEADER_SIZE, RecordType } from "../lib/image/format.ts";
import { encodeRecord } from "../lib/image/chunk_codec.ts";
import { encodeEntryPayload } from "../lib/image/format.ts";
import { entryPathProblem } from "../lib/core/entry_path.ts";
import type { Manifest } from "../lib/core/manifest.ts";
import { CorruptionError, KeyError } from "../lib/errors.ts";
import { pageLike } from "./fixtures/prng.ts";

const MANIFEST: Manifest = {
  format: "ibvault-manifest",
  version: 1,
  tool: { name: "ibvault", version: "test" },
  createdAt: "2026-01-01T00:00:00Z",
  options: {},
  databases: [],
  tables: [],
  entries: [],
};
const KEY = new Uint8Array(32).fill(0x5a);

async function build(
  files: [string, Uint8Array][],
  opts: { compress?: boolean; key?: Uint8Array; chunkSize?: number } = {},
): Promise<Uint8Array> {
  async function* entries() {
    for (const [path, d] of files) {
      yield { path, size: d.length, data: [d].values() as unknown as AsyncIterable<Uint8Array> };
    }
  }
  const parts: Uint8Array[] = [];
  for await (
    const b of writeImage(MANIFEST, entries(), {
      compress: opts.compress ?? false,
      key: opts.key,
      threads: 0,
      chunkSize: opts.chunkSize ?? 4096,
    })
  ) parts.push(b.slice());
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

async function* src(b: Uint8Array) {
  for (let i = 0; i < b.length; i += 5000) yield b.subarray(i, i + 5000);
}

/** Read everything; resolves to path → bytes. */
async function readAll(img: Uint8Array, key?: Uint8Array, threads = 0) {
  const o = await openImage(src(img), { key, threads, name: "img" });
  const out = new Map<string, number>();
  try {
    for await (const e of o.entries()) {
      let n = 0;
      for await (const c of e.data) n += c.length;
      out.set(e.path, n);
    }
  } finally {
    await o.close();
  }
  return out;
}

const FILES: [string, Uint8Array][] = [
  ["a.ibd", crypto.getRandomValues(new Uint8Array(3 * 4096 + 100))],
  ["b/c.ibd", pageLike(5000, 2)],
];

Deno.test("wrong key and missing key: KeyError before any entry", async () => {
  const img = await build(FILES, { key: KEY, compress: true });
  const wrong = new Uint8Array(32).fill(0x5b);
  await assert.rejects(() => openImage(src(img), { key: wrong, threads: 0 }), (e) => {
    assert.ok(e instanceof KeyError);
    assert.match((e as Error).message, /wrong key/);
    return true;
  });
  await assert.rejects(() => openImage(src(img), { threads: 0 }), KeyError);
  assert.deepEqual([...(await readAll(img, KEY)).values()], [12388, 5000]);
});

for (
  const [label, opts] of [["plain", {}], ["compressed", { compress: true }], [
    "encrypted",
    { key: KEY },
  ], ["compressed+encrypted", { key: KEY, compress: true }]] as const
) {
  Deno.test(`flipped byte anywhere (${label}): CorruptionError naming entry and chunk`, async () => {
    const img = await build(FILES, opts);
    const step = Math.max(1, Math.floor(img.length / 400));
    for (let at = 0; at < img.length; at += step) {
      const bad = img.slice();
      bad[at] ^= 0x10;
      let err: unknown;
      try {
        await readAll(bad, "key" in opts ? KEY : undefined);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof CorruptionError, `flip at ${at}: ${err}`);
      const msg = (err as Error).message;
      if (at >= 84) assert.match(msg, /entry|manifest|end record/, `flip at ${at}: ${msg}`);
    }
  });
}

Deno.test("a flipped data byte names the entry path and chunk number (and MAC when encrypted)", async () => {
  for (const key of [undefined, KEY]) {
    const img = await build(FILES, { key });
    // The last chunk of a.ibd: find it by flipping near the end of that entry's data.
    const bad = img.slice();
    const needle = FILES[0][1].subarray(4096 * 3, 4096 * 3 + 32);
    let at = -1;
    if (!key) {
      for (let i = 0; i < bad.length - 32 && at < 0; i++) {
        if (needle.every((x, k) => bad[i + k] === x)) at = i;
      }
    } else {
      // Encrypted: the 4th DATA record of entry 1; walk records.
      let off = 84, seen = 0;
      while (off < bad.length) {
        const dv = new DataView(bad.buffer, off);
        const type = bad[off + 4], entry = dv.getUint32(8, true), len = dv.getUint32(20, true);
        if (type === RecordType.DATA && entry === 1 && seen++ === 3) {
          at = off + RECORD_HEADER_SIZE + 40;
          break;
        }
        off += RECORD_HEADER_SIZE + len;
      }
    }
    assert.ok(at > 0);
    bad[at] ^= 1;
    await assert.rejects(() => readAll(bad, key), /entry #1 'a\.ibd' chunk 3: checksum mismatch/);
    // Fix the CRC too: encrypted images must then fail authentication.
    if (key) {
      const off = at - RECORD_HEADER_SIZE - 40;
      const { crc32c } = await import("../lib/image/kernels.ts");
      const len = new DataView(bad.buffer, off).getUint32(20, true);
      const c = crc32c(bad.subarray(off + 4, off + 24 + len));
      new DataView(bad.buffer, off).setUint32(0, c, true);
      await assert.rejects(
        () => readAll(bad, key),
        /entry #1 'a\.ibd' chunk 3: authentication failed/,
      );
    }
  }
});

Deno.test("truncated image at any point: reported as truncated", async () => {
  for (const key of [undefined, KEY]) {
    const img = await build(FILES, { key, compress: true });
    for (let cut = 0; cut < img.length; cut += Math.max(1, Math.floor(img.length / 150))) {
      await assert.rejects(() => readAll(img.subarray(0, cut), key), (e) => {
        assert.ok(e instanceof CorruptionError, String(e));
        assert.match((e as Error).message, cut === 0 ? /not an ibvault image/ : /truncated/);
        return true;
      });
    }
    await assert.rejects(() => readAll(new Uint8Array([...img, 0]), key), /after the end record/);
  }
});

Deno.test("records cannot be reordered, dropped or duplicated", async () => {
  const img = await build(FILES, { key: KEY });
  const recs: [number, number][] = [];
  for (let off = 84; off < img.length;) {
    const len = new DataView(img.buffer, off).getUint32(20, true);
    recs.push([off, RECORD_HEADER_SIZE + len]);
    off += RECORD_HEADER_SIZE + len;
  }
  const join = (order: number[]) =>
    new Uint8Array([
      ...img.subarray(0, 84),
      ...order.flatMap((i) => [...img.subarray(recs[i][0], recs[i][0] + recs[i][1])]),
    ]);
  const all = recs.map((_, i) => i);
  const swapped = [...all];
  [swapped[3], swapped[4]] = [swapped[4], swapped[3]];
  await assert.rejects(() => readAll(join(swapped), KEY), /out of sequence/);
  await assert.rejects(() => readAll(join(all.filter((i) => i !== 4)), KEY), /out of sequence/);
  await assert.rejects(
    () => readAll(join([...all.slice(0, 5), 4, ...all.slice(5)]), KEY),
    /out of sequence/,
  );
});

Deno.test("hostile entry names are refused by the writer and the reader", async () => {
  for (
    const bad of [
      "../x",
      "/etc/passwd",
      "a/../../b",
      "a\0b",
      "a//b",
      "./a",
      "a\\b",
      "x".repeat(5000),
      "",
    ]
  ) {
    assert.ok(entryPathProblem(bad), JSON.stringify(bad));
    await assert.rejects(() => build([[bad, new Uint8Array(1)]]), CorruptionError);
    // Forge an image that carries the name anyway.
    const parts: Uint8Array[] = [encodeImageHeader({ encrypted: false, chunkSize: 4096 })];
    const json = new TextEncoder().encode(JSON.stringify(MANIFEST));
    parts.push(
      (await encodeRecord(
        { type: 1, entry: 0, chunk: 0 },
        encodeEntryPayload({ path: "ibvault_manifest.json", size: json.length, mode: 0 }),
        false,
      )).record,
    );
    parts.push((await encodeRecord({ type: 2, entry: 0, chunk: 0 }, json, false)).record);
    const payload = encodeEntryPayload({ path: bad, size: 0, mode: 0 }).subarray(
      0,
      16 + Math.min(4096, new TextEncoder().encode(bad).length),
    );
    parts.push((await encodeRecord({ type: 1, entry: 1, chunk: 0 }, payload, false)).record);
    const img = new Uint8Array(parts.flatMap((p) => [...p]));
    await assert.rejects(() => readAll(img), /refused entry name|too large/);
  }
});

Deno.test("declared lengths beyond the limits are refused before allocating", async () => {
  const img = await build(FILES);
  // Set the stored length of the first DATA record of a.ibd to 2^32-1.
  let off = 84;
  for (;;) {
    const dv = new DataView(img.buffer, off);
    if (img[off + 4] === RecordType.DATA && dv.getUint32(8, true) === 1) break;
    off += RECORD_HEADER_SIZE + dv.getUint32(20, true);
  }
  const big = img.slice();
  new DataView(big.buffer, off).setUint32(20, 0xffffffff, true);
  await assert.rejects(() => readAll(big), /declared stored length 4294967295 too large/);
  const raw = img.slice();
  new DataView(raw.buffer, off).setUint32(16, 0x7fffffff, true);
  await assert.rejects(() => readAll(raw), /declared length 2147483647 too large/);
});

Deno.test("worker pool decode (threads 2) agrees and reports corruption the same way", async () => {
  const img = await build(FILES, { key: KEY, compress: true, chunkSize: 4096 });
  assert.deepEqual([...(await readAll(img, KEY, 2)).values()], [12388, 5000]);
  const bad = img.slice();
  bad[img.length - 300] ^= 4;
  await assert.rejects(() => readAll(bad, KEY, 2), CorruptionError);
});

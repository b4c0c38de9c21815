/** The codec pool on its own: records through workers and inline, in order, damage found. */
import assert from "node:assert/strict";
import { CodecPool } from "../lib/image/codec_pool.ts";
import { decodeRecordHeader, RecordType } from "../lib/image/format.ts";
import { CorruptionError } from "../lib/errors.ts";
import { crc32c } from "../lib/kernels/mod.ts";
import { pageLike } from "./fixtures/prng.ts";

const MAC = new Uint8Array(32).fill(7);
const ENC = new Uint8Array(32).fill(9);

async function roundTrip(threads: number, compress: boolean, keys: boolean) {
  const init = keys ? { compress, enc: ENC, mac: MAC } : { compress };
  const writer = new CodecPool(threads, init);
  const reader = new CodecPool(threads, { ...init, compress: false });
  try {
    const chunks = Array.from({ length: 12 }, (_, i) => pageLike(50_000 + i * 1000, i + 1));
    // All in flight at once: results come back in submission order, whatever the worker.
    const encoded = await Promise.all(
      chunks.map((c, i) => writer.encode({ type: RecordType.DATA, entry: 1, chunk: i }, c.slice())),
    );
    const decoded = await Promise.all(encoded.map((e) => {
      const rec = e.data.slice();
      return reader.decode(decodeRecordHeader(rec), rec, "full");
    }));
    decoded.forEach((d, i) => {
      assert.deepEqual(d.data, chunks[i], `chunk ${i}`);
      assert.equal(d.rawCrc >>> 0, crc32c(chunks[i]) >>> 0);
    });
    if (compress) assert.ok(encoded.some((e) => e.data.length < 50_000), "something compressed");
    return encoded;
  } finally {
    await writer.close();
    await reader.close();
  }
}

Deno.test("codec pool: records round-trip in order through workers and inline", async () => {
  for (const threads of [0, 2]) {
    for (const [compress, keys] of [[false, false], [true, false], [true, true]] as const) {
      await roundTrip(threads, compress, keys);
    }
  }
});

Deno.test("codec pool: a damaged record is a CorruptionError from a worker too", async () => {
  const [first] = await roundTrip(2, true, true);
  const rec = first.data.slice();
  rec[rec.length - 40] ^= 1;
  for (const threads of [0, 2]) {
    const pool = new CodecPool(threads, { compress: false, enc: ENC, mac: MAC });
    try {
      await assert.rejects(
        () => pool.decode(decodeRecordHeader(rec), rec.slice(), "full"),
        CorruptionError,
      );
    } finally {
      await pool.close();
    }
  }
});

import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { existsSync, readFileSync } from "node:fs";
import {
  adler32,
  crc32c,
  innodbChecksumNew,
  innodbChecksumOld,
  xxhash32,
} from "../lib/kernels/mod.ts";
import { randomBytes } from "./fixtures/prng.ts";

// Some redundancy (6 bits a byte), so deflate works too.
const bytes = (n: number, seed: number) => randomBytes(n, seed, 0x3f);

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("adler32: matches the trailer of zlib streams", () => {
  for (const n of [0, 1, 15, 16, 5551, 5552, 5553, 100_000, 1 << 20]) {
    const data = bytes(n, n + 1);
    const z = deflateSync(data);
    const trailer = new DataView(z.buffer, z.byteOffset, z.length).getUint32(z.length - 4);
    assert.equal(adler32(data), trailer, `length ${n}`);
  }
  const data = bytes(30000, 5);
  assert.equal(adler32(data.subarray(12345), adler32(data.subarray(0, 12345))), adler32(data));
  assert.equal(adler32(enc("Wikipedia")), 0x11e60398);
});

Deno.test("xxhash32: published vectors", () => {
  assert.equal(xxhash32(new Uint8Array(0)), 0x02cc5d05);
  assert.equal(xxhash32(new Uint8Array(0), 1), 0x0b2cb792);
  assert.equal(xxhash32(enc("a")), 0x550d7456);
  assert.equal(xxhash32(enc("abc")), 0x32d153ff);
  assert.equal(xxhash32(enc("Nobody inspects the spammish repetition")), 0xe2293b2f);
});

Deno.test("xxhash32: matches the content checksum of lz4 CLI frames", async () => {
  for (const n of [0, 3, 16, 17, 1000, 300_000]) {
    const data = bytes(n, 77 + n);
    const out = await lz4Cli(data);
    const dv = new DataView(out.buffer, out.byteOffset, out.length);
    const flg = out[4];
    assert.ok(flg & 0x04, "content checksum flag");
    assert.equal(xxhash32(data), dv.getUint32(out.length - 4, true), `length ${n}`);
    // The header checksum byte is the second byte of xxh32 of the descriptor.
    const descEnd = flg & 0x08 ? 14 : 6;
    assert.equal((xxhash32(out.subarray(4, descEnd)) >>> 8) & 0xff, out[descEnd]);
  }
});

async function lz4Cli(data: Uint8Array): Promise<Uint8Array> {
  const p = new Deno.Command("lz4", { args: ["-1", "-c"], stdin: "piped", stdout: "piped" })
    .spawn();
  const w = p.stdin.getWriter();
  const writing = w.write(data).then(() => w.close());
  const [{ stdout }] = await Promise.all([p.output(), writing]);
  return stdout;
}

const LEGACY = new URL("../../shared/ibd-legacy/", import.meta.url);

/** The legacy tablespaces named in SOURCES.tsv (../shared must be there: CI has it). */
function legacyFiles(): string[] {
  const tsv = new URL("SOURCES.tsv", LEGACY);
  assert.ok(
    existsSync(tsv),
    `${tsv.pathname} is missing: ../shared/ibd-legacy must be beside the clone`,
  );
  return readFileSync(tsv, "utf8").trim().split("\n").slice(1).map((l) => l.split("\t")[0]);
}

Deno.test({
  name: "innodb: legacy checksums match every page of real MySQL 5.0/5.6 tablespaces",
  fn() {
    let pages = 0;
    for (const name of legacyFiles()) {
      const file = readFileSync(new URL(name, LEGACY));
      const dv = new DataView(file.buffer, file.byteOffset, file.length);
      for (let off = 0; off + 16384 <= file.length; off += 16384) {
        const page = file.subarray(off, off + 16384);
        if (page.every((b) => b === 0)) continue;
        assert.equal(innodbChecksumNew(page), dv.getUint32(off), `${name} page ${off / 16384}`);
        assert.equal(innodbChecksumOld(page), dv.getUint32(off + 16384 - 8), `${name} old`);
        // These pages carry the innodb checksum, not crc32: make sure the two differ.
        const c = (crc32c(page.subarray(4, 26)) ^ crc32c(page.subarray(38, 16384 - 8))) >>> 0;
        assert.notEqual(c, dv.getUint32(off));
        pages++;
      }
    }
    assert.ok(pages > 100, `checked ${pages} pages`);
  },
});

Deno.test("innodb: one page by hand", () => {
  // ut_fold_binary written out per byte, as InnoDB does (low 32 bits).
  const fold = (b: Uint8Array) => {
    let f = 0;
    for (const x of b) f = ((((((f ^ x ^ 1653893711) << 8) >>> 0) + f) ^ 1463735687) + x) >>> 0;
    return f;
  };
  for (const size of [4096, 8192, 16384, 32768, 65536]) {
    const page = bytes(size, size + 3).map((b, i) => b * 4 + (i & 3));
    const want = (fold(page.subarray(4, 26)) + fold(page.subarray(38, size - 8))) >>> 0;
    assert.equal(innodbChecksumNew(page), want);
    assert.equal(innodbChecksumOld(page), fold(page.subarray(0, 26)));
  }
});

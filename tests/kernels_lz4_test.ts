import assert from "node:assert/strict";
import { CorruptionError } from "../lib/errors.ts";
import {
  alloc,
  free,
  lz4CompressBlock,
  lz4CompressBound,
  lz4DecompressBlock,
  lz4DecompressBlockAt,
  view,
  xxhash32,
} from "../lib/kernels/mod.ts";
import { xorshift32 } from "./fixtures/prng.ts";
import { concat } from "./fixtures/tree.ts";

/** Pseudo-random generator. */
const rng = (seed: number) => xorshift32(seed | 1);

/** Semi-compressible data: random words from a small vocabulary, runs of zeros, noise. */
function sample(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  const words = Array.from({ length: 64 }, () => new TextEncoder().encode(`w${r() % 9999} `));
  let i = 0;
  while (i < n) {
    const k = r() % 10;
    if (k < 6) {
      const w = words[r() % words.length];
      out.set(w.subarray(0, n - i), i);
      i += w.length;
    } else if (k < 8) i += r() % 40;
    else out[i++] = r();
  }
  return out;
}

const inputs: [string, Uint8Array][] = [
  ["empty", new Uint8Array(0)],
  ...[1, 4, 5, 12, 13, 14, 15, 16, 19, 20, 64].map((n): [string, Uint8Array] => [
    `short ${n}`,
    sample(n, n),
  ]),
  ["zeros 1 MiB", new Uint8Array(1 << 20)],
  ["random 100k", Uint8Array.from({ length: 100_000 }, rng(5))],
  ["text 300k", sample(300_000, 1)],
  ["period 3", Uint8Array.from({ length: 70_000 }, (_, i) => i % 3)],
  ["period 13", Uint8Array.from({ length: 70_000 }, (_, i) => (i % 13) * 7)],
];

Deno.test("lz4: block round trip", () => {
  for (const [name, data] of inputs) {
    const c = lz4CompressBlock(data);
    assert.ok(c.length <= lz4CompressBound(data.length), name);
    assert.deepEqual(lz4DecompressBlock(c, data.length), data, name);
    if (data.length > 0) {
      assert.throws(() => lz4DecompressBlock(c, data.length - 1), CorruptionError, name);
    }
  }
});

/** A minimal LZ4 frame: independent blocks of at most 64 KiB, content checksum. */
function frame(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const head = new Uint8Array([0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0]);
  head[6] = (xxhash32(head.subarray(4, 6)) >>> 8) & 0xff;
  parts.push(head);
  for (let off = 0; off < data.length; off += 65536) {
    const raw = data.subarray(off, off + 65536);
    const packed = lz4CompressBlock(raw);
    const block = packed.length < raw.length ? packed : raw;
    const size = new Uint8Array(4);
    const stored = block === raw ? 0x80000000 : 0;
    new DataView(size.buffer).setUint32(0, (block.length | stored) >>> 0, true);
    parts.push(size, block);
  }
  const tail = new Uint8Array(8);
  new DataView(tail.buffer).setUint32(4, xxhash32(data), true);
  parts.push(tail);
  return concat(parts);
}

/** Reads an LZ4 frame with independent blocks, checking its content checksum. */
function unframe(f: Uint8Array): Uint8Array {
  const dv = new DataView(f.buffer, f.byteOffset, f.length);
  assert.equal(dv.getUint32(0, true), 0x184d2204);
  const flg = f[4];
  assert.ok(flg & 0x20, "independent blocks");
  const maxBlock = 1 << (8 + 2 * ((f[5] >> 4) & 7));
  let at = flg & 0x08 ? 15 : 7;
  const out: Uint8Array[] = [];
  while (true) {
    const word = dv.getUint32(at, true);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const body = f.subarray(at, at + size);
    out.push(word & 0x80000000 ? body.slice() : lz4DecompressBlock(body, maxBlock));
    at += size + (flg & 0x10 ? 4 : 0);
  }
  const data = new Uint8Array(out.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of out) {
    data.set(p, o);
    o += p.length;
  }
  if (flg & 0x04) assert.equal(dv.getUint32(at, true), xxhash32(data));
  return data;
}

async function run(args: string[], input: Uint8Array): Promise<Uint8Array> {
  const p = new Deno.Command("lz4", { args, stdin: "piped", stdout: "piped" }).spawn();
  const w = p.stdin.getWriter();
  const writing = w.write(input).then(() => w.close());
  const [{ code, stdout }] = await Promise.all([p.output(), writing]);
  assert.equal(code, 0, `lz4 ${args.join(" ")}`);
  return stdout;
}

Deno.test("lz4: the lz4 CLI reads our blocks and we read its blocks", async () => {
  for (const [name, data] of inputs) {
    assert.deepEqual(await run(["-d", "-q", "-c"], frame(data)), data, `lz4 -d: ${name}`);
    for (const level of ["-1", "-9"]) {
      const cli = await run([level, "-q", "-B4", "-c"], data);
      assert.deepEqual(unframe(cli), data, `lz4 ${level}: ${name}`);
    }
  }
});

Deno.test("lz4: mutated blocks end in CorruptionError or bounded output, never out of range", () => {
  const r = rng(12345);
  const seeds = inputs.filter(([, d]) => d.length > 0).map(([, d]) => d.subarray(0, 5000));
  const blocks = seeds.map((d) => lz4CompressBlock(d));
  const GUARD = 64;
  const region = alloc(GUARD + 8192 + GUARD + 8192 + GUARD);
  const deadline = Date.now() + 8000;
  let errors = 0, outputs = 0;
  for (let i = 0; i < 20000 && Date.now() < deadline; i++) {
    const k = r() % blocks.length;
    const m = blocks[k].slice();
    let bad = m;
    switch (r() % 4) {
      case 0: // flip bytes
        for (let j = 1 + (r() % 4); j > 0; j--) m[r() % m.length] ^= 1 << (r() % 8);
        break;
      case 1: // random bytes
        for (let j = 1 + (r() % 4); j > 0; j--) m[r() % m.length] = r();
        break;
      case 2: // truncate
        bad = m.subarray(0, r() % m.length);
        break;
      default: // pure noise
        bad = Uint8Array.from({ length: 1 + (r() % 300) }, r);
    }
    const cap = r() % 2 ? seeds[k].length : r() % 8192;
    const src = region + GUARD;
    const dst = src + 8192 + GUARD;
    const all = view(region, GUARD * 3 + 8192 * 2);
    all.fill(0xa5);
    view(src, bad.length).set(bad);
    // Guard bytes after src's end, and around dst's [dst, dst+cap).
    let n = -1;
    try {
      n = lz4DecompressBlockAt(src, bad.length, dst, cap);
      outputs++;
      assert.ok(n >= 0 && n <= cap);
    } catch (e) {
      assert.ok(e instanceof CorruptionError, String(e));
      errors++;
    }
    const after = view(region, GUARD * 3 + 8192 * 2);
    for (let j = 0; j < GUARD; j++) assert.equal(after[j], 0xa5, "guard before src");
    const dstOff = dst - region;
    for (let j = dstOff - GUARD; j < dstOff; j++) assert.equal(after[j], 0xa5, "guard before dst");
    for (let j = dstOff + cap; j < after.length; j++) {
      assert.equal(after[j], 0xa5, "guard after dst");
    }
  }
  free(region);
  assert.ok(errors > 1000 && outputs > 10, `${errors} errors, ${outputs} outputs`);
});

Deno.test("lz4: linked blocks of the lz4 CLI (-BD) decode with the previous output as prefix", async () => {
  const data = sample(400_000, 9);
  const f = await run(["-1", "-q", "-B4", "-BD", "--no-frame-crc", "-c"], data);
  const dv = new DataView(f.buffer, f.byteOffset, f.length);
  assert.equal(f[4] & 0x20, 0, "dependent blocks");
  const out = alloc(data.length + 65536);
  const src = alloc(70_000);
  let at = 7, pos = 0;
  while (true) {
    const word = dv.getUint32(at, true);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const body = f.subarray(at, at + size);
    if (word & 0x80000000) {
      view(out + pos, size).set(body);
      pos += size;
    } else {
      view(src, size).set(body);
      pos += lz4DecompressBlockAt(src, size, out + pos, 65536, Math.min(pos, 65536));
    }
    at += size;
  }
  assert.deepEqual(view(out, pos), data);
  free(src);
  free(out);
});

Deno.test("lz4: a block may reference a prefix placed just before its output", () => {
  // Literal "abcd" then nothing; a second block that copies 8 bytes from 4 back (into the prefix).
  const block = Uint8Array.from([0x04, 0x04, 0x00, 0x50, 1, 2, 3, 4, 5]);
  const ptr = alloc(256);
  view(ptr, 4).set([97, 98, 99, 100]);
  view(ptr + 4 + block.length + 16, block.length).set(block);
  const src = ptr + 4 + block.length + 16;
  assert.throws(() => lz4DecompressBlockAt(src, block.length, ptr + 4, 100), CorruptionError);
  const n = lz4DecompressBlockAt(src, block.length, ptr + 4, 100, 4);
  assert.deepEqual([...view(ptr + 4, n)], [97, 98, 99, 100, 97, 98, 99, 100, 1, 2, 3, 4, 5]);
  free(ptr);
});

Deno.test("lz4: decoder rejects hand-made malformed blocks", () => {
  const bad = [
    [], // no token
    [0x10], // literal missing
    [0xf0], // missing length byte
    [0xf0, 0xff], // length runs off the end
    [0x10, 0x41, 0x00, 0x00], // offset 0
    [0x10, 0x41, 0x02, 0x00], // offset beyond output
    [0x10, 0x41, 0x01], // half an offset
    [0x1f, 0x41, 0x01, 0x00, 0xff], // match length runs off the end
    [0x10, 0x41, 0x01, 0x00], // ends after a match
  ];
  for (const b of bad) {
    assert.throws(() => lz4DecompressBlock(Uint8Array.from(b), 100), CorruptionError, `${b}`);
  }
  assert.deepEqual(lz4DecompressBlock(Uint8Array.from([0x00]), 0), new Uint8Array(0));
  const rle = Uint8Array.from([0x14, 0x41, 0x01, 0x00, 0x50, 1, 2, 3, 4, 5]);
  assert.deepEqual(
    lz4DecompressBlock(rle, 100),
    Uint8Array.from([...Array(9).fill(0x41), 1, 2, 3, 4, 5]),
  );
});

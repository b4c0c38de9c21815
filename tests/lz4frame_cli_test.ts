import assert from "node:assert/strict";
import { randomBytes as nodeRandom } from "node:crypto";
const randomBytes = (n: number) => new Uint8Array(nodeRandom(n));
import { lz4FrameDecode, lz4FrameEncode } from "../lib/image/lz4frame.ts";
import { Xxh32 } from "../lib/image/xxh32.ts";
import { xxhash32 } from "../lib/image/kernels.ts";
import { CorruptionError } from "../lib/errors.ts";

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const p of it) {
    parts.push(p.slice());
    n += p.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function* once(b: Uint8Array) {
  // Feed in odd-sized pieces to exercise re-chunking.
  for (let i = 0; i < b.length; i += 100_003) yield b.subarray(i, i + 100_003);
}

async function lz4(args: string[], input: Uint8Array): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/in`, input);
    const out = await new Deno.Command("lz4", {
      args: [...args, "-q", "-f", `${dir}/in`, `${dir}/out`],
    })
      .output();
    assert.equal(
      out.code,
      0,
      args.join(" ") + " " + input.length + new TextDecoder().decode(out.stderr),
    );
    return await Deno.readFile(`${dir}/out`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function samples(): [string, Uint8Array][] {
  const text = new TextEncoder().encode("InnoDB page 0123456789 abcdefghij ".repeat(80_000));
  const pages = new Uint8Array(16384 * 200);
  for (let i = 0; i < pages.length; i += 16384) pages.set(randomBytes(3000), i);
  return [
    ["empty", new Uint8Array(0)],
    ["1 byte", Uint8Array.of(42)],
    ["incompressible 1 MB", randomBytes(1_000_000)],
    ["zeros 64 KiB", new Uint8Array(65536)],
    ["64 KiB - 1", randomBytes(65535)],
    ["64 KiB + 1", new Uint8Array(65537).fill(7)],
    ["highly compressible text", text],
    ["pages", pages],
  ];
}

Deno.test("xxh32 streaming agrees with one-shot and the published empty-input value", () => {
  assert.equal(new Xxh32().digest(), 0x02cc5d05);
  assert.equal(xxhash32(new Uint8Array(0)), 0x02cc5d05);
  for (const len of [1, 15, 16, 17, 100, 1000]) {
    const b = randomBytes(len);
    const h = new Xxh32();
    for (let i = 0; i < len; i += 7) h.update(b.subarray(i, i + 7));
    assert.equal(h.digest(), xxhash32(b));
  }
});

Deno.test("lz4 frames: ours are read by `lz4 -d` (all block sizes and checksum options)", async () => {
  const combos = [
    {},
    { blockSize: 65536, blockChecksum: true },
    { blockSize: 262144, contentChecksum: false },
    { blockSize: 1048576, contentSize: 0 },
  ];
  for (const [name, data] of samples()) {
    for (const opts of combos) {
      const o = opts.contentSize !== undefined ? { ...opts, contentSize: data.length } : opts;
      const frame = await collect(lz4FrameEncode(once(data), o));
      const back = await lz4(["-d"], frame);
      assert.deepEqual(back, data, `${name} ${JSON.stringify(o)}`);
    }
  }
});

Deno.test("lz4 frames: `lz4` CLI output is read by ours (-B4..7, -BX, -BD, --content-size)", async () => {
  const variants = [[], ["-B4"], ["-B5", "-BX"], ["-B6", "--no-frame-crc"], ["-B4", "-BD"], [
    "-BD",
    "-BX",
    "--content-size",
  ], ["-9", "-B4", "-BD"]];
  for (const [name, data] of samples()) {
    for (const v of variants) {
      // lz4 1.9.4 itself fails on 65535 random bytes with 64 KiB blocks (ERROR_dstMaxSize_tooSmall).
      if (name === "64 KiB - 1" && v.includes("-B4")) continue;
      const frame = await lz4(["-z", ...v], data);
      const back = await collect(lz4FrameDecode(once(frame)));
      assert.deepEqual(back, data, `${name} ${v.join(" ")}`);
    }
  }
});

Deno.test("lz4 frames: tens of MB both ways with the CLI", async () => {
  const big = new Uint8Array(24 << 20);
  for (let i = 0; i < big.length; i += 16384) big.set(randomBytes(4096), i);
  const ours = await collect(lz4FrameEncode(once(big)));
  assert.deepEqual(await lz4(["-d"], ours), big);
  const theirs = await lz4(["-z", "-BD"], big);
  assert.deepEqual(await collect(lz4FrameDecode(once(theirs))), big);
});

Deno.test("lz4 frames: concatenated frames and skippable frames", async () => {
  const a = await collect(lz4FrameEncode([Uint8Array.of(1, 2, 3)]));
  const b = await collect(lz4FrameEncode([Uint8Array.of(4, 5)]));
  const skip = Uint8Array.of(0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9);
  const all = new Uint8Array([...a, ...skip, ...b]);
  assert.deepEqual(await collect(lz4FrameDecode(once(all))), Uint8Array.of(1, 2, 3, 4, 5));
});

Deno.test("lz4 frames: corrupt or truncated frames give CorruptionError", async () => {
  const data = new TextEncoder().encode("hello hello hello hello ".repeat(5000));
  const frame = await collect(lz4FrameEncode([data], { blockChecksum: true, blockSize: 65536 }));
  for (let i = 0; i < 300; i++) {
    const bad = frame.slice();
    const at = Math.floor(Math.random() * bad.length);
    bad[at] ^= 1 << (i % 8);
    await assert.rejects(
      () => collect(lz4FrameDecode(once(bad))),
      CorruptionError,
      `flip at ${at}`,
    );
  }
  for (const cut of [1, 5, 7, 20, frame.length - 1]) {
    await assert.rejects(
      () => collect(lz4FrameDecode(once(frame.subarray(0, cut)))),
      /truncated/,
    );
  }
  const dict = frame.slice();
  dict[4] |= 1;
  await assert.rejects(() => collect(lz4FrameDecode(once(dict))), /dictionary|checksum/);
});

/**
 * Random mutations of real images (issue 11, "done when"): images written by the
 * real writer from real tablespaces (../shared/ibd-legacy), plain, compressed,
 * encrypted and both, each mutated at random (bit flips, bytes set, runs zeroed,
 * bytes inserted and deleted, truncation, duplicated and swapped blocks). Every
 * mutated image must be refused with a typed error (exit 1, or 3 for a key
 * problem), never read as something else, never crash with an internal error and
 * never hang. Seeded, so a failure names a case that can be replayed.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { writeImage } from "../lib/image/writer.ts";
import { openImage } from "../lib/image/reader.ts";
import type { Manifest } from "../lib/core/manifest.ts";
import { IbvaultError } from "../lib/errors.ts";
import { crc32c } from "../lib/image/kernels.ts";

const LEGACY = new URL("../../shared/ibd-legacy/", import.meta.url);
const KEY = new Uint8Array(32).map((_, i) => i * 7 + 1);
const CASES_PER_IMAGE = 150;
const SEED = Number(Deno.env.get("IBVAULT_MUTATION_SEED") ?? 20261201);

/** xorshift32: deterministic, so a failing case can be replayed from its seed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

async function realFiles(): Promise<[string, Uint8Array][]> {
  const film = await Deno.readFile(new URL("sakila50/film.ibd", LEGACY));
  const tb04 = await Deno.readFile(new URL("mysql56/tb04.ibd", LEGACY));
  // Enough of each to keep every case fast: whole pages from the real files.
  return [["sakila/film.ibd", film.subarray(0, 8 * 16384)], [
    "db/tb04.ibd",
    tb04.subarray(0, 4 * 16384),
  ], ["db/empty.cfg", new Uint8Array(0)]];
}

async function build(files: [string, Uint8Array][], compress: boolean, key?: Uint8Array) {
  const manifest: Manifest = {
    format: "ibvault-manifest",
    version: 1,
    tool: { name: "ibvault", version: "test" },
    createdAt: "2026-12-01T00:00:00Z",
    options: {},
    databases: [],
    tables: [],
    entries: files.map(([path, d]) => ({
      path,
      size: d.length,
      crc32c: (crc32c(d) >>> 0).toString(16).padStart(8, "0"),
    })),
  };
  async function* entries() {
    for (const [path, d] of files) {
      yield { path, size: d.length, data: [d].values() as unknown as AsyncIterable<Uint8Array> };
    }
  }
  const parts: Uint8Array[] = [];
  for await (
    const b of writeImage(manifest, entries(), { compress, key, threads: 0, chunkSize: 16384 })
  ) {
    parts.push(b.slice());
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Read an image whole (every entry's bytes); resolves to path → CRC-32C of the content. */
async function readAll(img: Uint8Array, key?: Uint8Array): Promise<Map<string, number>> {
  async function* src() {
    for (let i = 0; i < img.length; i += 7001) yield img.subarray(i, i + 7001);
  }
  const o = await openImage(src(), { key, threads: 0, name: "mutated" });
  const out = new Map<string, number>();
  try {
    for await (const e of o.entries()) {
      let c = 0;
      for await (const b of e.data) c = crc32c(b, c);
      out.set(e.path, c >>> 0);
    }
  } finally {
    await o.close();
  }
  return out;
}

type Mutation = { name: string; apply: (b: Uint8Array, r: ReturnType<typeof rng>) => Uint8Array };

const MUTATIONS: Mutation[] = [
  {
    name: "flip a bit",
    apply: (b, r) => {
      const c = b.slice();
      c[r.int(c.length)] ^= 1 << r.int(8);
      return c;
    },
  },
  {
    name: "set a byte",
    apply: (b, r) => {
      const c = b.slice();
      const i = r.int(c.length);
      c[i] = (c[i] + 1 + r.int(255)) & 0xff;
      return c;
    },
  },
  {
    name: "zero a run",
    apply: (b, r) => {
      const c = b.slice();
      const i = r.int(c.length), n = 1 + r.int(64);
      const before = c.slice(i, i + n);
      c.fill(0, i, i + n);
      if (before.every((x) => x === 0)) c[i] = 0x5a; // make sure something changed
      return c;
    },
  },
  {
    name: "insert a byte",
    apply: (b, r) => {
      const i = r.int(b.length + 1);
      return Uint8Array.from([...b.subarray(0, i), r.int(256), ...b.subarray(i)]);
    },
  },
  {
    name: "delete a byte",
    apply: (b, r) => {
      const i = r.int(b.length);
      return Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + 1)]);
    },
  },
  { name: "truncate", apply: (b, r) => b.slice(0, r.int(b.length)) },
  {
    name: "duplicate a block",
    apply: (b, r) => {
      const i = r.int(b.length), n = 24 + r.int(4096);
      return Uint8Array.from([
        ...b.subarray(0, i + n),
        ...b.subarray(i, i + n),
        ...b.subarray(i + n),
      ]);
    },
  },
  {
    name: "swap two blocks",
    apply: (b, r) => {
      const n = 24 + r.int(2048);
      const i = r.int(Math.max(1, b.length - 2 * n)),
        j = i + n + r.int(Math.max(1, b.length - i - 2 * n));
      const c = b.slice();
      c.set(b.subarray(j, j + n), i);
      c.set(b.subarray(i, i + n), j);
      return c;
    },
  },
];

Deno.test(`image mutations: ${4 * CASES_PER_IMAGE} random mutations of real images are all refused, in bounded time`, async () => {
  const files = await realFiles();
  const variants: [string, boolean, Uint8Array | undefined][] = [
    ["plain", false, undefined],
    ["lz4", true, undefined],
    ["aes", false, KEY],
    ["lz4+aes", true, KEY],
  ];
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const tally = new Map<string, { tried: number; refused: number }>();
  let tried = 0;
  for (const [label, compress, key] of variants) {
    const img = await build(files, compress, key);
    // The unmutated image reads back as the files.
    const whole = await readAll(img, key);
    assert.deepEqual(whole, new Map(files.map(([p, d]) => [p, crc32c(d) >>> 0])));
    const r = rng(SEED ^ label.length * 0x9e3779b9);
    for (let n = 0; n < CASES_PER_IMAGE; n++) {
      const m = MUTATIONS[r.int(MUTATIONS.length)];
      const mutated = m.apply(img, r);
      if (mutated.length === img.length && mutated.every((x, i) => x === img[i])) continue;
      const what = `${label} case ${n} (${m.name}, seed ${SEED})`;
      const t0 = performance.now();
      const outcome = await Promise.race([
        readAll(mutated, key).then((v) => ({ ok: v }), (e) => ({ err: e as unknown })),
        new Promise<{ hang: true }>((res) => setTimeout(() => res({ hang: true }), 10_000)),
      ]);
      tried++;
      const t = tally.get(m.name) ?? { tried: 0, refused: 0 };
      t.tried++;
      tally.set(m.name, t);
      assert.ok(!("hang" in outcome), `${what}: no answer in 10 s`);
      assert.ok(!("ok" in outcome), `${what}: the mutated image was accepted`);
      const err = (outcome as { err: unknown }).err;
      assert.ok(
        err instanceof IbvaultError,
        `${what}: internal error ${(err as Error)?.stack ?? err}`,
      );
      assert.ok(err.exitCode === 1 || err.exitCode === 3, `${what}: exit ${err.exitCode}`);
      assert.ok(performance.now() - t0 < 10_000);
      t.refused++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) / 1e6;
  for (const [name, t] of tally) console.log(`  ${name}: ${t.refused}/${t.tried} refused`);
  console.log(
    `image mutations: ${tried} cases, all refused, ${cpu.toFixed(1)} s CPU (${
      seconds.toFixed(1)
    } s wall)`,
  );
  assert.ok(tried >= 500, `only ${tried} cases ran`);
  // CPU time bounds the work; the wall clock on a shared machine mostly measures the others.
  assert.ok(cpu < 60, `took ${cpu.toFixed(1)} s of CPU`);
  assert.ok(seconds < 300, `took ${seconds.toFixed(1)} s`);
});

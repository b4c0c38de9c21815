/**
 * Kernel benchmark: CRC-32C (16 KiB pages and one long buffer, one and two workers), the legacy
 * InnoDB checksum, xxHash32, Adler-32 and LZ4 blocks against the lz4 CLI, and AES-256-CBC when
 * lib/image/aes.ts exists. Prints MB/s (10^6 bytes/s) and ratios; never fails on timing.
 *
 * Usage: deno run -A scripts/bench.ts [--mib=N] [--file=PATH]
 * Data: PATH (e.g. concatenated .ibd files of a data directory), else the non-empty pages of the
 * legacy tablespaces in ../shared/ibd-legacy (repeated) plus generated pages, so LZ4 sees
 * semi-compressible input. Scratch files go to .bench/ (git-ignored).
 */

import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import {
  alloc,
  crc32cAt,
  innodbChecksumNewAt,
  kernels,
  lz4CompressBlockAt,
  lz4CompressBound,
  lz4DecompressBlockAt,
  view,
  xxhash32At,
} from "../lib/kernels/mod.ts";

const PAGE = 16384;
const REPEATS = 5;

/** Best MB/s of `fn` over `bytes`, run REPEATS times after one warm-up. */
function rate(bytes: number, fn: () => void): number {
  fn();
  let best = 0;
  for (let i = 0; i < REPEATS; i++) {
    const t = performance.now();
    fn();
    best = Math.max(best, bytes / ((performance.now() - t) * 1000));
  }
  return best;
}

/** Runs `fn` once per 16 KiB page of [ptr, ptr+len). */
function perPage(ptr: number, len: number, fn: (p: number) => number): () => void {
  return () => {
    let x = 0;
    for (let o = 0; o < len; o += PAGE) x ^= fn(ptr + o);
    if (x === 0.5) console.log(x);
  };
}

if (!isMainThread) {
  // Worker: its own kernel instance and memory; CRC its share of pages, report MB/s.
  const { data, rounds } = workerData as { data: Uint8Array; rounds: number };
  const ptr = alloc(data.length);
  view(ptr, data.length).set(data);
  const run = perPage(ptr, data.length, (p) => crc32cAt(p, PAGE));
  run();
  run();
  // Let V8 finish optimising the kernel in the background before timing.
  await new Promise((r) => setTimeout(r, 300));
  parentPort!.once("message", () => {
    const t = performance.now();
    for (let i = 0; i < rounds; i++) run();
    parentPort!.postMessage(performance.now() - t);
  });
  parentPort!.postMessage("ready");
} else {
  await main();
}

/** Builds `size` bytes of tablespace-like data. */
function testData(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const dir = new URL("../../shared/ibd-legacy/", import.meta.url);
  const files: Uint8Array[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.isDirectory) continue;
      for (const f of Deno.readDirSync(new URL(e.name + "/", dir))) {
        files.push(Deno.readFileSync(new URL(`${e.name}/${f.name}`, dir)));
      }
    }
  } catch { /* no ../shared: generated pages only */ }
  let at = 0, seed = 1, fi = 0;
  while (at < size) {
    if (files.length > 0 && fi % 3 !== 2) {
      // Its non-empty pages only: empty pages would make LZ4 look better than it is.
      const f = files[fi % files.length];
      for (let o = 0; o + PAGE <= f.length && at < size; o += PAGE) {
        const page = f.subarray(o, o + PAGE);
        if (page.every((b) => b === 0)) continue;
        const n = Math.min(PAGE, size - at);
        out.set(page.subarray(0, n), at);
        at += n;
      }
    } else {
      // A generated "page" of records: repeated field patterns, counters and noise.
      const end = Math.min(size, at + 64 * PAGE);
      for (; at < end; at++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const f = at % 64;
        out[at] = f < 16 ? (at >> 6) & 0xff : f < 44 ? seed >>> 24 : 0x61 + ((seed >>> 16) % 4);
      }
    }
    fi++;
  }
  return out;
}

/** Wall-clock ms of a command; its stdout is discarded. */
function timeCommand(cmd: string, args: string[]): number {
  const t = performance.now();
  const { code } = new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync();
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed`);
  return performance.now() - t;
}

function fmt(mbs: number): string {
  return Math.round(mbs).toLocaleString("en-US").padStart(7);
}

function line(name: string, mbs: number, note = ""): void {
  console.log(`${name.padEnd(34)} ${fmt(mbs)} MB/s  ${note}`);
}

/** CRC-32C on pages in two workers at once; total MB/s. */
async function twoWorkers(data: Uint8Array): Promise<number> {
  const rounds = 5;
  const half = data.subarray(0, Math.floor(data.length / 2 / PAGE) * PAGE);
  const workers = [0, 1].map(() =>
    new Worker(new URL(import.meta.url), { workerData: { data: half, rounds } })
  );
  await Promise.all(workers.map((w) => new Promise((r) => w.once("message", r))));
  const t = performance.now();
  const times = await Promise.all(workers.map((w) => {
    const p = new Promise<number>((r) => w.once("message", r));
    w.postMessage("go");
    return p;
  }));
  const wall = performance.now() - t;
  for (const w of workers) await w.terminate();
  const each = times.map((ms) => (half.length * rounds) / (ms * 1000));
  line(
    "crc32c 16 KiB pages, 2 workers",
    (2 * half.length * rounds) / (wall * 1000),
    `total (each ${each.map(Math.round).join(" / ")})`,
  );
  return 0;
}

async function main(): Promise<void> {
  const mibArg = Deno.args.find((a) => a.startsWith("--mib="));
  const fileArg = Deno.args.find((a) => a.startsWith("--file="));
  let size = (mibArg ? Number(mibArg.slice(6)) : 64) << 20;
  let data: Uint8Array;
  if (fileArg) {
    const file = Deno.readFileSync(fileArg.slice(7));
    size = Math.min(size, Math.floor(file.length / PAGE) * PAGE);
    data = file.subarray(0, size);
  } else {
    data = testData(size);
  }
  const k = kernels();
  const ptr = alloc(size);
  view(ptr, size).set(data);
  const what = fileArg ? fileArg.slice(7) : "tablespace-like data";
  console.log(`ibvault kernel bench: ${(size / 2 ** 20).toFixed(1)} MiB of ${what}\n`);

  // Checksums.
  const crcPages = rate(size, perPage(ptr, size, (p) => crc32cAt(p, PAGE)));
  line("crc32c 16 KiB pages (fold)", crcPages, "target 5,000; innochecksum 6,300 (notes)");
  line(
    "crc32c 16 KiB pages (slicing-16)",
    rate(size, perPage(ptr, size, (p) => k.crc32cSliced(p, PAGE, 0))),
    "the table method, for reference",
  );
  line("crc32c one long buffer (fold)", rate(size, () => crc32cAt(ptr, size)));
  await twoWorkers(data);
  line(
    "innodb legacy checksum, pages",
    rate(size, perPage(ptr, size, (p) => innodbChecksumNewAt(p, PAGE))),
    "serial fold chain (as in InnoDB)",
  );
  line("xxhash32 one long buffer", rate(size, () => xxhash32At(ptr, size)), "target 2,700");
  line("xxhash32 16 KiB pages", rate(size, perPage(ptr, size, (p) => xxhash32At(p, PAGE))));
  line("adler32 one long buffer", rate(size, () => k.adler32(ptr, size, 1)));

  // LZ4 in 4 MiB blocks (the lz4 CLI's default block size) against `lz4 -1` / `lz4 -d`.
  const BLOCK = 4 << 20;
  const blocks = Math.ceil(size / BLOCK);
  const dst = alloc(blocks * lz4CompressBound(BLOCK));
  const sizes: number[] = [];
  const compress = () => {
    sizes.length = 0;
    for (let i = 0; i < blocks; i++) {
      const n = Math.min(BLOCK, size - i * BLOCK);
      sizes.push(
        lz4CompressBlockAt(
          ptr + i * BLOCK,
          n,
          dst + i * lz4CompressBound(BLOCK),
          lz4CompressBound(BLOCK),
        ),
      );
    }
  };
  const out = alloc(size);
  const decompress = () => {
    for (let i = 0; i < blocks; i++) {
      lz4DecompressBlockAt(dst + i * lz4CompressBound(BLOCK), sizes[i], out + i * BLOCK, BLOCK);
    }
  };
  const cMBs = rate(size, compress);
  const packed = sizes.reduce((a, b) => a + b, 0);
  const dMBs = rate(size, decompress);

  Deno.mkdirSync(".bench", { recursive: true });
  Deno.writeFileSync(".bench/data.bin", data);
  const cli = (args: string[]) => {
    timeCommand("lz4", args);
    return Math.min(...[0, 1, 2].map(() => timeCommand("lz4", args)));
  };
  const cliC = size /
    (cli(["-1", "-q", "-f", "--no-frame-crc", ".bench/data.bin", ".bench/data.lz4"]) * 1000);
  const cliSize = Deno.statSync(".bench/data.lz4").size;
  const cliD = size / (cli(["-d", "-q", "-f", ".bench/data.lz4", ".bench/data.out"]) * 1000);
  line(
    "lz4 compress (4 MiB blocks)",
    cMBs,
    `lz4 -1 CLI ${fmt(cliC).trim()}: ratio ${(cMBs / cliC).toFixed(2)}x (target 0.6x)`,
  );
  console.log(
    `${"lz4 compressed size".padEnd(34)} ${(size / packed).toFixed(3)}:1  lz4 CLI ${
      (size / cliSize).toFixed(3)
    }:1, ours/CLI size ${(packed / cliSize).toFixed(4)} (within 3%)`,
  );
  line(
    "lz4 decompress",
    dMBs,
    `lz4 -d CLI ${fmt(cliD).trim()}: ratio ${(dMBs / cliD).toFixed(2)}x (target 0.5x)`,
  );
  console.log("  (CLI figures are wall time of a process reading and writing page-cached files)");
  Deno.removeSync(".bench", { recursive: true });

  await aes(data);
}

/** AES-256-CBC through lib/image/aes.ts (WebCrypto, 1 MiB chunks in flight), when it exists. */
async function aes(data: Uint8Array): Promise<void> {
  const path = new URL("../lib/image/aes.ts", import.meta.url);
  try {
    Deno.statSync(path);
  } catch {
    console.log("aes: lib/image/aes.ts absent, skipped");
    return;
  }
  try {
    const mod = await import(path.href);
    const key = await mod.importAesKey(crypto.getRandomValues(new Uint8Array(32)));
    const iv = crypto.getRandomValues(new Uint8Array(16));
    const chunk = 1 << 20;
    const chunks = Array.from(
      { length: Math.floor(data.length / chunk) },
      (_, i) => data.subarray(i * chunk, (i + 1) * chunk),
    );
    const bytes = chunks.length * chunk;
    // Best of three rounds, then openssl on the same bytes from a page-cached file.
    let encBest = 0, decBest = 0;
    for (let round = 0; round < 3; round++) {
      let t = performance.now();
      const enc = await mod.mapInFlight(
        chunks,
        8,
        (c: Uint8Array) => mod.aesCbcEncrypt(key, iv, c),
      );
      encBest = Math.max(encBest, bytes / ((performance.now() - t) * 1000));
      t = performance.now();
      await mod.mapInFlight(enc, 8, (c: Uint8Array) => mod.aesCbcDecrypt(key, iv, c));
      decBest = Math.max(decBest, bytes / ((performance.now() - t) * 1000));
    }
    const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    const plain = Deno.makeTempFileSync({ prefix: "ibvault-bench-aes-" });
    const cipher = plain + ".enc";
    Deno.writeFileSync(plain, data.subarray(0, bytes));
    const k = hex(crypto.getRandomValues(new Uint8Array(32)));
    const common = ["-aes-256-cbc", "-nopad", "-K", k, "-iv", hex(iv)];
    let sslEnc = Infinity, sslDec = Infinity;
    for (let round = 0; round < 3; round++) {
      sslEnc = Math.min(
        sslEnc,
        timeCommand("openssl", ["enc", ...common, "-in", plain, "-out", cipher]),
      );
      sslDec = Math.min(
        sslDec,
        timeCommand("openssl", ["enc", "-d", ...common, "-in", cipher, "-out", "/dev/null"]),
      );
    }
    Deno.removeSync(plain);
    Deno.removeSync(cipher);
    const sslEncMBs = bytes / (sslEnc * 1000), sslDecMBs = bytes / (sslDec * 1000);
    line(
      "aes-256-cbc encrypt (1 MiB, 8 in flight)",
      encBest,
      `openssl enc ${fmt(sslEncMBs).trim()}: ratio ${
        (encBest / sslEncMBs).toFixed(2)
      }x (target 800 MB/s)`,
    );
    line(
      "aes-256-cbc decrypt (1 MiB, 8 in flight)",
      decBest,
      `openssl enc -d ${fmt(sslDecMBs).trim()}: ratio ${
        (decBest / sslDecMBs).toFixed(2)
      }x (target 2,000 MB/s)`,
    );
  } catch (e) {
    console.log(`aes: skipped (${e instanceof Error ? e.message : e})`);
  }
}

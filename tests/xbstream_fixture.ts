/**
 * Shared fixture of the xbstream tests (this file holds no tests): real streams
 * written by `mariadb-backup --backup --stream=xbstream` from a throwaway server,
 * and a small chunk codec to take such a stream apart and put it back together
 * (so tests can damage it in exact ways: a page byte with the chunk CRC fixed, a
 * chunk byte, a truncation, chunks swapped).
 */
import zlib from "node:zlib";
import { startBackupServer } from "./fixtures/server.ts";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";

/** One chunk of a stream. */
export interface Chunk {
  flags: number;
  /** `P`, `E`, `S` or another letter. */
  type: string;
  path: string;
  offset: number;
  payload: Uint8Array;
  /** The CRC stored in the chunk (recomputed by {@link encodeChunks} unless `keepCrc`). */
  crc: number;
  /** Stream offset where the chunk started. */
  at: number;
}

/** Split a stream into its chunks (trusting its structure: test input only). */
export function parseChunks(b: Uint8Array): Chunk[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Chunk[] = [];
  let p = 0;
  while (p < b.length) {
    const at = p;
    const flags = b[p + 8], type = String.fromCharCode(b[p + 9]);
    const len = dv.getUint32(p + 10, true);
    const path = new TextDecoder().decode(b.subarray(p + 14, p + 14 + len));
    p += 14 + len;
    if (type === "E") {
      out.push({ flags, type, path, offset: 0, payload: new Uint8Array(0), crc: 0, at });
      continue;
    }
    const n = Number(dv.getBigUint64(p, true));
    const offset = Number(dv.getBigUint64(p + 8, true));
    const crc = dv.getUint32(p + 16, true);
    p += 20;
    out.push({ flags, type, path, offset, payload: b.slice(p, p + n), crc, at });
    p += n;
  }
  return out;
}

/** Encode chunks back into a stream; CRCs are recomputed unless `keepCrc`. */
export function encodeChunks(chunks: Chunk[], keepCrc = false): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const c of chunks) {
    const path = new TextEncoder().encode(c.path);
    const e = c.type === "E";
    const h = new Uint8Array(14 + path.length + (e ? 0 : 20));
    const dv = new DataView(h.buffer);
    h.set(new TextEncoder().encode("XBSTCK01"));
    h[8] = c.flags;
    h[9] = c.type.charCodeAt(0);
    dv.setUint32(10, path.length, true);
    h.set(path, 14);
    if (!e) {
      const q = 14 + path.length;
      dv.setBigUint64(q, BigInt(c.payload.length), true);
      dv.setBigUint64(q + 8, BigInt(c.offset), true);
      dv.setUint32(q + 16, keepCrc ? c.crc : zlib.crc32(c.payload), true);
    }
    parts.push(h);
    if (!e) parts.push(c.payload);
  }
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/** Real streams made once per test process. */
export interface RealStreams {
  dir: string;
  /** `--stream=xbstream`, one thread. */
  plain: string;
  /** `--stream=xbstream --parallel=4`: chunks of several files interleaved. */
  parallel: string;
  /** Rows of `d`.`t`. */
  rows: number;
}

let made: Promise<RealStreams> | undefined;

async function backup(srv: ThrowawayServer, dir: string, out: string, extra: string[]) {
  const target = await Deno.makeTempDir({ dir, prefix: "target-" });
  const r = await new Deno.Command("mariadb-backup", {
    args: [
      "--backup",
      "--stream=xbstream",
      `--socket=${srv.socket}`,
      "--user=root",
      `--target-dir=${target}`,
      ...extra,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new Error(`mariadb-backup failed: ${new TextDecoder().decode(r.stderr).slice(-2000)}`);
  }
  await Deno.writeFile(out, r.stdout);
}

/**
 * Streams of a server holding `d`.`t` (13 MiB, so its payload spans two chunks) and
 * `we ird`.`àbc`, restarted cleanly (so their pages are on disk), then `d`.`late`
 * created after the restart's checkpoint (it arrives as `d/late.new`, all zero).
 */
export function realStreams(): Promise<RealStreams> {
  return made ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "ibvault-xbs-" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* already gone */ }
    });
    let srv = await startBackupServer();
    const rows = 20_000;
    try {
      await srv.query(
        "CREATE DATABASE d; CREATE DATABASE `we ird`;" +
          "CREATE TABLE d.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(200)) ENGINE=InnoDB;" +
          "CREATE TABLE `we ird`.`àbc` (id INT PRIMARY KEY) ENGINE=InnoDB;" +
          "INSERT INTO `we ird`.`àbc` VALUES (1),(2),(3)",
      );
      for (let i = 0; i < rows / 1000; i++) {
        await srv.query("INSERT INTO d.t (v) SELECT REPEAT('x', 200) FROM d.seq_1_to_1000");
      }
      const datadir = srv.datadir;
      await srv.stop({ keepDatadir: true });
      srv = await startServer({ datadir });
      await srv.query("CREATE TABLE d.late (id INT PRIMARY KEY) ENGINE=InnoDB");
      const plain = `${dir}/plain.xb`, parallel = `${dir}/parallel.xb`;
      await backup(srv, dir, plain, []);
      await backup(srv, dir, parallel, ["--parallel=4"]);
      return { dir, plain, parallel, rows };
    } finally {
      const datadir = srv.datadir;
      await srv.stop();
      await Deno.remove(datadir, { recursive: true }).catch(() => {});
    }
  })();
}

/** Run the built binary (dist/ibvault) with `args`, stdin piped from `stdinFile` if given. */
export async function ibvault(
  args: string[],
  stdinFile?: string,
): Promise<{ code: number; out: string; err: string }> {
  const bin = new URL("../dist/ibvault", import.meta.url).pathname;
  const child = new Deno.Command(bin, {
    args,
    stdin: stdinFile ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdinFile) {
    const f = await Deno.open(stdinFile);
    await f.readable.pipeTo(child.stdin);
  }
  const r = await child.output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

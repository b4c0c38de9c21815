/**
 * `validate --backup-image` and `list-image` on xbstreams written by the real
 * `mariadb-backup --backup --stream=xbstream` from a throwaway MariaDB 10.11, clean
 * and damaged in exact ways: a page byte (chunk CRC fixed, so only the page checks
 * can see it), a chunk byte, truncation, swapped and interleaved chunks, a second
 * end-of-file chunk, data after it, a missing one, an unsafe path, an unknown
 * chunk type; the hot-copy allowances (pages changed during the copy, the all-zero
 * `.new` file of a table created after the checkpoint); zstd payloads.
 */
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { validateCommand } from "../lib/commands/validate.ts";
import { listImageCommand } from "../lib/commands/list_image.ts";
import type { Command } from "../lib/commands/command.ts";
import { defaultOptions, type Options } from "../lib/commands/options.ts";
import { createReporter } from "../lib/progress/reporter.ts";
import { type Chunk, encodeChunks, ibvault, parseChunks, realStreams } from "./xbstream_fixture.ts";

async function runCmd(
  cmd: Command,
  opts: Partial<Options>,
): Promise<{ code: number; text: string; json?: Record<string, unknown> }> {
  let text = "";
  let json: Record<string, unknown> | undefined;
  const code = await cmd.run({
    options: { ...defaultOptions(2), threads: 1, ...opts },
    args: [],
    report: createReporter({ showProgress: false, write: (s) => void (text += s) }),
    signal: new AbortController().signal,
    printJson: (v) => void (json = v as Record<string, unknown>),
  });
  return { code, text, json };
}

async function validate(bytes: Uint8Array, extra: Partial<Options> = {}) {
  const { dir } = await realStreams();
  const file = await Deno.makeTempFile({ dir, suffix: ".xb" });
  await Deno.writeFile(file, bytes);
  return await runCmd(validateCommand, { backupImage: file, json: true, ...extra });
}

async function plainChunks(): Promise<Chunk[]> {
  return parseChunks(await Deno.readFile((await realStreams()).plain));
}

function checkpointsOf(chunks: Chunk[]): { to: bigint; last: bigint } {
  const c = chunks.find((c) => c.path === "xtrabackup_checkpoints" && c.type === "P")!;
  const text = new TextDecoder().decode(c.payload);
  const get = (k: string) => BigInt(new RegExp(`${k} = (\\d+)`).exec(text)![1]);
  return { to: get("to_lsn"), last: get("last_lsn") };
}

const PAGE = 16384;

Deno.test("xbstream: a real mariadb-backup stream validates, names tables, says what it allowed", async () => {
  const { plain } = await realStreams();
  const r = await runCmd(validateCommand, { backupImage: plain, json: true });
  assert.equal(r.code, 0, r.text);
  assert.match(r.text, /xbstream, \d+ chunks, \d+ files/);
  assert.match(
    r.text,
    /files have only all-zero pages \(d\/late\.new\): tables created after the checkpoint/,
  );
  assert.match(r.text, /validated 8 of \d+ files: \d+ pages, 0 corrupt pages in 0 files/);
  assert.doesNotMatch(r.text, /ERROR/);
  const json = r.json as {
    files: { name: string; table?: string; status: string; pages: number }[];
  };
  const by = new Map(json.files.map((f) => [f.name, f]));
  assert.equal(by.get("d/t.ibd")?.status, "valid");
  assert.equal(by.get("d/t.ibd")?.table, "`d`.`t`");
  assert.equal(by.get("d/t.ibd")?.pages, 13631488 / PAGE);
  assert.equal(by.get("we@0020ird/@0gbc.ibd")?.table, "`we ird`.`àbc`");
  assert.equal(by.get("ibdata1")?.status, "valid");
  assert.equal(by.get("d/late.new")?.status, "valid");
  assert.equal(by.get("d/late.new")?.table, "`d`.`late`");
  assert.equal(by.get("d/t.frm")?.status, "not-validated");
});

Deno.test("xbstream: --parallel=4 stream and an interleaved rewrite validate like the plain one", async () => {
  const { parallel } = await realStreams();
  const r = await runCmd(validateCommand, { backupImage: parallel });
  assert.equal(r.code, 0, r.text);
  // Interleave deterministically: alternate the chunks of d/t.ibd and ibdata1.
  const chunks = await plainChunks();
  const a = chunks.filter((c) => c.path === "d/t.ibd");
  const b = chunks.filter((c) => c.path === "ibdata1");
  const rest = chunks.filter((c) => c.path !== "d/t.ibd" && c.path !== "ibdata1");
  const mixed = [a[0], b[0], a[1], b[1], b[2], a[2], ...rest];
  assert.equal(a.length, 3); // two payload chunks and the end chunk
  const v = await validate(encodeChunks(mixed));
  assert.equal(v.code, 0, v.text);
  const files = (v.json as { files: { name: string; pages: number }[] }).files;
  assert.equal(files.find((f) => f.name === "d/t.ibd")!.pages, 13631488 / PAGE);
});

Deno.test("xbstream: a flipped page byte with a correct chunk CRC is found by the page checks", async () => {
  const chunks = await plainChunks();
  const c = chunks.find((c) => c.path === "d/t.ibd" && c.type === "P")!;
  c.payload[5 * PAGE + 1000] ^= 0x40;
  const r = await validate(encodeChunks(chunks), { verbose: true });
  assert.equal(r.code, 1);
  assert.match(r.text, /d\/t\.ibd \(`d`\.`t`\) is corrupt and has : 1 corrupt pages/);
  assert.match(r.text, /d\/t\.ibd page 5: /);
  assert.doesNotMatch(r.text, /CRC-32 mismatch/);
});

Deno.test("xbstream: a flipped chunk byte fails the chunk CRC, also outside InnoDB files", async () => {
  const stream = await Deno.readFile((await realStreams()).plain);
  const chunks = parseChunks(stream);
  const frm = chunks.find((c) => c.path === "d/t.frm")!;
  const bad = stream.slice();
  bad[frm.at + 14 + frm.path.length + 20 + 10] ^= 1;
  const r = await validate(bad);
  assert.equal(r.code, 1);
  assert.match(
    r.text,
    /ERROR: d\/t\.frm: CRC-32 mismatch in the chunk at stream offset \d+ \(file offset 0, \d+ bytes\)/,
  );
  // In a tablespace payload both the CRC and the page checks see it.
  const t = chunks.find((c) => c.path === "d/t.ibd")!;
  const bad2 = stream.slice();
  bad2[t.at + 14 + t.path.length + 20 + 3 * PAGE + 200] ^= 1;
  const r2 = await validate(bad2);
  assert.equal(r2.code, 1);
  assert.match(r2.text, /d\/t\.ibd: CRC-32 mismatch/);
  assert.match(r2.text, /d\/t\.ibd \(`d`\.`t`\) is corrupt and has : 1 corrupt pages/);
});

Deno.test("xbstream: truncation, reordered chunks, missing and extra end chunks", async () => {
  const stream = await Deno.readFile((await realStreams()).plain);
  const chunks = parseChunks(stream);
  const t = chunks.filter((c) => c.path === "d/t.ibd");

  const cut = await validate(stream.subarray(0, t[1].at + 5000));
  assert.equal(cut.code, 1);
  assert.match(cut.text, /truncated in the payload \(chunk at stream offset \d+ for "d\/t\.ibd"\)/);

  const cutHeader = await validate(stream.subarray(0, t[1].at + 14 + 7 + 10));
  assert.equal(cutHeader.code, 1);
  assert.match(cutHeader.text, /truncated in the payload header/);

  const swapped = chunks.slice();
  const i = swapped.indexOf(t[0]), j = swapped.indexOf(t[1]);
  [swapped[i], swapped[j]] = [swapped[j], swapped[i]];
  const sw = await validate(encodeChunks(swapped));
  assert.equal(sw.code, 1);
  assert.match(
    sw.text,
    /d\/t\.ibd: chunk at stream offset \d+ starts at file offset 10485760, expected 0/,
  );

  const noEnd = await validate(encodeChunks(chunks.filter((c) => c !== t[2])));
  assert.equal(noEnd.code, 1);
  assert.match(noEnd.text, /d\/t\.ibd: no end-of-file chunk/);

  const twice = chunks.slice();
  twice.splice(twice.indexOf(t[2]) + 1, 0, t[2]);
  const tw = await validate(encodeChunks(twice));
  assert.equal(tw.code, 1);
  assert.match(tw.text, /d\/t\.ibd: a second end-of-file chunk/);

  const after = chunks.slice();
  after.push({ ...t[0], offset: 13631488 });
  const af = await validate(encodeChunks(after));
  assert.equal(af.code, 1);
  assert.match(af.text, /d\/t\.ibd: chunk at stream offset \d+ after its end-of-file chunk/);
});

Deno.test("xbstream: unsafe paths and unknown chunk types", async () => {
  const chunks = await plainChunks();
  const evil = chunks.map((c) => c.path === "d/t.frm" ? { ...c, path: "../../etc/x.frm" } : c);
  const e = await validate(encodeChunks(evil));
  assert.equal(e.code, 1);
  assert.match(e.text, /refused path "\.\.\/\.\.\/etc\/x\.frm": path component '\.\.'/);

  const unknown = chunks.slice();
  unknown.splice(3, 0, { ...chunks[0], type: "X" });
  const u = await validate(encodeChunks(unknown));
  assert.equal(u.code, 1);
  assert.match(u.text, /unknown chunk type X not marked ignorable/);

  const skippable = chunks.slice();
  skippable.splice(3, 0, { ...chunks[0], type: "X", flags: 1 });
  const s = await validate(encodeChunks(skippable));
  assert.equal(s.code, 0, s.text);

  const notStream = await validate(new TextEncoder().encode("XBSTCK01 but nothing else"));
  assert.equal(notStream.code, 1);
});

Deno.test("xbstream: a failing page is allowed only with an LSN between to_lsn and last_lsn", async () => {
  const base = await plainChunks();
  const { to, last } = checkpointsOf(base);
  assert.ok(
    to < last,
    `the fixture needs redo after the checkpoint (to_lsn ${to}, last_lsn ${last})`,
  );
  const withLsn = (lsn: bigint) => {
    const chunks = base.map((c) => ({ ...c, payload: c.payload.slice() }));
    const c = chunks.find((c) => c.path === "d/t.ibd" && c.type === "P")!;
    // A page caught mid-write: its header LSN is new, the rest (and the checksum) old.
    new DataView(c.payload.buffer).setBigUint64(7 * PAGE + 16, lsn, false);
    return encodeChunks(chunks);
  };
  const during = await validate(withLsn(to + 1n));
  assert.equal(during.code, 0, during.text);
  assert.match(
    during.text,
    new RegExp(
      `d/t\\.ibd: 1 pages fail their checks but carry an LSN between to_lsn ${to} and last_lsn ${last}`,
    ),
  );
  assert.match(during.text, /files hold pages changed after the checkpoint/);
  assert.deepEqual(
    (during.json as { xbstream: { changedDuringCopy: unknown } }).xbstream.changedDuringCopy,
    {
      "d/t.ibd": 1,
    },
  );
  for (const lsn of [to, last + 1n]) {
    const r = await validate(withLsn(lsn));
    assert.equal(r.code, 1, `LSN ${lsn}: ${r.text}`);
    assert.match(r.text, /d\/t\.ibd \(`d`\.`t`\) is corrupt and has : 1 corrupt pages/);
  }
});

async function zstdCli(data: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command("zstd", {
    args: ["-q", "-c", "-1"],
    stdin: "piped",
    stdout: "piped",
  })
    .spawn();
  const w = child.stdin.getWriter();
  await w.write(data);
  await w.close();
  const out = await child.output();
  assert.ok(out.success);
  return out.stdout;
}

Deno.test("xbstream: .zst payloads are decompressed and checked; .qp and .xbcrypt are named not verified", async () => {
  const chunks = await plainChunks();
  const t = chunks.filter((c) => c.path === "d/t.ibd" && c.type === "P");
  const whole = new Uint8Array(t[0].payload.length + t[1].payload.length);
  whole.set(t[0].payload);
  whole.set(t[1].payload, t[0].payload.length);
  // xtrabackup writes one frame per block: several frames with content checksums,
  // and the stream's chunks cut them anywhere.
  const frames: Uint8Array[] = [];
  for (let o = 0; o < whole.length; o += 1 << 20) {
    frames.push(await zstdCli(whole.subarray(o, o + (1 << 20))));
  }
  const z = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) z.set(f, (o += f.length) - f.length);
  const half = Math.floor(z.length / 2) + 7;
  const build = (payload: Uint8Array) => {
    const rest = chunks.filter((c) => c.path !== "d/t.ibd");
    const p = "d/t.ibd.zst";
    return encodeChunks([
      { ...t[0], path: p, payload: payload.subarray(0, half), offset: 0 },
      { ...t[0], path: p, payload: payload.subarray(half), offset: half },
      { ...t[0], type: "E", path: p },
      ...rest,
    ]);
  };
  const ok = await validate(build(z));
  assert.equal(ok.code, 0, ok.text);
  const f = (ok.json as { files: { name: string; pages: number; status: string }[] }).files
    .find((f) => f.name === "d/t.ibd")!;
  assert.equal(f.status, "valid");
  assert.equal(f.pages, whole.length / PAGE);

  const bad = z.slice();
  bad[frames[0].length + 500] ^= 0x20;
  const b = await validate(build(bad));
  assert.equal(b.code, 1, b.text);
  assert.match(b.text, /d\/t\.ibd: zstd payload does not decompress/);

  const renamed = chunks.map((c) =>
    c.path === "d/t.ibd"
      ? { ...c, path: "d/t.ibd.qp" }
      : c.path === "we@0020ird/@0gbc.ibd"
      ? { ...c, path: "we@0020ird/@0gbc.ibd.xbcrypt" }
      : c.path === "mysql/gtid_slave_pos.ibd"
      ? { ...c, path: "mysql/gtid_slave_pos.ibd.lz4" }
      : c
  );
  const n = await validate(encodeChunks(renamed));
  assert.equal(n.code, 0, n.text);
  assert.match(n.text, /3 payloads not verified \(their pages cannot be read without/);
  assert.match(n.text, /mysql\/gtid_slave_pos\.ibd\.lz4 \(LZ4, xtrabackup --compress=lz4\)/);
  assert.match(n.text, /d\/t\.ibd\.qp \(QuickLZ, mariadb-backup --compress\)/);
  assert.match(n.text, /we@0020ird\/@0gbc\.ibd\.xbcrypt \(xbcrypt-encrypted, --encrypt\)/);
});

Deno.test("xbstream: list-image lists a stream with decoded table names; damage exits 1", async () => {
  const { plain } = await realStreams();
  const r = await runCmd(listImageCommand, { backupImage: plain, json: true });
  assert.equal(r.code, 0);
  const rows =
    (r.json as { entries: { path: string; size: number; chunks: number; table?: string }[] })
      .entries;
  const t = rows.find((x) => x.path === "d/t.ibd")!;
  assert.deepEqual([t.size, t.chunks, t.table], [13631488, 2, "`d`.`t`"]);
  assert.equal(rows.find((x) => x.path === "we@0020ird/@0gbc.ibd")?.table, "`we ird`.`àbc`");
  assert.equal(rows.find((x) => x.path === "d/late.new")?.table, "`d`.`late`");
  const chunks = await plainChunks();
  const swapped = chunks.filter((c) => c.path !== "d/t.frm" || c.type !== "E");
  const { dir } = await realStreams();
  const file = `${dir}/list-bad.xb`;
  await Deno.writeFile(file, encodeChunks(swapped));
  const bad = await runCmd(listImageCommand, { backupImage: file, json: true });
  assert.equal(bad.code, 1);
  assert.match(bad.text, /d\/t\.frm: no end-of-file chunk/);
});

Deno.test("xbstream: the binary validates a stream from stdin", async () => {
  const { plain } = await realStreams();
  const r = await ibvault(["validate", "--backup-image=-"], plain);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err + r.out, /stdin: xbstream/);
  assert.match((r.err + r.out).trimEnd(), /ibvault completed OK!$/);
});

/** A Percona sparse (`S`) chunk: sparse map count, payload header, CRC over map + payload, map, payload. */
function sparseChunk(path: string, pairs: [number, number][], payload: Uint8Array): Uint8Array {
  const p = new TextEncoder().encode(path);
  const map = new Uint8Array(pairs.length * 8);
  const mdv = new DataView(map.buffer);
  pairs.forEach(([skip, take], i) => {
    mdv.setUint32(i * 8, skip, true);
    mdv.setUint32(i * 8 + 4, take, true);
  });
  const both = new Uint8Array(map.length + payload.length);
  both.set(map);
  both.set(payload, map.length);
  const h = new Uint8Array(14 + p.length + 4 + 20);
  const dv = new DataView(h.buffer);
  h.set(new TextEncoder().encode("XBSTCK01"));
  h[9] = "S".charCodeAt(0);
  dv.setUint32(10, p.length, true);
  h.set(p, 14);
  let q = 14 + p.length;
  dv.setUint32(q, pairs.length, true);
  q += 4;
  dv.setBigUint64(q, BigInt(payload.length), true);
  dv.setBigUint64(q + 8, 0n, true);
  dv.setUint32(q + 16, zlib.crc32(both), true);
  const out = new Uint8Array(h.length + both.length);
  out.set(h);
  out.set(both, h.length);
  return out;
}

Deno.test("xbstream: sparse chunks (built from Percona's format notes) fill holes with zeros", async () => {
  const chunks = await plainChunks();
  const t = chunks.find((c) => c.path === "d/t.ibd" && c.type === "P")!;
  // Holes go where the file is zero: d/t.ibd's pages 0-1 then two zero pages, and an
  // all-zero 4-page file sent as a hole and 10 payload bytes.
  const real = t.payload.subarray(0, 2 * PAGE);
  const s = sparseChunk("d/s.ibd", [[0, 2 * PAGE], [2 * PAGE, 0]], real);
  const z = sparseChunk("d/z.new", [[4 * PAGE - 10, 10]], new Uint8Array(10));
  const end = (path: string) => encodeChunks([{ ...t, type: "E", path }]);
  const join = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
    let o = 0;
    for (const x of parts) out.set(x, (o += x.length) - x.length);
    return out;
  };
  const ok = await validate(join(s, end("d/s.ibd"), z, end("d/z.new"), encodeChunks(chunks)));
  assert.equal(ok.code, 0, ok.text);
  const files = (ok.json as { files: { name: string; pages: number; bytes: number }[] }).files;
  assert.deepEqual(
    [
      files.find((f) => f.name === "d/s.ibd")?.bytes,
      files.find((f) => f.name === "d/z.new")?.pages,
    ],
    [4 * PAGE, 4],
  );
  const bad = s.slice();
  bad[bad.length - 100] ^= 1;
  const b = await validate(join(bad, end("d/s.ibd"), encodeChunks(chunks)));
  assert.equal(b.code, 1);
  assert.match(b.text, /d\/s\.ibd: CRC-32 mismatch/);
});

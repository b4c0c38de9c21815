/** The directory source and the directory sink on their own (no server, no image). */
import assert from "node:assert/strict";
import { openDirSource } from "../lib/backupdir/source.ts";
import { dirSink, prepareDestination } from "../lib/backupdir/sink.ts";
import { readManifest } from "../lib/core/manifest_io.ts";
import { buildManifest, MANIFEST_FILE } from "../lib/core/manifest.ts";
import { crcHex } from "../lib/core/crc.ts";
import { crc32c } from "../lib/kernels/mod.ts";
import { CorruptionError, IoError, UsageError } from "../lib/errors.ts";
import type { Source } from "../lib/source.ts";
import { pageLike } from "./fixtures/prng.ts";
import { listFiles, makeTree, readTree } from "./fixtures/tree.ts";

const FILES = {
  "db/a.ibd": pageLike(3 << 20, 1),
  "db/b.cfg": pageLike(1000, 2),
  "other/c.ibd": new Uint8Array(0),
};

async function drain(source: Source, select?: (p: string) => boolean) {
  const got = new Map<string, Uint8Array>();
  for await (const e of source.entries(select)) {
    const parts: Uint8Array[] = [];
    for await (const b of e.data) parts.push(b.slice());
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) (all.set(p, at), at += p.length);
    assert.equal(all.length, e.size, e.path);
    got.set(e.path, all);
  }
  return got;
}

Deno.test("directory source: files in path order, a built manifest, what was seen", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await makeTree(tmp, { ...FILES, [`db/x.ibd.ibvault-part`]: new Uint8Array(3) });
    const required = openDirSource(tmp, { manifest: "required" });
    await assert.rejects(() => required, UsageError);
    let built = false;
    const src = await openDirSource(tmp, { manifest: "build", onBuilt: () => (built = true) });
    assert.ok(built && !src.hadManifest);
    assert.deepEqual(src.files.map((f) => f.path), ["db/a.ibd", "db/b.cfg", "other/c.ibd"]);
    assert.deepEqual(
      src.manifest.entries.map((e) => [e.path, e.size, e.crc32c]),
      Object.entries(FILES).map(([p, b]) => [p, b.length, crcHex(crc32c(b))]),
    );
    const got = await drain(src);
    for (const [p, b] of Object.entries(FILES)) assert.deepEqual(got.get(p), b, p);
    assert.deepEqual(
      [...src.seen].map(([p, s]) => [p, s.size, s.crc32c]),
      src.manifest.entries.map((e) => [e.path, e.size, e.crc32c]),
    );
    const only = await drain(
      await openDirSource(tmp, { manifest: "build" }),
      (p) => p.endsWith(".cfg"),
    );
    assert.deepEqual([...only.keys()], ["db/b.cfg"]);
    await src.requireFiles(["db/a.ibd"]);
    await assert.rejects(() => src.requireFiles(["db/a.ibd", "db/zz.ibd"]), (e: Error) => {
      assert.ok(e instanceof IoError);
      assert.match(e.message, /incomplete: missing db\/zz\.ibd/);
      return true;
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("directory sink: every file, the manifest last and completed; never outside, never over", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await makeTree(`${tmp}/src`, FILES);
    const src = await openDirSource(`${tmp}/src`, { manifest: "build" });
    // A streamed manifest (no entries listed): the sink completes it from what it saw.
    const streamed: Source = { ...src, manifest: buildManifest({ options: { streamed: true } }) };
    const root = await prepareDestination(`${tmp}/out`, false);
    let progress = 0;
    const r = await dirSink({
      root,
      sync: "end",
      force: false,
      manifest: true,
      onProgress: (done) => (progress = done),
    }).write(streamed);
    assert.equal(r.entries, 3);
    assert.equal(r.bytes, (3 << 20) + 1000);
    assert.equal(progress, r.bytes);
    assert.deepEqual(await listFiles(`${tmp}/out`), [...Object.keys(FILES), MANIFEST_FILE].sort());
    const tree = await readTree(`${tmp}/out`);
    for (const [p, b] of Object.entries(FILES)) assert.deepEqual(tree.get(p), b, p);
    const m = (await readManifest(`${tmp}/out`))!;
    assert.deepEqual(m.options, { streamed: true });
    assert.deepEqual(m.entries, src.manifest.entries);

    await assert.rejects(() => prepareDestination(`${tmp}/out`, false), /is not empty/);
    const again = await openDirSource(`${tmp}/src`, { manifest: "build" });
    await assert.rejects(
      () => dirSink({ root, sync: "none", force: false, manifest: false }).write(again),
      /already exists \(use --force/,
    );
    const bad: Source = {
      ...again,
      entries: async function* () {
        yield { path: "../escape", size: 0, data: (async function* () {})() };
      },
    };
    await assert.rejects(
      () => dirSink({ root, sync: "none", force: true, manifest: false }).write(bad),
      CorruptionError,
    );
    // What arrived disagrees with the manifest: no manifest is written.
    await makeTree(`${tmp}/short`, { "db/a.ibd": new Uint8Array(5) });
    const short = await openDirSource(`${tmp}/short`, { manifest: "build" });
    const lying: Source = {
      ...short,
      manifest: buildManifest({
        options: {},
        entries: [{ path: "db/a.ibd", size: 6, crc32c: "" }],
      }),
    };
    const root2 = await prepareDestination(`${tmp}/out2`, false);
    await assert.rejects(
      () => dirSink({ root: root2, sync: "none", force: false, manifest: true }).write(lying),
      /does not match its manifest: truncated entry: db\/a\.ibd/,
    );
    assert.equal(await readManifest(root2), undefined);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/** An image source piped into a directory sink (what extract and image-to-backup-dir do). */
import assert from "node:assert/strict";
import { openDirSource } from "../lib/backupdir/source.ts";
import { dirSink, prepareDestination } from "../lib/backupdir/sink.ts";
import { imageSink } from "../lib/image/sink.ts";
import { openImageSource } from "../lib/image/source.ts";
import { isUnder } from "../lib/core/entry_path.ts";
import { lz4FrameDecode } from "../lib/image/lz4frame.ts";
import { MANIFEST_FILE } from "../lib/core/manifest.ts";
import { pageLike } from "./fixtures/prng.ts";
import { concat, listFiles, makeTree } from "./fixtures/tree.ts";

const FILES = {
  "db/a.ibd": pageLike(2 << 20, 3),
  "db/a.cfg": pageLike(900, 4),
  "x/y": pageLike(10, 5),
};

Deno.test("unpack: a whole image, a selection, one entry elsewhere, LZ4 frames", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await makeTree(`${tmp}/src`, FILES);
    const img = `${tmp}/i.img`;
    const w = await imageSink({
      target: img,
      compress: true,
      threads: 1,
      force: false,
      sync: false,
    })
      .write(await openDirSource(`${tmp}/src`, { manifest: "build" }));
    assert.equal(w.entries, 3);
    assert.equal(w.altered, 0);

    const whole = await openImageSource(img, { threads: 1 });
    try {
      const root = await prepareDestination(`${tmp}/all`, false);
      const r = await dirSink({ root, sync: "none", force: false, manifest: true }).write(whole);
      assert.equal(r.entries, 3);
      assert.deepEqual(await listFiles(root), [...Object.keys(FILES), MANIFEST_FILE].sort());
    } finally {
      await whole.close();
    }

    const part = await openImageSource(img, { threads: 1 });
    try {
      const root = await prepareDestination(`${tmp}/db`, false);
      const r = await dirSink({
        root,
        sync: "none",
        force: false,
        manifest: false,
        select: (p) => isUnder(p, "db/"),
      }).write(part);
      assert.equal(r.entries, 2);
      assert.deepEqual(await listFiles(root), ["db/a.cfg", "db/a.ibd"]);
    } finally {
      await part.close();
    }

    const one = await openImageSource(img, { threads: 1 });
    try {
      const root = await prepareDestination(`${tmp}/one`, false);
      await dirSink({
        root,
        sync: "none",
        force: false,
        manifest: false,
        select: (p) => p === "x/y",
        dstEntry: `${tmp}/one/copy`,
      }).write(one);
      assert.deepEqual(await Deno.readFile(`${tmp}/one/copy`), FILES["x/y"]);
    } finally {
      await one.close();
    }

    const lz4 = await openImageSource(img, { threads: 1, mode: "keep-compressed" });
    try {
      const root = await prepareDestination(`${tmp}/lz4`, false);
      await dirSink({ root, sync: "none", force: false, manifest: false, keptSuffix: true })
        .write(lz4);
      assert.deepEqual(await listFiles(root), ["db/a.cfg.lz4", "db/a.ibd.lz4", "x/y.lz4"]);
      const frame = await Deno.readFile(`${root}/db/a.ibd.lz4`);
      const parts: Uint8Array[] = [];
      for await (
        const b of lz4FrameDecode((async function* () {
          yield frame;
        })())
      ) parts.push(b.slice());
      assert.deepEqual(concat(parts), FILES["db/a.ibd"]);
    } finally {
      await lz4.close();
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

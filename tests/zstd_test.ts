// zstd image chunks: each chunk one standard zstd frame through node:zlib; round trips,
// hostile frames, `extract --keep-compressed` read by the real `zstd` CLI, the option
// rules (MEB's --compress-method / --compress-level), and the same in the built binary.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { backupDirToImageCommand } from "../lib/commands/backup_dir_to_image.ts";
import { imageToBackupDirCommand } from "../lib/commands/image_to_backup_dir.ts";
import { extractCommand } from "../lib/commands/extract.ts";
import { decodeRecord, encodeRecord } from "../lib/image/chunk_codec.ts";
import { decodeRecordHeader, RecordFlag, RecordType } from "../lib/image/format.ts";
import { crc32c } from "../lib/image/kernels.ts";
import { CorruptionError, UsageError } from "../lib/errors.ts";
import { MANIFEST_FILE } from "../lib/core/manifest.ts";
import { openImage } from "../lib/image/reader.ts";
import { imageBytes } from "../lib/image/image_io.ts";
import { zstdCompress, zstdDecompress, zstdRawFrame } from "../lib/image/zstd.ts";
import { KEY_HEX } from "./fixtures/keys.ts";
import { pageLike } from "./fixtures/prng.ts";
import { makeTree, readTree, sameBytes } from "./fixtures/tree.ts";
import { runCommand as run } from "./fixtures/context.ts";

const FILES: Record<string, Uint8Array> = {
  "empty.ibd": new Uint8Array(0),
  "db/page.ibd": pageLike(16384, 3),
  "db/multi.ibd": pageLike(3 * (1 << 20) + 12345, 5),
  "db/random.ibd": randomBytes(200000), // stored raw: incompressible
};

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, i + 65536));
  return b;
}

async function zstdCli(args: string[]) {
  const o = await new Deno.Command("zstd", { args, stdout: "piped", stderr: "piped" }).output();
  return { code: o.code, stdout: o.stdout, stderr: new TextDecoder().decode(o.stderr) };
}

Deno.test("zstd: raw frames (stored chunks, empty entries) are read by the zstd CLI", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    for (const n of [0, 1, 131072, 131073, 300000]) {
      const data = randomBytes(n);
      await Deno.writeFile(`${tmp}/f.zst`, zstdRawFrame(data));
      const r = await zstdCli(["-dc", `${tmp}/f.zst`]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(sameBytes(r.stdout, data), `raw frame of ${n} bytes`);
      assert.ok(sameBytes(zstdDecompress(zstdRawFrame(data), n), data));
    }
    // And frames the CLI wrote decode here.
    const data = pageLike(200000, 7);
    await Deno.writeFile(`${tmp}/p`, data);
    assert.equal((await zstdCli(["-q", "-f", "-3", `${tmp}/p`, "-o", `${tmp}/p.zst`])).code, 0);
    assert.ok(sameBytes(zstdDecompress(await Deno.readFile(`${tmp}/p.zst`), data.length), data));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("zstd: a frame claiming more or less than the header's length is corruption", () => {
  const data = pageLike(100000, 2);
  const frame = zstdCompress(data, 1);
  assert.throws(() => zstdDecompress(frame, 99999), CorruptionError);
  assert.throws(() => zstdDecompress(frame, 100001), CorruptionError);
  // node:zlib does not report a frame cut short, but what it gives then falls short of the size.
  assert.throws(
    () => zstdDecompress(frame.subarray(0, frame.length - 20), 100000),
    CorruptionError,
  );
  assert.throws(() => zstdDecompress(Uint8Array.of(1, 2, 3, 4, 5, 6), 10), CorruptionError);
  const flipped = frame.slice();
  flipped[frame.length >> 1] ^= 0x55; // caught by the content checksum if not before
  assert.throws(() => zstdDecompress(flipped, 100000), CorruptionError);
});

Deno.test("zstd: record codec sets the ZSTD flag only when smaller; bad frames are corruption", async () => {
  const r = { type: RecordType.DATA, entry: 1, chunk: 0 };
  const data = pageLike(1 << 20, 4);
  const enc = await encodeRecord(r, data, { method: "zstd", level: 1 });
  const h = decodeRecordHeader(enc.record);
  assert.equal(h.flags, RecordFlag.ZSTD);
  assert.ok(h.storedLen < data.length / 2, `stored ${h.storedLen}`);
  assert.equal(enc.rawCrc, crc32c(data));
  const back = await decodeRecord(enc.record, h, "full");
  assert.ok(sameBytes(back.data, data));
  assert.equal(back.rawCrc, crc32c(data));
  const kept = await decodeRecord(enc.record, h, "keep-compressed");
  assert.ok(kept.zstd && kept.compressed);
  assert.ok(sameBytes(zstdDecompress(kept.data, data.length), data));
  // Incompressible: stored raw, no flag.
  const rnd = crypto.getRandomValues(new Uint8Array(65536));
  const raw = await encodeRecord(r, rnd, { method: "zstd", level: 3 });
  assert.equal(decodeRecordHeader(raw.record).flags, 0);
  // A damaged frame under a correct record checksum (a buggy or hostile writer).
  const bad = enc.record.slice();
  bad[24 + 1] ^= 0xff; // the frame's magic number
  new DataView(bad.buffer).setUint32(0, crc32c(bad.subarray(4)), true);
  await assert.rejects(() => decodeRecord(bad, decodeRecordHeader(bad), "full"), CorruptionError);
  // LZ4 and ZSTD together is not a record any writer makes.
  const both = enc.record.slice();
  both[5] |= RecordFlag.LZ4;
  new DataView(both.buffer).setUint32(0, crc32c(both.subarray(4)), true);
  await assert.rejects(
    () => decodeRecord(both, decodeRecordHeader(both), "full"),
    /both LZ4 and zstd/,
  );
});

for (
  const [label, over] of [
    ["level 1", { compressMethod: "zstd", compressLevel: 1 }],
    ["default level, encrypted, inline codec", {
      compress: true,
      compressMethod: "zstd",
      encrypt: true,
      key: KEY_HEX,
      threads: 0,
    }],
    ["level 19", { compressMethod: "zstd", compressLevel: 19 }],
  ] as const
) {
  Deno.test(`zstd image round trip (${label}); extract --keep-compressed gives .zst files zstd -d reads`, async () => {
    const tmp = await Deno.makeTempDir();
    try {
      await makeTree(`${tmp}/src`, FILES);
      const img = `${tmp}/img`;
      const key = "key" in over ? { key: KEY_HEX } : {};
      assert.equal(
        await run(backupDirToImageCommand, { backupDir: `${tmp}/src`, backupImage: img, ...over }),
        0,
      );
      const size = (await Deno.stat(img)).size;
      const raw = Object.values(FILES).reduce((s, d) => s + d.length, 0);
      assert.ok(size < raw / 2, `zstd image ${size} bytes for ${raw}`);
      assert.equal(
        await run(imageToBackupDirCommand, { backupImage: img, backupDir: `${tmp}/out`, ...key }),
        0,
      );
      const got = await readTree(`${tmp}/out`);
      const manifest = JSON.parse(new TextDecoder().decode(got.get(MANIFEST_FILE)!));
      assert.equal(manifest.compression, undefined, "a directory's files are not compressed");
      got.delete(MANIFEST_FILE);
      assert.deepEqual([...got.keys()].sort(), Object.keys(FILES).sort());
      for (const [p, d] of Object.entries(FILES)) assert.ok(sameBytes(got.get(p)!, d), p);

      assert.equal(
        await run(extractCommand, {
          backupImage: img,
          backupDir: `${tmp}/x`,
          keepCompressed: true,
          ...key,
        }),
        0,
      );
      const kept = await readTree(`${tmp}/x`);
      assert.deepEqual(
        [...kept.keys()].sort(),
        Object.keys(FILES).map((p) => p + ".zst").sort(),
      );
      for (const [p, d] of Object.entries(FILES)) {
        const r = await zstdCli(["-dc", `${tmp}/x/${p}.zst`]);
        assert.equal(r.code, 0, `${p}: ${r.stderr}`);
        assert.ok(sameBytes(r.stdout, d), p);
      }
      // The multi-chunk entry really holds compressed frames, not re-framed raw data.
      assert.ok(kept.get("db/multi.ibd.zst")!.length < FILES["db/multi.ibd"].length / 2);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

Deno.test("zstd options: MEB meanings of --compress-method and --compress-level", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await makeTree(`${tmp}/src`, { "db/t.ibd": pageLike(1 << 20, 8) });
    const manifestOf = async (img: string) => {
      const opened = await openImage(imageBytes(img), { threads: 0, name: img });
      await opened.close();
      return opened.manifest;
    };
    const cases: [string, Record<string, unknown>, unknown][] = [
      ["method alone implies --compress", { compressMethod: "zstd" }, { method: "zstd", level: 3 }],
      ["level alone implies --compress", { compressMethod: "ZSTD", compressLevel: 7 }, {
        method: "zstd",
        level: 7,
      }],
      ["--compress alone is lz4", { compress: true }, { method: "lz4" }],
      ["level 0 turns it off", { compress: true, compressLevel: 0 }, undefined],
      ["method none turns it off", { compress: true, compressMethod: "none" }, undefined],
    ];
    for (const [i, [label, over, want]] of cases.entries()) {
      const img = `${tmp}/i${i}`;
      assert.equal(
        await run(backupDirToImageCommand, { backupDir: `${tmp}/src`, backupImage: img, ...over }),
        0,
        label,
      );
      assert.deepEqual((await manifestOf(img)).compression, want, label);
    }
    const log: string[] = [];
    await run(backupDirToImageCommand, {
      backupDir: `${tmp}/src`,
      backupImage: `${tmp}/lz`,
      compress: true,
      compressLevel: 5,
    }, log);
    assert.match(log.join(""), /LZ4 has one level/);
    for (
      const over of [{ compressMethod: "zstd", compressLevel: 20 }, { compressMethod: "zlib" }]
    ) {
      await assert.rejects(
        () =>
          run(backupDirToImageCommand, {
            backupDir: `${tmp}/src`,
            backupImage: `${tmp}/b`,
            ...over,
          }),
        UsageError,
      );
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

const built = fileURLToPath(new URL("../dist/ibvault", import.meta.url));

Deno.test("binary: --compress=zstd image, restore and --keep-compressed .zst read by zstd -d", async () => {
  assert.ok(existsSync(built), "dist/ibvault is missing: run deno task compile first");
  const tmp = await Deno.makeTempDir();
  try {
    await makeTree(`${tmp}/src`, FILES);
    const bin = async (...args: string[]) => {
      const o = await new Deno.Command(built, { args, cwd: tmp, stdout: "piped", stderr: "piped" })
        .output();
      return { code: o.code, stderr: new TextDecoder().decode(o.stderr) };
    };
    let r = await bin(
      "backup-dir-to-image",
      "--backup-dir=src",
      "--backup-image=i",
      "--compress=zstd",
    );
    assert.equal(r.code, 0, r.stderr);
    r = await bin("image-to-backup-dir", "--backup-image=i", "--backup-dir=out");
    assert.equal(r.code, 0, r.stderr);
    for (const [p, d] of Object.entries(FILES)) {
      assert.ok(sameBytes(await Deno.readFile(`${tmp}/out/${p}`), d), p);
    }
    r = await bin("extract", "--backup-image=i", "--backup-dir=x", "--keep-compressed");
    assert.equal(r.code, 0, r.stderr);
    const z = await zstdCli(["-dc", `${tmp}/x/db/multi.ibd.zst`]);
    assert.equal(z.code, 0, z.stderr);
    assert.ok(sameBytes(z.stdout, FILES["db/multi.ibd"]));
    r = await bin(
      "backup-dir-to-image",
      "--backup-dir=src",
      "--backup-image=j",
      "--compress-level=42",
      "--compress-method=zstd",
    );
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "ibvault: ERROR: --compress-level=42: zstd levels go from 1 to 19\n");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

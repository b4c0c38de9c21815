/**
 * Hand-built hostile images (issue 11, "done when"): each one is CRC-valid, so
 * what refuses it is the reader's structure, bounds, names and manifest checks.
 * Every command that reads images (list-image, validate, extract,
 * image-to-backup-dir) must exit 1 with a typed error naming the problem, never
 * write outside its destination, and never leave a file behind under a final name.
 */
import assert from "node:assert/strict";
import { CorruptionError, exitCodeOf } from "../lib/errors.ts";
import { listImageCommand } from "../lib/commands/list_image.ts";
import { validateCommand } from "../lib/commands/validate.ts";
import { extractCommand } from "../lib/commands/extract.ts";
import { imageToBackupDirCommand } from "../lib/commands/image_to_backup_dir.ts";
import { encodeEntryPayload, encodeImageHeader, RecordType } from "../lib/image/format.ts";
import { crc32c } from "../lib/image/kernels.ts";
import {
  encodeRecord,
  jsonBytes,
  manifestFor,
  rawImage,
  type RawRecord,
  rawRecords,
} from "./raw_image.ts";
import { testContext as ctx } from "./fixtures/context.ts";
import { runBinary } from "./cli_helpers.ts";

const page = new Uint8Array(16384).fill(0x11);
const good = [{ path: "db/t.ibd", data: page }];
const enc = (s: string) => new TextEncoder().encode(s);

/** The records of a valid image of `entries` (manifest listing them), for tampering. */
const recordsOf = (entries = good, extra: Record<string, unknown> = {}) =>
  rawRecords(jsonBytes(manifestFor(entries, extra)), entries);

function entryRecord(index: number, path: string, size: number, reserved = 0): RawRecord {
  const payload = encodeEntryPayload({ path, size, mode: 0o640 });
  new DataView(payload.buffer).setUint32(12, reserved, true);
  return { type: RecordType.ENTRY, entry: index, chunk: 0, payload };
}

/** Images that must be refused, with what the error must say. */
function hostileImages(): [string, Uint8Array, RegExp][] {
  const out: [string, Uint8Array, RegExp][] = [];
  const add = (label: string, bytes: Uint8Array, re: RegExp) => out.push([label, bytes, re]);
  // Entry names that would escape the destination or are not names at all.
  for (
    const [name, re] of [
      ["../escape.ibd", /refused entry name .*path component '\.\.'/],
      ["db/../../escape.ibd", /path component '\.\.'/],
      ["/etc/escape.ibd", /absolute path/],
      ["db\\..\\escape.ibd", /backslash/],
      ["db/a\u0000b.ibd", /NUL/],
      ["db//t.ibd", /path component ''/],
      ["./t.ibd", /path component '\.'/],
      [`db/${"x".repeat(256)}`, /component longer than 255 bytes/],
    ] as const
  ) {
    const recs = recordsOf();
    recs[2] = entryRecord(1, name, page.length);
    add(`entry name ${JSON.stringify(name.slice(0, 30))}`, rawImage(recs), re);
  }
  // Sequence and structure.
  {
    const recs = recordsOf([{ path: "a.ibd", data: page }, { path: "b.ibd", data: page }]);
    recs[4] = entryRecord(2, "a.ibd", page.length);
    add("duplicate entry name", rawImage(recs), /duplicate entry name/);
  }
  {
    const recs = recordsOf();
    recs[2] = entryRecord(1, "ibvault_manifest.json", page.length);
    add("second manifest entry", rawImage(recs), /duplicate entry name/);
  }
  {
    const recs = recordsOf();
    recs[2] = entryRecord(1, "db/t.ibd", page.length, 7);
    add("entry reserved field not zero", rawImage(recs), /reserved field is not zero/);
  }
  {
    const recs = recordsOf();
    recs[2] = entryRecord(1, "db/t.ibd", page.length + 1);
    add(
      "entry longer than its data",
      rawImage(recs),
      /bytes present \(entry cut short\)|out of sequence/,
    );
  }
  {
    const recs = recordsOf();
    recs[2] = entryRecord(1, "db/t.ibd", 10);
    add("entry shorter than its data", rawImage(recs), /more data than the entry size/);
  }
  {
    const recs = recordsOf();
    const payload = new Uint8Array(20);
    new DataView(payload.buffer).setBigUint64(0, 2n ** 60n, true);
    payload.set(enc("big"), 16);
    recs[2] = { type: RecordType.ENTRY, entry: 1, chunk: 0, payload: payload.subarray(0, 19) };
    add("entry size beyond 2^53", rawImage(recs), /entry size \d+ out of range/);
  }
  {
    const recs = recordsOf();
    [recs[2], recs[3]] = [recs[3], recs[2]];
    add("data before its entry", rawImage(recs), /out of sequence/);
  }
  {
    const recs = recordsOf();
    recs[3] = { ...recs[3], chunk: 5 };
    add("chunk number skipped", rawImage(recs), /out of sequence/);
  }
  {
    const recs = recordsOf();
    recs[3] = { ...recs[3], flags: 0x80 };
    add("unknown record flags", rawImage(recs), /unknown flags 0x80/);
  }
  {
    const recs = recordsOf();
    recs[3] = { ...recs[3], flags: 2 };
    add("AES record in a plain image", rawImage(recs), /encrypted record in a plain image/);
  }
  {
    const recs = recordsOf();
    recs[2] = { ...recs[2], flags: 1 };
    add("compressed entry record", rawImage(recs), /compressed non-data record/);
  }
  {
    const recs = recordsOf();
    recs[3] = { ...recs[3], type: 9 };
    add("unknown record type", rawImage(recs), /unknown record type 9/);
  }
  {
    const recs = recordsOf();
    const end = recs.at(-1)!;
    const p = end.payload.slice();
    new DataView(p.buffer).setBigUint64(16, 1n, true);
    recs[recs.length - 1] = { ...end, payload: p };
    add("end record totals wrong", rawImage(recs), /end record disagrees/);
  }
  {
    const recs = recordsOf();
    recs.pop();
    add("no end record", rawImage(recs), /no end record/);
  }
  {
    const img = rawImage(recordsOf());
    const tail = encodeRecord({
      type: RecordType.DATA,
      entry: 1,
      chunk: 1,
      payload: page.subarray(0, 10),
    });
    add("records after the end", Uint8Array.from([...img, ...tail]), /after the end record/);
  }
  {
    const img = rawImage(recordsOf());
    // A record header declaring 3 GB of stored bytes: refused before anything is allocated.
    const at = 84 + 24 + recordsOf()[0].payload.length + 24 + recordsOf()[1].payload.length;
    const c = img.slice();
    new DataView(c.buffer).setUint32(at + 20, 3_000_000_000, true);
    new DataView(c.buffer).setUint32(at, crc32c(c.subarray(at + 4, at + 24)), true);
    add("huge declared stored length", c, /declared stored length 3000000000 too large/);
  }
  {
    const h = encodeImageHeader({ encrypted: false, chunkSize: 1 << 20 });
    h[40] = 9;
    new DataView(h.buffer).setUint32(80, crc32c(h.subarray(0, 80)), true);
    const img = rawImage(recordsOf());
    img.set(h, 0);
    add("plain header with a salt", img, /salt and key check of a plain image must be zero/);
  }
  {
    const h = encodeImageHeader({ encrypted: false, chunkSize: 1 << 20 });
    new DataView(h.buffer).setUint32(12, 1 << 30, true);
    new DataView(h.buffer).setUint32(80, crc32c(h.subarray(0, 80)), true);
    const img = rawImage(recordsOf());
    img.set(h, 0);
    add("chunk size 1 GiB", img, /chunk size \d+ out of range/);
  }
  // The manifest (see also manifest_schema_test.ts).
  add(
    "manifest nested",
    rawImage(rawRecords(enc('{"a":' + "[".repeat(5000)), good)),
    /damaged manifest: nested/,
  );
  add(
    "manifest lists a traversal path",
    rawImage(
      recordsOf(good, {
        tables: [{
          database: "db",
          name: "t",
          engine: "InnoDB",
          createStatement: "",
          files: ["../../x"],
        }],
      }),
    ),
    /damaged manifest: tables\[0\]\.files\[0\] is not a safe entry path/,
  );
  add(
    "manifest entries not iterable",
    rawImage(rawRecords(jsonBytes({ ...manifestFor(good), entries: {} }), good)),
    /damaged manifest: entries is not a list/,
  );
  return out;
}

async function exists(p: string) {
  return await Deno.lstat(p).then(() => true, () => false);
}

Deno.test("hostile images: every reading command exits 1 naming the problem, nothing written outside", async () => {
  const root = await Deno.makeTempDir({ prefix: "ibvault-hostile-" });
  const cases = hostileImages();
  let tried = 0;
  try {
    for (const [label, bytes, expected] of cases) {
      const image = `${root}/img.ibv`;
      await Deno.writeFile(image, bytes);
      const runs = [
        [listImageCommand, { backupImage: image }],
        [validateCommand, { backupImage: image }],
        [extractCommand, { backupImage: image, backupDir: `${root}/x/dest` }],
        [imageToBackupDirCommand, { backupImage: image, backupDir: `${root}/i/dest` }],
      ] as const;
      for (const [cmd, over] of runs) {
        tried++;
        let code = 0;
        let err: unknown;
        try {
          code = await cmd.run(ctx(over));
        } catch (e) {
          err = e;
          code = exitCodeOf(e);
        }
        const what = `${label}: ${cmd.name}: ${(err as Error)?.message ?? `exit ${code}`}`;
        assert.equal(code, 1, what);
        assert.ok(err instanceof CorruptionError, what);
        assert.match((err as Error).message, expected, what);
      }
      // Nothing escaped: only the destinations (and the image) exist under the root.
      for (const p of ["escape.ibd", "x/escape.ibd", "i/escape.ibd", "../escape.ibd"]) {
        assert.equal(await exists(`${root}/${p}`), false, `${label}: ${p} was written`);
      }
      assert.equal(await exists("/etc/escape.ibd"), false);
      for (const dest of [`${root}/x/dest`, `${root}/i/dest`]) {
        if (!(await exists(dest))) continue;
        // Whole entries read before the problem may stay; nothing the hostile record named.
        for await (const e of Deno.readDir(dest)) {
          assert.ok(
            ["a.ibd", "b.ibd", "db", "ibvault_manifest.json"].includes(e.name) ||
              /\.ibvault-part$/.test(e.name),
            `${label}: ${dest}/${e.name} left`,
          );
        }
        await Deno.remove(dest, { recursive: true });
      }
    }
    console.log(`hostile images: ${cases.length} images x 4 commands = ${tried} runs, all refused`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("binary: names with newlines and escape sequences are printed inert, never as a forged line", async () => {
  const root = await Deno.makeTempDir({ prefix: "ibvault-names-" });
  try {
    const evil = "db/t\nibvault completed OK!\n\x1b[2J\x1b[H\u202e.cfg";
    const film = await Deno.readFile(
      new URL("../../shared/ibd-legacy/sakila50/film.ibd", import.meta.url),
    );
    const entries = [{ path: evil, data: page }, { path: "db/film.ibd", data: film }];
    await Deno.writeFile(
      `${root}/ok.ibv`,
      rawImage(rawRecords(jsonBytes(manifestFor(entries)), entries)),
    );
    const bad = rawRecords(jsonBytes(manifestFor(entries)), entries);
    bad[3] = { ...bad[3], payload: page.map((b, i) => (i === 100 ? 0 : b)) };
    await Deno.writeFile(`${root}/bad.ibv`, rawImage(bad));
    for (
      const [args, code] of [
        [["list-image", `--backup-image=${root}/ok.ibv`], 0],
        [["validate", `--backup-image=${root}/ok.ibv`, "--verbose"], 0],
        [["validate", `--backup-image=${root}/bad.ibv`], 1],
        [["extract", `--backup-image=${root}/bad.ibv`, `--backup-dir=${root}/x`], 1],
      ] as const
    ) {
      const r = await runBinary([...args, "--no-defaults"]);
      const all = r.stdout + r.stderr;
      assert.equal(r.code, code, all);
      assert.ok(
        !all.includes("\x1b") && !all.includes("\u202e"),
        `${args[0]}: a raw escape reached the terminal`,
      );
      const okLines = all.split("\n").filter((l) => l === "ibvault completed OK!");
      assert.equal(
        okLines.length,
        code === 0 ? 1 : 0,
        `${args[0]}: forged completion line:\n${all}`,
      );
      if (code === 0) assert.match(r.stderr, /ibvault completed OK!\n$/);
      // The name shows escaped (or, inside a longer message, on an indented line of its own).
      assert.match(all, /\\x1b\[2J\\x1b\[H\\u\{202e\}\.cfg/, all);
      assert.doesNotMatch(all, /^ibvault completed OK!\n(?!$)/m);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

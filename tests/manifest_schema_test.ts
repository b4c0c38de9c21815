/**
 * Manifests as untrusted input (issue 11 items 2 and 5): bounded size, nesting and
 * strings while the bytes arrive, one schema check on read, "damaged manifest:
 * <what>" with exit 1 everywhere, reserved fields zero; the binary refuses a
 * hostile manifest within a second and under 100 MB of memory.
 */
import assert from "node:assert/strict";
import { CorruptionError } from "../lib/errors.ts";
import {
  ManifestScanner,
  MAX_MANIFEST_DEPTH,
  MAX_MANIFEST_SIZE,
  readManifestBytes,
  validateManifest,
} from "../lib/core/manifest_schema.ts";
import { readManifest } from "../lib/core/manifest_io.ts";
import { decodeEntryPayload, decodeImageHeader, encodeImageHeader } from "../lib/image/format.ts";
import { crc32c } from "../lib/image/kernels.ts";
import { jsonBytes, manifestFor, rawImage, rawRecords } from "./raw_image.ts";
import { RecordReader } from "../lib/image/records.ts";
import { BINARY } from "./cli_helpers.ts";

const file = { path: "db/t.ibd", data: new Uint8Array(4096).fill(7) };
const good = () => manifestFor([file]);

/** Mutations of a valid manifest that must each be refused, with what the message names. */
const BAD: [string, (m: Record<string, unknown>) => unknown, RegExp][] = [
  ["not an object", () => [1, 2], /the document is not an object/],
  ["null", () => null, /the document is not an object/],
  ["wrong format", (m) => ({ ...m, format: "other" }), /format is not "ibvault-manifest"/],
  ["version 0", (m) => ({ ...m, version: 0 }), /version is not a whole number/],
  ["version string", (m) => ({ ...m, version: "1" }), /version is not a whole number/],
  ["entries missing", (m) => ({ ...m, entries: undefined }), /entries is not a list/],
  ["entries an object", (m) => ({ ...m, entries: {} }), /entries is not a list/],
  ["tables missing", (m) => ({ ...m, tables: undefined }), /tables is not a list/],
  ["tables a string", (m) => ({ ...m, tables: "x" }), /tables is not a list/],
  ["databases null", (m) => ({ ...m, databases: null }), /databases is not a list/],
  ["createdAt number", (m) => ({ ...m, createdAt: 5 }), /createdAt is not a string/],
  ["options a list", (m) => ({ ...m, options: [] }), /options is not an object/],
  ["tool a string", (m) => ({ ...m, tool: "ibvault" }), /tool is not an object/],
  ["entry null", (m) => ({ ...m, entries: [null] }), /entries\[0\] is not an object/],
  [
    "entry path number",
    (m) => ({ ...m, entries: [{ path: 1, size: 1, crc32c: "00000000" }] }),
    /entries\[0\]\.path is not a string/,
  ],
  [
    "entry path ..",
    (m) => ({ ...m, entries: [{ path: "../etc/passwd", size: 1, crc32c: "00000000" }] }),
    /entries\[0\]\.path is not a safe entry path/,
  ],
  [
    "entry path absolute",
    (m) => ({ ...m, entries: [{ path: "/etc/passwd", size: 1, crc32c: "00000000" }] }),
    /absolute path/,
  ],
  [
    "entry size negative",
    (m) => ({ ...m, entries: [{ path: "a", size: -1, crc32c: "00000000" }] }),
    /entries\[0\]\.size is not a whole number/,
  ],
  [
    "entry size huge",
    (m) => ({ ...m, entries: [{ path: "a", size: 2 ** 60, crc32c: "00000000" }] }),
    /entries\[0\]\.size/,
  ],
  [
    "entry size string",
    (m) => ({ ...m, entries: [{ path: "a", size: "1", crc32c: "00000000" }] }),
    /entries\[0\]\.size/,
  ],
  [
    "entry crc short",
    (m) => ({ ...m, entries: [{ path: "a", size: 1, crc32c: "abc" }] }),
    /entries\[0\]\.crc32c is not 8 lowercase/,
  ],
  [
    "entry twice",
    (m) => ({ ...m, entries: [(m.entries as unknown[])[0], (m.entries as unknown[])[0]] }),
    /entries\[1\]\.path repeats/,
  ],
  ["table not object", (m) => ({ ...m, tables: [[]] }), /tables\[0\] is not an object/],
  [
    "table name number",
    (m) => ({ ...m, tables: [table({ name: 5 })] }),
    /tables\[0\]\.name is not a string/,
  ],
  [
    "table name empty",
    (m) => ({ ...m, tables: [table({ name: "" })] }),
    /tables\[0\]\.name is empty/,
  ],
  [
    "table name long",
    (m) => ({ ...m, tables: [table({ name: "x".repeat(300) })] }),
    /tables\[0\]\.name is longer/,
  ],
  [
    "table database missing",
    (m) => ({ ...m, tables: [table({ database: undefined })] }),
    /tables\[0\]\.database is not a string/,
  ],
  [
    "table files object",
    (m) => ({ ...m, tables: [table({ files: {} })] }),
    /tables\[0\]\.files is not a list/,
  ],
  [
    "table file ..",
    (m) => ({ ...m, tables: [table({ files: ["db/../../x.ibd"] })] }),
    /tables\[0\]\.files\[0\] is not a safe entry path/,
  ],
  [
    "table create missing",
    (m) => ({ ...m, tables: [table({ createStatement: undefined })] }),
    /tables\[0\]\.createStatement is not a string/,
  ],
  [
    "table rowFormat number",
    (m) => ({ ...m, tables: [table({ rowFormat: 1 })] }),
    /tables\[0\]\.rowFormat is not a string/,
  ],
  [
    "database dir ..",
    (m) => ({ ...m, databases: [{ name: "db", dir: "..", createStatement: "" }] }),
    /databases\[0\]\.dir is not a safe entry path/,
  ],
  [
    "database name list",
    (m) => ({ ...m, databases: [{ name: [], dir: "db", createStatement: "" }] }),
    /databases\[0\]\.name is not a string/,
  ],
  ["server flavor", (m) => ({ ...m, server: server({ flavor: "oracle" }) }), /server\.flavor/],
  [
    "server pageSize odd",
    (m) => ({ ...m, server: server({ pageSize: 16000 }) }),
    /server\.pageSize is not a power of two/,
  ],
  [
    "server pageSize big",
    (m) => ({ ...m, server: server({ pageSize: 1 << 20 }) }),
    /server\.pageSize is not a whole number/,
  ],
  [
    "server lctn",
    (m) => ({ ...m, server: server({ lowerCaseTableNames: 7 }) }),
    /server\.lowerCaseTableNames/,
  ],
  ["server not object", (m) => ({ ...m, server: 1 }), /server is not an object/],
  ["kind bogus", (m) => ({ ...m, kind: "partial" }), /kind is not "full" or "incremental"/],
  [
    "base endLsn number",
    (m) => ({ ...m, base: { id: "x", endLsn: 5 } }),
    /base\.endLsn is not a decimal number/,
  ],
  ["endLsn hex", (m) => ({ ...m, endLsn: "0x10" }), /endLsn is not a decimal number/],
  ["id empty", (m) => ({ ...m, id: "" }), /id is empty/],
  [
    "name with escape shown inert",
    (m) => ({ ...m, entries: [{ path: "a/\u001b[2J/..", size: 1, crc32c: "00000000" }] }),
    /a\/\\x1b\[2J\/\.\./,
  ],
];

function table(over: Record<string, unknown>) {
  return {
    database: "db",
    name: "t",
    engine: "InnoDB",
    createStatement: "CREATE TABLE `t` (id INT)",
    files: ["db/t.ibd"],
    ...over,
  };
}

function server(over: Record<string, unknown>) {
  return {
    flavor: "mariadb",
    version: "10.11.6-MariaDB",
    pageSize: 16384,
    checksumAlgorithm: "full_crc32",
    lowerCaseTableNames: 0,
    ...over,
  };
}

Deno.test("validateManifest: valid manifests pass, unknown fields are kept", () => {
  const m = {
    ...good(),
    server: server({}),
    tables: [table({})],
    id: "u-1",
    kind: "full",
    endLsn: "123",
    later: { x: 1 },
  };
  assert.equal(validateManifest(m, "x"), m);
  validateManifest({ ...m, kind: "incremental", base: { id: "u-0", endLsn: "99" } }, "x");
  validateManifest({ ...good(), server: undefined, tool: undefined, options: undefined }, "x");
});

Deno.test(`validateManifest: ${BAD.length} malformed manifests are each "damaged manifest: <what>"`, () => {
  for (const [label, mutate, expected] of BAD) {
    const value = mutate(good());
    assert.throws(() => validateManifest(value, "img.ibv"), (e: unknown) => {
      assert.ok(e instanceof CorruptionError, label);
      assert.match(e.message, /^img\.ibv: damaged manifest: /, label);
      assert.match(e.message, expected, `${label}: ${e.message}`);
      assert.ok(!e.message.includes("\u001b") && !e.message.includes("\n"), label);
      return true;
    }, label);
  }
});

Deno.test("ManifestScanner: nesting, long strings and sizes are refused as the bytes arrive", () => {
  const s = new ManifestScanner("m");
  s.feed(
    new TextEncoder().encode(
      '{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[[[[[[[[[[[[[[[[[[[[[[[["',
    ),
  );
  s.feed(new TextEncoder().encode("[".repeat(MAX_MANIFEST_DEPTH - 1))); // strings do not count
  assert.throws(
    () => s.feed(new TextEncoder().encode("[")),
    /damaged manifest: nested more than 16 deep/,
  );
  assert.throws(
    () => new ManifestScanner("m").feed(new TextEncoder().encode(`"${"x".repeat(5 << 20)}"`)),
    /damaged manifest: a string longer than/,
  );
  assert.throws(
    () => new ManifestScanner("m").declare(MAX_MANIFEST_SIZE + 1),
    /damaged manifest: declared size/,
  );
  assert.throws(
    () => readManifestBytes(Uint8Array.of(0x7b, 0xff, 0x7d), "m"),
    /damaged manifest: not valid UTF-8/,
  );
  assert.throws(
    () => readManifestBytes(new TextEncoder().encode('{"format":'), "m"),
    /damaged manifest: not valid JSON/,
  );
});

Deno.test("readManifest: a backup directory's manifest is checked the same way", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ibvault-manifest-" });
  try {
    await Deno.writeTextFile(
      `${dir}/ibvault_manifest.json`,
      JSON.stringify({ ...good(), entries: {} }),
    );
    await assert.rejects(
      () => readManifest(dir),
      /ibvault_manifest\.json: damaged manifest: entries is not a list/,
    );
    await Deno.writeTextFile(`${dir}/ibvault_manifest.json`, "[".repeat(200_000));
    await assert.rejects(() => readManifest(dir), /damaged manifest: nested more than/);
    await Deno.writeTextFile(`${dir}/ibvault_manifest.json`, JSON.stringify(good()));
    assert.equal((await readManifest(dir))?.entries.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reserved fields: a plain header's salt and key check, an entry's reserved word, must be zero", () => {
  const h = encodeImageHeader({ encrypted: false, chunkSize: 1 << 20 });
  decodeImageHeader(h, "x");
  h[20] = 1;
  new DataView(h.buffer).setUint32(80, crc32c(h.subarray(0, 80)), true);
  assert.throws(
    () => decodeImageHeader(h, "x"),
    /salt and key check of a plain image must be zero/,
  );
  const e = new Uint8Array(20);
  new DataView(e.buffer).setUint32(12, 1, true);
  e.set(new TextEncoder().encode("a.ib"), 16);
  assert.throws(() => decodeEntryPayload(e, "x"), /reserved field is not zero/);
});

Deno.test("image reader: the manifest is read on this thread; codec workers start with a file's data", async () => {
  // An 8-chunk manifest (more chunks than the read-ahead), then one file.
  const manifest = new Uint8Array(8 << 20).fill(0x20);
  const bytes = rawImage(rawRecords(manifest, [file]));
  const records = await RecordReader.open(
    (async function* () {
      yield bytes;
    })(),
    { threads: 2, mode: "full", name: "x" },
  );
  try {
    for (let i = 0; i < 4; i++) assert.equal((await records.take())!.h.entry, 0);
    assert.equal(records.pool.running, 0, "workers started while the manifest was read");
    let d;
    do d = await records.take(); while (d && d.h.entry === 0);
    assert.equal(d!.h.entry, 1); // db/t.ibd's entry record
    assert.equal((await records.take())!.h.entry, 1); // and its data, decoded by a worker
    assert.equal(records.pool.running, 2);
  } finally {
    await records.close();
  }
});

/** Run the binary under /usr/bin/time: exit code, stderr, peak RSS (MB) and wall time (s). */
async function measured(args: string[]) {
  const t0 = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "IBV_RSS_KB=%M IBV_CPU=%U+%S", BINARY, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t0) / 1000;
  const stderr = new TextDecoder().decode(out.stderr);
  const m = /IBV_RSS_KB=(\d+) IBV_CPU=([\d.]+)\+([\d.]+)/.exec(stderr)!;
  return {
    code: out.code,
    stderr: stderr.replace(/(Command exited with non-zero status \d+\n)?IBV_RSS_KB=.*\n?/, ""),
    rss: Number(m[1]) / 1024,
    cpu: Number(m[2]) + Number(m[3]),
    seconds,
  };
}

Deno.test("binary: hostile manifests (60 MB nested, 30 MB nested, one 30 MB string, wrong shapes) exit 1 within a second of CPU, bounded memory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ibvault-hostile-manifest-" });
  try {
    const images: [string, Uint8Array, RegExp][] = [
      [
        "nested60",
        new TextEncoder().encode("[".repeat(60 << 20)),
        /damaged manifest: declared size \d+ is larger than/,
      ],
      [
        "nested30",
        new TextEncoder().encode("[".repeat(30 << 20)),
        /damaged manifest: nested more than 16 deep/,
      ],
      [
        "string30",
        new TextEncoder().encode(`{"format":"${"x".repeat(30 << 20)}"}`),
        /damaged manifest: a string longer than/,
      ],
      [
        "noentries",
        jsonBytes({ ...good(), entries: undefined }),
        /damaged manifest: entries is not a list/,
      ],
      [
        "entriesobj",
        jsonBytes({ ...good(), entries: {} }),
        /damaged manifest: entries is not a list/,
      ],
      [
        "namenumber",
        jsonBytes({ ...good(), tables: [table({ name: 7 })] }),
        /damaged manifest: tables\[0\]\.name is not a string/,
      ],
    ];
    for (const [label, manifest, expected] of images) {
      const path = `${dir}/${label}.ibv`;
      await Deno.writeFile(path, rawImage(rawRecords(manifest, [file])));
      for (
        const args of [
          ["list-image", `--backup-image=${path}`],
          ["validate", `--backup-image=${path}`],
          ["image-to-backup-dir", `--backup-image=${path}`, `--backup-dir=${dir}/out-${label}`],
        ]
      ) {
        const r = await measured([...args, "--no-defaults"]);
        const what = `${label} ${args[0]}: ${r.stderr}`;
        assert.equal(r.code, 1, what);
        assert.match(r.stderr, expected, what);
        assert.doesNotMatch(
          r.stderr,
          /completed OK|undefined|is not iterable|is not a function/,
          what,
        );
        // CPU time, not wall time: the machine is shared and the wall clock mostly measures the load.
        assert.ok(r.cpu < 1, `${what}: took ${r.cpu.toFixed(2)} s of CPU`);
        // The issue asks for < 100 MB. The manifest is read on the main thread before
        // any codec worker starts, without a copy of its chunks: 75-83 MB measured
        // (94-99 MB when two workers started first and each chunk was copied).
        assert.ok(r.rss < 100, `${what}: peak RSS ${r.rss.toFixed(0)} MB`);
        console.log(
          `${label} ${args[0]}: exit 1, ${r.cpu.toFixed(2)} s CPU (${
            r.seconds.toFixed(2)
          } s wall), ` +
            `${r.rss.toFixed(0)} MB`,
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

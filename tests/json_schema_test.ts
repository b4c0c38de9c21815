/**
 * The `--json` document (README, "JSON report"): the fields every command prints,
 * on success and on failure, and the per-table rows, pinned on real runs against
 * a throwaway server: backup (TTS, logical and skipped tables), a failing backup,
 * backup-to-image, list-image, validate, image-to-backup-dir, extract, copy-back (and
 * a failing one) and apply-log.
 */
import assert from "node:assert/strict";
import { findCommand } from "../lib/commands/mod.ts";
import { contextFor, startBackupServer } from "./fixtures/server.ts";
import type { Options } from "../lib/commands/options.ts";
import type { ThrowawayServer } from "../scripts/throwaway_server.ts";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
type Doc = Record<string, unknown>;

/** Run `name` in-process with --json; its document (printed also when it throws). */
async function run(srv: ThrowawayServer, name: string, options: Partial<Options>) {
  const ctx = contextFor(srv, { json: true, ...options });
  let error: unknown;
  try {
    await findCommand(name)!.run(ctx);
  } catch (e) {
    error = e;
  }
  assert.equal(ctx.json.length, 1, `${name} prints one document`);
  return { doc: ctx.json[0] as Doc, error };
}

/** The fields every document has, in their types. */
function common(doc: Doc, command: string, status: "ok" | "corrupt" | "error") {
  assert.equal(doc.command, command);
  assert.equal(doc.status, status);
  assert.match(doc.startedAt as string, ISO);
  assert.match(doc.finishedAt as string, ISO);
  assert.ok(doc.finishedAt! >= doc.startedAt!);
  assert.equal(typeof doc.seconds, "number");
  const server = doc.server as Doc | null;
  assert.ok(server === null || typeof server === "object", "server: object or null");
  if (server) {
    assert.equal(typeof server.flavor, "string");
    assert.equal(typeof server.version, "string");
  }
  assert.equal(typeof doc.totals, "object");
  assert.ok(doc.totals !== null);
  assert.ok(Array.isArray(doc.warnings));
  for (const w of doc.warnings as unknown[]) assert.equal(typeof w, "string");
  if (status === "ok") assert.equal(doc.error, undefined);
  else {
    const e = doc.error as Doc;
    assert.deepEqual(Object.keys(e).sort(), ["exitCode", "kind", "message"]);
    assert.equal(typeof e.kind, "string");
    assert.equal(typeof e.message, "string");
    assert.equal(typeof e.exitCode, "number");
  }
}

/** A `tables` row: name, size, pages, lockSeconds (number or null), status. */
function row(r: Doc, status: string, locked: boolean) {
  assert.equal(typeof r.name, "string");
  assert.match(r.name as string, /^`.+`\.`.+`$/);
  assert.equal(r.status, status);
  assert.ok(Number.isInteger(r.size) && (r.size as number) > 0, `size of ${r.name}`);
  assert.ok(Number.isInteger(r.pages) && (r.pages as number) > 0, `pages of ${r.name}`);
  if (locked) assert.ok(typeof r.lockSeconds === "number" && r.lockSeconds >= 0);
  else assert.equal(r.lockSeconds, null);
}

Deno.test("--json: one document shape for every command, on success and failure", async () => {
  await using srv = await startBackupServer();
  await srv.query(
    "CREATE DATABASE j;" +
      "CREATE TABLE j.a (id INT PRIMARY KEY, v VARCHAR(100));" +
      "CREATE TABLE j.z (id INT PRIMARY KEY) ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=4;" +
      "CREATE TABLE j.m (id INT) ENGINE=MyISAM;" +
      "CREATE SEQUENCE j.s;",
  );
  for (let i = 0; i < 500; i += 100) {
    const ids = Array.from({ length: 100 }, (_, k) => i + k);
    await srv.query(`INSERT INTO j.a VALUES ${ids.map((n) => `(${n}, REPEAT('v', 90))`).join()}`);
    await srv.query(`INSERT INTO j.z VALUES ${ids.map((n) => `(${n})`).join()}`);
    await srv.query(`INSERT INTO j.m VALUES ${ids.map((n) => `(${n})`).join()}`);
  }
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-json-" });
  try {
    // backup: the server, a row per table (logical, skipped ones too), totals
    const b = await run(srv, "backup", { backupDir: `${tmp}/b`, includeTables: "^j\\." });
    assert.equal(b.error, undefined);
    common(b.doc, "backup", "ok");
    assert.equal((b.doc.server as Doc).flavor, "mariadb");
    const rows = b.doc.tables as Doc[];
    const byName = new Map(rows.map((r) => [r.name, r]));
    assert.deepEqual(rows.map((r) => r.name).sort(), ["`j`.`a`", "`j`.`m`", "`j`.`s`", "`j`.`z`"]);
    for (const n of ["`j`.`a`", "`j`.`z`"]) row(byName.get(n)!, "ok", true);
    const m = byName.get("`j`.`m`")!;
    assert.equal(m.status, "ok");
    assert.equal(m.method, "logical");
    assert.equal(m.pages, 0);
    assert.ok((m.size as number) > 0, "the logical table's DB/TABLE.sql");
    const s = byName.get("`j`.`s`")!;
    assert.equal(s.status, "skipped");
    assert.equal(s.lockSeconds, null);
    assert.match(s.reason as string, /sequence/i);
    // KEY_BLOCK_SIZE=4: pages counted in 4 KiB units
    const z = byName.get("`j`.`z`")!;
    assert.equal(z.pages, (await Deno.stat(`${tmp}/b/j/z.ibd`)).size / 4096);
    const a = byName.get("`j`.`a`")!;
    assert.equal(a.pages, (await Deno.stat(`${tmp}/b/j/a.ibd`)).size / 16384);
    const totals = b.doc.totals as Doc;
    assert.equal(totals.tables, 3);
    assert.equal(totals.logicalTables, 1);
    assert.equal(totals.skipped, 1);
    assert.equal(totals.pages, (a.pages as number) + (z.pages as number));
    assert.equal(typeof totals.bytes, "number");
    assert.equal(typeof totals.lockSeconds, "number");

    // a failure prints the same document, with the error
    const f = await run(srv, "backup", { backupDir: `${tmp}/f`, includeTables: "^nothing$" });
    assert.ok(f.error);
    common(f.doc, "backup", "error");
    assert.equal((f.doc.error as Doc).kind, "UsageError");
    assert.equal((f.doc.error as Doc).exitCode, 2);

    // backup-to-image then list-image: the recorded server, rows per table
    const img = `${tmp}/j.img`;
    const bi = await run(srv, "backup-to-image", {
      backupImage: img,
      includeTables: "^j\\.[az]$",
      compressMethod: "zstd",
    });
    common(bi.doc, "backup-to-image", "ok");
    (bi.doc.tables as Doc[]).forEach((r) => row(r, "ok", true));
    const li = await run(srv, "list-image", { backupImage: img });
    common(li.doc, "list-image", "ok");
    assert.equal((li.doc.server as Doc).flavor, "mariadb");
    (li.doc.tables as Doc[]).forEach((r) => row(r, "listed", false));
    assert.equal((li.doc.totals as Doc).tables, 2);

    // validate: per file, totals, the backup's server
    const v = await run(srv, "validate", { backupDir: `${tmp}/b` });
    common(v.doc, "validate", "ok");
    assert.equal((v.doc.server as Doc).flavor, "mariadb");
    assert.ok((v.doc.files as Doc[]).length >= 2);
    assert.equal(typeof (v.doc.totals as Doc).pages, "number");

    // image-to-backup-dir, extract: entries and bytes in totals
    const ib = await run(srv, "image-to-backup-dir", { backupImage: img, backupDir: `${tmp}/ib` });
    common(ib.doc, "image-to-backup-dir", "ok");
    assert.equal(typeof (ib.doc.totals as Doc).entries, "number");
    const ex = await run(srv, "extract", { backupImage: img, backupDir: `${tmp}/ex` });
    common(ex.doc, "extract", "ok");
    assert.equal((ex.doc.totals as Doc).bytes, ex.doc.bytes);

    // copy-back under another name: rows with their status, no lock time
    const c = await run(srv, "copy-back", {
      backupImage: img,
      includeTables: "^j\\.a$",
      rename: ["j.a TO j2.a"],
    });
    common(c.doc, "copy-back", "ok");
    assert.equal((c.doc.server as Doc).flavor, "mariadb");
    const cr = c.doc.tables as Doc[];
    assert.equal(cr.length, 1);
    row(cr[0], "restored", false);
    assert.equal(cr[0].name, "`j2`.`a`");
    assert.equal(cr[0].pages, a.pages);
    assert.deepEqual(c.doc.totals, {
      tables: 1,
      restored: 1,
      failed: 0,
      objects: 0,
      objectsFailed: 0,
      bytes: c.doc.bytes,
    });

    // copy-back that fails (the table exists now): status error, the error, the rows
    const again = await run(srv, "copy-back", {
      backupImage: img,
      includeTables: "^j\\.a$",
      rename: ["j.a TO j2.a"],
    });
    assert.ok(again.error);
    common(again.doc, "copy-back", "error");

    // apply-log: the common fields too
    const al = await run(srv, "apply-log", { backupDir: `${tmp}/b` });
    common(al.doc, "apply-log", "ok");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/**
 * Whole databases round-trip (issue 13): a database with every kind of object,
 * backed up while a writer runs, dropped, restored, compared; renamed with its
 * references rewritten; one partition restored; --strict refusing.
 */
import assert from "node:assert/strict";
import { backupCommand } from "../lib/commands/backup.ts";
import { validateCommand } from "../lib/commands/validate.ts";
import type { ThrowawayServer } from "../scripts/throwaway_server.ts";
import { startServer } from "../scripts/throwaway_server.ts";
import { contextFor } from "./fixtures/server.ts";
import { copyBack } from "./fixtures/copy_back.ts";
import { checkBehaviour, normalise, seedShop, snapshot } from "./wholedb_fixture.ts";

type Row = Record<string, unknown>;

/** Back up with the backup command; returns the directory, the run's lines and its JSON. */
async function backup(
  srv: ThrowawayServer,
  options: Record<string, unknown>,
): Promise<{ dir: string; code: number; lines: string[]; error?: Error; json?: unknown }> {
  const dir = await Deno.makeTempDir({ prefix: "ibvault-wholedb-" });
  const ctx = contextFor(srv, { backupDir: dir, force: true, json: true, ...options });
  try {
    const code = await backupCommand.run(ctx);
    return { dir, code, lines: ctx.report.lines, json: ctx.json[0] };
  } catch (err) {
    return { dir, code: -1, lines: ctx.report.lines, error: err as Error };
  }
}

/** What every whole-database backup of the fixture holds, whatever the locking mode. */
// deno-lint-ignore no-explicit-any
function assertWholeDb(manifest: any, json: unknown): void {
  assert.match(manifest.binlog.file, /^ibv-bin\.\d+$/);
  assert.ok(manifest.binlog.position > 0);
  assert.match(manifest.binlog.gtidBinlogPos, /^0-3-\d+$/);
  const kinds = manifest.objects.map((o: Row) => `${o.kind} ${o.name}`).sort();
  assert.deepEqual(kinds, [
    "event cleanup",
    "function doubled",
    "function threshold",
    "procedure add_child",
    "trigger child_log",
    "view v_big",
    "view v_child",
  ]);
  const methods = Object.fromEntries(
    manifest.tables.map((x: Row) => [x.name, x.method ?? "tts"]),
  );
  assert.deepEqual(methods, {
    child: "tts",
    legacy: "logical",
    log: "logical",
    mem: "definition",
    parent: "tts",
    parts: "tts",
    sys: "logical",
  });
  assert.ok(manifest.entries.some((e: Row) => e.path === "shop/legacy.sql"));
  // --json shows the position and the counts
  const doc = JSON.stringify(json);
  assert.match(doc, /"gtidBinlogPos":"0-3-\d+"/);
  assert.match(doc, /"objects":7/);
  assert.match(doc, /"logicalTables":4/);
}

Deno.test("whole database: backed up under writes, dropped, restored equal; renamed; one partition", async (t) => {
  await using srv = await startServer({ extraArgs: ["--log-bin=ibv-bin", "--server-id=3"] });
  await seedShop(srv);
  // a writer on an unrelated table and on the selected ones while the backup runs
  let writing = true;
  const writer = (async () => {
    let i = 0;
    while (writing) {
      await srv.query("CALL shop.add_child(?, ?)", [1 + (i % 50), i]).catch(() => {});
      i++;
    }
  })();
  const b = await backup(srv, { includeTables: "^shop\\." });
  writing = false;
  await writer;
  assert.equal(b.code, 0, b.lines.join("\n") + (b.error?.message ?? ""));
  const manifest = JSON.parse(await Deno.readTextFile(`${b.dir}/ibvault_manifest.json`));
  // the state at the lock is what the backup holds: take the snapshot from a restore
  await t.step("manifest: binlog position, every object, what was skipped", () => {
    assert.equal((b.json as Row).mode, "with-minimum-locking", "minimum locking carries it all");
    assertWholeDb(manifest, b.json);
  });

  await t.step("full locking: the same parts", async () => {
    const full = await backup(srv, { includeTables: "^shop\\.", useTts: "with-full-locking" });
    assert.equal(full.code, 0, full.lines.join("\n") + (full.error?.message ?? ""));
    assert.equal((full.json as Row).mode, "with-full-locking");
    assertWholeDb(
      JSON.parse(await Deno.readTextFile(`${full.dir}/ibvault_manifest.json`)),
      full.json,
    );
    await Deno.remove(full.dir, { recursive: true });
  });

  await t.step("an incremental carries them too; logical tables are not 'gone'", async () => {
    await srv.query("CALL shop.add_child(1, 5)");
    const inc = await backup(srv, {
      includeTables: "^shop\\.",
      incremental: true,
      incrementalBase: `dir:${b.dir}`,
    });
    assert.equal(inc.code, 0, inc.lines.join("\n") + (inc.error?.message ?? ""));
    const m = JSON.parse(await Deno.readTextFile(`${inc.dir}/ibvault_manifest.json`));
    assert.equal(m.kind, "incremental");
    assertWholeDb(m, inc.json);
    assert.equal(m.gone, undefined, JSON.stringify(m.gone));
    assert.notEqual(m.binlog.position, manifest.binlog.position, "read at this backup's lock");
    await Deno.remove(inc.dir, { recursive: true });
  });

  await t.step("--strict refuses and names what TTS cannot carry", async () => {
    const strict = await backup(srv, { includeTables: "^shop\\.", strict: true });
    assert.equal(strict.code, -1);
    assert.match(strict.error!.message, /--strict: 4 selected table\(s\)/);
    for (const name of ["legacy", "log", "mem", "sys"]) {
      assert.match(strict.error!.message, new RegExp("`shop`.`" + name + "`"));
    }
    await Deno.remove(strict.dir, { recursive: true });
  });
  await t.step("--lock-per-table: the logical tables under a lock of their own", async () => {
    const per = await backup(srv, { includeTables: "^shop\\.", lockPerTable: true });
    assert.equal(per.code, 0, per.lines.join("\n") + (per.error?.message ?? ""));
    const m = JSON.parse(await Deno.readTextFile(`${per.dir}/ibvault_manifest.json`));
    assert.equal(m.tables.filter((x: Row) => x.method === "logical").length, 3);
    assert.ok(m.binlog.position > 0);
    await Deno.remove(per.dir, { recursive: true });
  });

  await t.step("validate: the logical entries check out beside the tablespaces", async () => {
    const ctx = contextFor(srv, { backupDir: b.dir });
    assert.equal(await validateCommand.run(ctx), 0, ctx.report.lines.join("\n"));
  });

  const before = normalise(await snapshot(srv, "shop"));

  await t.step("dropped and copied back: every object equal, rows consistent", async () => {
    await srv.query("DROP DATABASE shop");
    const run = await copyBack(srv, { backupDir: b.dir });
    assert.equal(run.code, 0, run.lines.join("\n"));
    const after = normalise(await snapshot(srv, "shop"));
    assert.deepEqual(after, before);
    await checkBehaviour(srv, "shop");
  });

  await t.step("--rename 'shop TO shop_copy': references rewritten", async () => {
    const run = await copyBack(srv, { backupDir: b.dir, rename: ["shop TO shop_copy"] });
    assert.equal(run.code, 0, run.lines.join("\n"));
    const copy = await snapshot(srv, "shop_copy");
    for (const [k, v] of Object.entries(copy)) {
      if (k.startsWith("checksum")) continue;
      assert.doesNotMatch(JSON.stringify(v), /`shop`|shop\./, `${k} still names shop`);
    }
    await checkBehaviour(srv, "shop_copy");
    const [n] = await srv.query<Row[]>("SELECT COUNT(*) AS n FROM shop.log");
    await srv.query("CALL shop_copy.add_child(1, 1)");
    const [m] = await srv.query<Row[]>("SELECT COUNT(*) AS n FROM shop.log");
    assert.equal(m.n, n.n, "the copy's trigger writes into the copy");
  });

  await t.step("one partition into the existing table", async () => {
    const [want] = await srv.query<Row[]>("CHECKSUM TABLE shop.parts");
    await srv.query("ALTER TABLE shop.parts TRUNCATE PARTITION p1");
    const refused = await copyBack(srv, {
      backupDir: b.dir,
      includeTables: "^shop\\.parts$",
      includePartitions: "^p[01]$",
    });
    assert.notEqual(refused.code, 0);
    assert.match(refused.lines.join("\n"), /partition p0 holds \d+ row/);
    const run = await copyBack(srv, {
      backupDir: b.dir,
      includeTables: "^shop\\.parts$",
      includePartitions: "^p1$",
    });
    assert.equal(run.code, 0, run.lines.join("\n"));
    const [got] = await srv.query<Row[]>("CHECKSUM TABLE shop.parts");
    assert.equal(got.Checksum, want.Checksum);
  });

  await Deno.remove(b.dir, { recursive: true });
});

import assert from "node:assert/strict";
import type { ThrowawayServer } from "../scripts/throwaway_server.ts";
import { backupCommand } from "../lib/commands/backup.ts";
import { openExport, planBackup } from "../lib/commands/backup_common.ts";
import { selectionSpec } from "../lib/commands/selection.ts";
import { endQuietly } from "../lib/server/connection.ts";
import { type Manifest, MANIFEST_FILE } from "../lib/core/manifest.ts";
import { crc32c } from "../lib/kernels/mod.ts";
import { validateFiles } from "../lib/innodb/validator.ts";
import { parseAlgorithm } from "../lib/innodb/algorithm.ts";
import { contextFor, seed, startBackupServer, writable } from "./fixtures/server.ts";
import { listFiles } from "./fixtures/tree.ts";

async function readManifest(dir: string): Promise<Manifest> {
  return JSON.parse(await Deno.readTextFile(`${dir}/${MANIFEST_FILE}`));
}

/** Run `backup` in-process; on the first chunk copied, call `during`. */
async function backup(
  srv: ThrowawayServer,
  dir: string,
  options: Record<string, unknown>,
  during?: () => Promise<void>,
) {
  const ctx = contextFor(srv, { backupDir: dir, json: true, ...options });
  let pending: Promise<void> | undefined;
  if (during) ctx.report.onProgress = () => void (pending ??= during());
  const code = await backupCommand.run(ctx);
  await pending;
  return { code, ctx };
}

Deno.test("backup: a consistent, valid backup directory of the selected tables", async (t) => {
  await using srv = await startBackupServer();
  await seed(srv);
  const tmp = await Deno.makeTempDir();
  try {
    await t.step("^db\\.à takes àbc and à123, files encoded, manifest last", async () => {
      const dir = `${tmp}/a`;
      const { code, ctx } = await backup(srv, dir, { includeTables: "^db\\.à" });
      assert.equal(code, 0);
      assert.deepEqual(await listFiles(dir), [
        "db/@0g123.cfg",
        "db/@0g123.ibd",
        "db/@0gbc.cfg",
        "db/@0gbc.ibd",
        MANIFEST_FILE,
      ]);
      const m = await readManifest(dir);
      assert.deepEqual(m.tables.map((x) => x.name).sort(), ["à123", "àbc"]);
      assert.equal(m.server?.flavor, "mariadb");
      assert.equal(m.server?.checksumAlgorithm, "full_crc32");
      assert.deepEqual(m.databases.map((d) => d.dir), ["db"]);
      assert.match(m.databases[0].createStatement, /utf8mb4_unicode_ci/);
      for (const e of m.entries) {
        const bytes = await Deno.readFile(`${dir}/${e.path}`);
        assert.equal(bytes.length, e.size, e.path);
        assert.equal(crc32c(bytes).toString(16).padStart(8, "0"), e.crc32c, e.path);
      }
      const summary = ctx.json[0] as { totals: { tables: number }; lockSeconds: number };
      assert.equal(summary.totals.tables, 2);
      assert.ok(summary.lockSeconds > 0);
      assert.ok(
        ctx.report.lines.some((l) => /tables locked \d+\.\d+ s/.test(l)),
        ctx.report.lines.join("\n"),
      );
      // unlocked afterwards, and the server removed its .cfg files
      assert.ok(await writable(srv, "db.`àbc`"));
      assert.ok(!(await listFiles(`${srv.datadir}/db`)).some((f) => f.endsWith(".cfg")));
    });

    await t.step(
      "the whole server: every page valid, CREATE statements recreate the tables",
      async () => {
        const dir = `${tmp}/all`;
        const { code } = await backup(srv, dir, {});
        assert.equal(code, 0);
        const m = await readManifest(dir);
        const names = m.tables.map((x) => `${x.database}.${x.name}`).sort();
        assert.deepEqual(names, [
          "db.déf",
          "db.à123",
          "db.àbc",
          "other.busy",
          "other.my",
          "other.parts",
          "weird db.t t",
        ]);
        assert.equal(m.tables.find((x) => x.name === "my")!.method, "logical");
        const parts = m.tables.find((x) => x.name === "parts")!;
        assert.equal(parts.files.length, 6);
        const ibds = m.entries.filter((e) => e.path.endsWith(".ibd"));
        const reports = await validateFiles(
          ibds.map((e) => ({ path: `${dir}/${e.path}`, name: e.path })),
          { algorithm: parseAlgorithm(m.server!.checksumAlgorithm) },
        );
        for (const r of reports) assert.equal(r.status, "valid", `${r.name}: ${JSON.stringify(r)}`);
        // Recreate every table from the manifest in a fresh database and compare.
        for (const db of m.databases) {
          const copy = `copy_${db.dir.replace(/@/g, "_")}`;
          const stmt = db.createStatement.replace(
            /^CREATE DATABASE `(?:[^`]|``)+`/,
            `CREATE DATABASE \`${copy}\``,
          );
          await srv.query(stmt);
          const [orig] = await srv.query<{ [k: string]: string }[]>(
            "SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            [db.name],
          );
          const [made] = await srv.query<{ [k: string]: string }[]>(
            "SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            [copy],
          );
          assert.deepEqual(made, orig);
          for (const tbl of m.tables.filter((x) => x.database === db.name)) {
            await srv.query(`USE \`${copy}\`; ${tbl.createStatement}`);
            const show = await srv.query<Record<string, string>[]>(
              `SHOW CREATE TABLE \`${copy}\`.\`${tbl.name}\``,
            );
            assert.equal(show[0]["Create Table"], tbl.createStatement);
          }
        }
      },
    );

    await t.step("writes go on to other tables while the selected ones are exported", async () => {
      // Drive the export source directly, probing the locks between two entries.
      const ctx = contextFor(srv, { includeTables: "^db\\." });
      const plan = await planBackup(ctx, selectionSpec(ctx.options));
      const source = await openExport(ctx, plan);
      try {
        let probed = false;
        for await (const e of source.entries()) {
          for await (const _ of e.data) { /* consume */ }
          if (probed) continue;
          probed = true;
          assert.ok(await writable(srv, "other.busy"), "other.busy was locked");
          await srv.query("INSERT INTO other.busy (v) VALUES (1)");
          for (const t of ["db.`àbc`", "db.`à123`", "db.`déf`"]) {
            assert.ok(!(await writable(srv, t)), `${t} was not locked during the copy`);
          }
        }
        assert.ok(source.completed);
        assert.equal(source.seen.size, 6);
      } finally {
        await source.close();
        await endQuietly(plan.conn);
      }
      assert.ok(await writable(srv, "db.`àbc`"));
    });

    await t.step("--lock-per-table locks one table at a time", async () => {
      const dir = `${tmp}/per`;
      const { code, ctx } = await backup(srv, dir, { includeTables: "^db\\.", lockPerTable: true });
      assert.equal(code, 0);
      const locks = ctx.report.lines.filter((l) => l.startsWith("info: locked"));
      assert.equal(locks.length, 3, ctx.report.lines.join("\n"));
      assert.equal((await readManifest(dir)).entries.length, 6);
    });

    await t.step("--lock-per-table: a table altered before its turn fails the backup", async () => {
      const ctx = contextFor(srv, { includeTables: "^db\\.d", lockPerTable: true });
      const plan = await planBackup(ctx, selectionSpec(ctx.options));
      const source = await openExport(ctx, plan);
      try {
        await srv.query("ALTER TABLE db.`déf` ADD COLUMN extra INT");
        await assert.rejects(async () => {
          for await (const e of source.entries()) for await (const _ of e.data) { /* read */ }
        }, /was altered during the backup/);
        assert.ok(!source.completed);
      } finally {
        await source.close();
        await endQuietly(plan.conn);
      }
      assert.ok(await writable(srv, "db.`déf`"));
    });

    await t.step("destination not empty: refused, then --force replaces the backup", async () => {
      const dir = `${tmp}/a`;
      await assert.rejects(
        () => backup(srv, dir, { includeTables: "^db\\.d" }),
        /is not empty \(use --force/,
      );
      const { code } = await backup(srv, dir, { includeTables: "^db\\.d", force: true });
      assert.equal(code, 0);
      assert.deepEqual((await readManifest(dir)).tables.map((x) => x.name), ["déf"]);
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

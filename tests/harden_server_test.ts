/**
 * Issue 11 against the real throwaway MariaDB: --lock-per-table under concurrent
 * inserts (item 22), --lock-wait-timeout behind a real open transaction (23),
 * validate of a running server's data directory (19), and validate/imaging of
 * incomplete or corrupt backup directories (8, 9).
 */
import assert from "node:assert/strict";
import mysql from "mysql2/promise";
import { backupCommand } from "../lib/commands/backup.ts";
import { openExport, planBackup } from "../lib/commands/backup_common.ts";
import { selectionSpec } from "../lib/commands/selection.ts";
import { validateCommand } from "../lib/commands/validate.ts";
import { backupDirToImageCommand } from "../lib/commands/backup_dir_to_image.ts";
import { endQuietly } from "../lib/server/connection.ts";
import { sameDefinition } from "../lib/server/lock_wait.ts";
import { CorruptionError, exitCodeOf, ServerError } from "../lib/errors.ts";
import { contextFor, startBackupServer } from "./fixtures/server.ts";

async function outcome(p: Promise<number>): Promise<{ code: number; err?: Error }> {
  try {
    return { code: await p };
  } catch (e) {
    return { code: exitCodeOf(e), err: e as Error };
  }
}

Deno.test("sameDefinition: AUTO_INCREMENT=N is not part of a table's definition", () => {
  const a =
    "CREATE TABLE `t` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=latin1";
  assert.ok(sameDefinition(a, a.replace("AUTO_INCREMENT=5", "AUTO_INCREMENT=912")));
  assert.ok(sameDefinition(a, a.replace(" AUTO_INCREMENT=5", "")));
  assert.ok(!sameDefinition(a, a.replace("int(11)", "bigint(20)")));
  assert.ok(!sameDefinition(a, a.replace("NOT NULL AUTO_INCREMENT", "NOT NULL")));
});

Deno.test("server: --lock-per-table, --lock-wait-timeout, validate of a live datadir, backup dirs without manifest or with corrupt pages", async (t) => {
  await using srv = await startBackupServer();
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-harden-" });
  let setup = "CREATE DATABASE db; USE db;";
  for (let i = 0; i < 6; i++) {
    setup += `CREATE TABLE db.t${i} (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(200));` +
      `INSERT INTO db.t${i} (v) SELECT REPEAT('x', 200) FROM seq_1_to_3000;`;
  }
  await srv.query(setup);
  try {
    await t.step(
      "--lock-per-table: inserts between the CREATE read and each lock do not fail it",
      async () => {
        const ctx = contextFor(srv, { includeTables: "^db\\.", lockPerTable: true });
        const plan = await planBackup(ctx, selectionSpec(ctx.options));
        const source = await openExport(ctx, plan);
        try {
          // Every table's AUTO_INCREMENT moves after its CREATE statement was recorded.
          for (let i = 0; i < 6; i++) await srv.query(`INSERT INTO db.t${i} (v) VALUES ('later')`);
          let n = 0;
          for await (const e of source.entries()) {
            for await (const _ of e.data) { /* read */ }
            n++;
          }
          assert.equal(n, 12);
          assert.ok(source.completed);
        } finally {
          await source.close();
          await endQuietly(plan.conn);
        }
      },
    );

    await t.step(
      "--lock-per-table under concurrent inserts: the whole backup completes",
      async () => {
        const conn = await mysql.createConnection({ socketPath: srv.socket, user: "root" });
        let stop = false;
        let inserts = 0;
        const writer = (async () => {
          while (!stop) {
            await conn.query(`INSERT INTO db.t${inserts % 6} (v) VALUES ('concurrent')`);
            inserts++;
          }
        })();
        try {
          const ctx = contextFor(srv, {
            backupDir: `${tmp}/lpt`,
            includeTables: "^db\\.",
            lockPerTable: true,
          });
          const r = await outcome(backupCommand.run(ctx));
          assert.equal(r.code, 0, `${r.err?.message}\n${ctx.report.lines.join("\n")}`);
        } finally {
          stop = true;
          await writer;
          await conn.end();
        }
        console.log(`  ${inserts} inserts ran during the --lock-per-table backup`);
        assert.ok(inserts > 0);
      },
    );

    await t.step(
      "--lock-wait-timeout: behind an open transaction, exit 3 naming the session, nothing locked",
      async () => {
        const holder = await mysql.createConnection({ socketPath: srv.socket, user: "root" });
        try {
          await holder.query("BEGIN");
          await holder.query("UPDATE db.t2 SET v = 'held' WHERE id = 1");
          const ctx = contextFor(srv, {
            backupDir: `${tmp}/lw`,
            includeTables: "^db\\.t[12]$",
            lockWaitTimeout: 2,
          });
          const t0 = performance.now();
          const r = await outcome(backupCommand.run(ctx));
          const seconds = (performance.now() - t0) / 1000;
          assert.equal(r.code, 3, String(r.err?.message));
          assert.ok(r.err instanceof ServerError);
          assert.match(r.err!.message, /waited 2 s \(--lock-wait-timeout\)/);
          assert.match(
            r.err!.message,
            new RegExp(
              `blocked by session ${holder.threadId} \\(root@localhost, in a transaction since`,
            ),
          );
          assert.match(r.err!.message, /Nothing is locked now/);
          assert.ok(seconds >= 1.9 && seconds < 30, `took ${seconds.toFixed(1)} s`);
          // Nothing of the backup waits or holds a lock: other writers go on at once.
          const [procs] = await holder.query(
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'FLUSH TABLES%'",
          ) as unknown as [{ n: number }[]];
          assert.equal(Number(procs[0].n), 0);
          await srv.query("INSERT INTO db.t1 (v) VALUES ('free')");
          await holder.query("COMMIT");
          // Once the transaction ends, the same backup goes through.
          const again = contextFor(srv, {
            backupDir: `${tmp}/lw`,
            includeTables: "^db\\.t[12]$",
            lockWaitTimeout: 2,
            force: true,
          });
          assert.equal(await backupCommand.run(again), 0);
        } finally {
          await holder.end();
        }
      },
    );

    await t.step(
      "validate --datadir of a running server warns that pages may be torn",
      async () => {
        const ctx = contextFor(srv, { datadir: srv.datadir, threads: 1 });
        await outcome(validateCommand.run(ctx));
        const text = ctx.report.lines.join("\n");
        assert.match(
          text,
          /warn: .* is in use by a running server \(process \d+ holds ibdata1\)/,
          text,
        );
        assert.match(text, /may be reported as torn/);
      },
    );

    await t.step(
      "validate --backup-dir of a directory whose manifest was deleted: exit 1",
      async () => {
        const dir = `${tmp}/lpt`;
        const ok = contextFor(srv, { backupDir: dir });
        assert.equal(await validateCommand.run(ok), 0);
        await Deno.remove(`${dir}/ibvault_manifest.json`);
        const r = await outcome(validateCommand.run(contextFor(srv, { backupDir: dir })));
        assert.equal(r.code, 1, String(r.err?.message));
        assert.ok(r.err instanceof CorruptionError);
        assert.match(r.err!.message, /is not a valid backup: it has no ibvault_manifest\.json/);
        assert.match(r.err!.message, /--datadir=/);
        // Its .ibd files can still be checked as plain files.
        assert.equal(await validateCommand.run(contextFor(srv, { datadir: dir })), 0);
      },
    );

    await t.step(
      "backup-dir-to-image of corrupt pages: the image is written, exit 1 (0 with --skip-page-check)",
      async () => {
        const dir = `${tmp}/lpt`;
        const file = `${dir}/db/t3.ibd`;
        const bytes = await Deno.readFile(file);
        bytes[16384 * 3 + 500] ^= 0xff;
        await Deno.writeFile(file, bytes);
        const ctx = contextFor(srv, { backupDir: dir, backupImage: `${tmp}/c.ibv` });
        const r = await outcome(backupDirToImageCommand.run(ctx));
        assert.equal(r.code, 1, `${r.err?.message}\n${ctx.report.lines.join("\n")}`);
        assert.match(ctx.report.lines.join("\n"), /db\/t3\.ibd: page 3: /);
        assert.ok(
          (await Deno.stat(`${tmp}/c.ibv`)).size > bytes.length,
          "the image was not written",
        );
        const skip = contextFor(srv, {
          backupDir: dir,
          backupImage: `${tmp}/s.ibv`,
          skipPageCheck: true,
        });
        assert.equal(await backupDirToImageCommand.run(skip), 0);
      },
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

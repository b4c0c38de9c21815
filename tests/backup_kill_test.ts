/**
 * A `backup` stopped mid-run leaves no finished table files behind as if they
 * were a backup (issue 11 item 7). The built binary is held mid-run by a real
 * open transaction (its FLUSH TABLES ... FOR EXPORT waits, after some table
 * files are finished), then:
 * - SIGKILL: nothing can clean up; the directory keeps `ibvault_incomplete`,
 *   which says so, and the next `backup` into it removes the files that run
 *   created and succeeds (it used to fail with "is not empty");
 * - SIGTERM: the run removes what it created itself, exits 3, tables unlocked.
 * Both the minimum-locking (default) and the full-locking directory sinks.
 */
import assert from "node:assert/strict";
import mysql from "mysql2/promise";
import { BINARY } from "./cli_helpers.ts";
import { contextFor, startBackupServer, writable } from "./fixtures/server.ts";
import { exists, listFiles } from "./fixtures/tree.ts";
import { JOURNAL_FILE } from "../lib/core/write_journal.ts";
import { MANIFEST_FILE } from "../lib/core/manifest.ts";
import { isRunLogPath } from "../lib/core/run_log_path.ts";
import type { ThrowawayServer } from "../scripts/throwaway_server.ts";
import type { Command } from "../lib/commands/command.ts";
import type { Options } from "../lib/commands/options.ts";
import { backupCommand } from "../lib/commands/backup.ts";
import { backupToImageCommand } from "../lib/commands/backup_to_image.ts";

function backup(srv: ThrowawayServer, dir: string, extra: string[]): Deno.ChildProcess {
  return new Deno.Command(BINARY, {
    args: [
      "backup",
      "--no-defaults",
      `--socket=${srv.socket}`,
      "--user=root",
      "--include-tables=^db\\.",
      `--backup-dir=${dir}`,
      "--no-progress",
      ...extra,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Wait until the backup's FLUSH TABLES ... FOR EXPORT of the held table (db.t2)
 * waits behind the open transaction (another table's flush may wait for a moment
 * on its own: that is not the point looked for).
 */
async function waitForFlush(srv: ThrowawayServer, child: Deno.ChildProcess): Promise<void> {
  const t0 = performance.now();
  let exited = false;
  child.status.then(() => (exited = true));
  while (performance.now() - t0 < 60_000) {
    assert.ok(!exited, "the backup ended before it waited for the lock");
    const rows = await srv.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST " +
        "WHERE INFO LIKE 'FLUSH TABLES%`t2`%FOR EXPORT' AND STATE LIKE '%lock%'",
    );
    if (Number(rows[0].n) > 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the backup never waited for the lock");
}

const tableFiles = (files: string[]) => files.filter((f) => /\.(ibd|cfg)$/.test(f));
/** What a run left apart from its run log (meta/ibvault_*.log, kept on purpose). */
const notLogs = (files: string[]) => files.filter((f) => !isRunLogPath(f));

Deno.test("binary: a killed backup leaves ibvault_incomplete and the next run clears it; SIGTERM cleans up itself", async (t) => {
  await using srv = await startBackupServer();
  let setup = "CREATE DATABASE db; USE db;";
  for (let i = 0; i < 3; i++) {
    setup += `CREATE TABLE t${i} (id INT PRIMARY KEY, v VARCHAR(200));` +
      `INSERT INTO t${i} SELECT seq, REPEAT('k', 200) FROM seq_1_to_3000;`;
  }
  await srv.query(setup);
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-kill-" });
  const modes: [string, string[]][] = [
    ["minimum locking", []],
    ["full locking, per table", ["--use-tts=with-full-locking", "--lock-per-table"]],
  ];
  try {
    for (const [mode, extra] of modes) {
      for (const signal of ["SIGKILL", "SIGTERM"] as const) {
        await t.step(`${mode}: ${signal}`, async () => {
          const dir = `${tmp}/${mode.replace(/\W+/g, "-")}-${signal}`;
          // The last table is held by an open transaction: its export lock waits.
          const holder = await mysql.createConnection({ socketPath: srv.socket, user: "root" });
          let child: Deno.ChildProcess | undefined;
          try {
            await holder.query("BEGIN");
            await holder.query("UPDATE db.t2 SET v = 'held' WHERE id = 1");
            child = backup(srv, dir, extra);
            await waitForFlush(srv, child);
            const before = tableFiles(await listFiles(dir));
            assert.ok(before.length > 0, `${mode}: no finished table file before the signal`);
            child.kill(signal);
            const [out, status] = await Promise.all([child.output(), child.status]);
            const stderr = new TextDecoder().decode(out.stderr);
            const left = notLogs(await listFiles(dir));
            if (signal === "SIGKILL") {
              assert.equal(status.signal, "SIGKILL");
              // What remains says it is incomplete, and is not a backup.
              assert.ok(left.includes(JOURNAL_FILE), left.join(" "));
              assert.ok(!left.includes(MANIFEST_FILE));
              // validate says why it is not a backup, and what to do.
              const v = await new Deno.Command(BINARY, {
                args: ["validate", "--no-defaults", "--no-log", `--backup-dir=${dir}`],
                stderr: "piped",
              }).output();
              assert.equal(v.code, 1);
              assert.match(
                new TextDecoder().decode(v.stderr),
                /its ibvault_incomplete says a run writing it did not finish \(killed\?\): run it again/,
              );
            } else {
              assert.equal(status.code, 3, stderr);
              assert.doesNotMatch(stderr, /completed OK/);
              assert.deepEqual(left, [], `${mode}: left after ${signal}: ${left.join(" ")}`);
            }
            console.log(
              `  ${mode}, ${signal}: ${before.length} table files before, left: ${
                left.join(" ") || "nothing"
              }`,
            );
          } finally {
            if (child) {
              try {
                child.kill("SIGKILL"); // still running after a failed assertion
              } catch { /* ended */ }
              await child.status.catch(() => {});
            }
            await holder.query("ROLLBACK").catch(() => {});
            await holder.end();
          }
          for (const table of ["db.t0", "db.t1", "db.t2"]) {
            assert.ok(await writable(srv, table), `${table} stayed locked`);
          }
          // The next run into the same directory (no --force) completes.
          const again = await backup(srv, dir, extra).output();
          const stderr = new TextDecoder().decode(again.stderr);
          assert.equal(again.code, 0, stderr);
          assert.match(stderr, /completed OK!\n$/);
          if (signal === "SIGKILL") {
            assert.match(stderr, /removed .*db\/t0\.ibd, left by an interrupted run/);
          }
          assert.ok(await exists(`${dir}/${MANIFEST_FILE}`));
          assert.ok(!(await exists(`${dir}/${JOURNAL_FILE}`)));
        });
      }
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a signal right after the last unlock (files being flushed, manifest or image end still to write) stops the run and leaves nothing", async (t) => {
  await using srv = await startBackupServer();
  let setup = "CREATE DATABASE db; USE db;";
  for (let i = 0; i < 3; i++) {
    setup += `CREATE TABLE t${i} (id INT PRIMARY KEY, v VARCHAR(200));` +
      `INSERT INTO t${i} SELECT seq, REPEAT('n', 200) FROM seq_1_to_2000;`;
  }
  await srv.query(setup);
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-late-signal-" });
  const cases: [string, Partial<Options>, Command][] = [
    ["backup, minimum locking", {}, backupCommand],
    ["backup, full locking", { useTts: "with-full-locking" }, backupCommand],
    ["backup-to-image FILE, minimum locking", { backupImage: "image" }, backupToImageCommand],
    [
      "backup-to-image FILE, full locking",
      { backupImage: "image", useTts: "with-full-locking" },
      backupToImageCommand,
    ],
  ];
  try {
    for (const [what, options, command] of cases) {
      await t.step(what, async () => {
        const out = `${tmp}/${what.replace(/\W+/g, "-")}`;
        const image = options.backupImage ? `${out}.ibv` : undefined;
        const controller = new AbortController();
        const ctx = contextFor(srv, {
          includeTables: "^db\\.",
          ...options,
          ...(image ? { backupImage: image } : { backupDir: out }),
        }, controller);
        const info = ctx.report.info;
        ctx.report.info = (m: string) => {
          info(m);
          if (/^unlocked /.test(m)) controller.abort(new Error("interrupted by SIGINT"));
        };
        const failed = await command.run(ctx).then(() => undefined, (e: Error) => e);
        assert.ok(controller.signal.aborted, `${what}: never unlocked`);
        // The interrupt is honoured: the run stops before its manifest or image end...
        assert.match(String(failed?.message), /interrupted by SIGINT/, what);
        for (const table of ["db.t0", "db.t1", "db.t2"]) {
          assert.ok(await writable(srv, table), `${what}: ${table} stayed locked`);
        }
        // ...and leaves nothing: no image, no part file, no table file, no journal.
        const left = image
          ? [...Deno.readDirSync(tmp)].map((e) => e.name).filter((n) =>
            n.startsWith(`${what.replace(/\W+/g, "-")}.ibv`)
          )
          : await exists(out)
          ? notLogs(await listFiles(out))
          : [];
        assert.deepEqual(left, [], `${what}: left ${left.join(" ")}`);
      });
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

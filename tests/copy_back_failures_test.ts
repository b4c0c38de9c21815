/**
 * copy-back failure injection against real servers: an existing target, a
 * corrupt page, a missing .cfg, another page size, a server killed mid-restore.
 * Each time the server is left as it was (or, after the crash, reported as it is).
 */
import assert from "node:assert/strict";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";
import { backupTo, checksum, copyBack } from "./fixtures/copy_back.ts";
import { listFiles } from "./fixtures/tree.ts";
import { commandHelp } from "../lib/commands/help.ts";
import { copyBackCommand } from "../lib/commands/copy_back.ts";

async function tables(srv: ThrowawayServer, db: string): Promise<string[]> {
  const rows = await srv.query<{ n: string }[]>(
    "SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
    [db],
  );
  return rows.map((r) => r.n).sort();
}

async function seed(srv: ThrowawayServer): Promise<void> {
  await srv.query(
    "CREATE DATABASE db; USE db;" +
      "CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(100));" +
      "CREATE TABLE b (id INT PRIMARY KEY, v VARCHAR(100));" +
      "CREATE TABLE c (id INT PRIMARY KEY, v VARCHAR(100));" +
      "INSERT INTO a SELECT seq, REPEAT('a', 90) FROM seq_1_to_2000;" +
      "INSERT INTO b SELECT seq, REPEAT('b', 90) FROM seq_1_to_2000;" +
      "INSERT INTO c SELECT seq, REPEAT('c', 90) FROM seq_1_to_2000",
  );
}

function noStage(srv: ThrowawayServer): void {
  const left = [...Deno.readDirSync(srv.datadir)].filter((e) => e.name.startsWith("#ibvault"));
  assert.deepEqual(left, []);
}

Deno.test("copy-back: existing target tables stop the run before anything is touched", async () => {
  await using srv = await startServer();
  await seed(srv);
  const dir = await backupTo(srv, "^db\\.");
  try {
    await srv.query("DROP TABLE db.b");
    const before = await listFiles(`${srv.datadir}/db`);
    const run = await copyBack(srv, {
      backupDir: dir,
      includeTables: "^db\\.[bc]$",
      rename: ["db.c TO db.a"],
    });
    assert.equal(run.code, 3, run.lines.join("\n"));
    assert.match(run.error!.message, /nothing was restored/);
    assert.match(run.error!.message, /`db`\.`a` already exists/);
    assert.deepEqual(await tables(srv, "db"), ["a", "c"]);
    assert.deepEqual(await listFiles(`${srv.datadir}/db`), before);
    // Two tables onto one name is a usage error.
    const clash = await copyBack(srv, { backupDir: dir, rename: ["db.c TO db.a"] });
    assert.equal(clash.code, 2);
    assert.match(clash.error!.message, /would both be restored as `db`\.`a`/);
    // --force does not overwrite either.
    const forced = await copyBack(srv, { backupDir: dir, force: true, includeTables: "^db\\.a$" });
    assert.equal(forced.code, 3);
    assert.match(forced.error!.message, /never overwrites/);
    noStage(srv);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copy-back: a corrupt page is refused before import, nothing left behind", async () => {
  await using srv = await startServer();
  await seed(srv);
  const dir = await backupTo(srv, "^db\\.");
  try {
    const file = `${dir}/db/b.ibd`;
    const bytes = Deno.readFileSync(file);
    bytes.fill(0x5a, 3 * 16384 + 200, 3 * 16384 + 300);
    Deno.writeFileSync(file, bytes);
    const before = await listFiles(`${srv.datadir}/db`);
    const run = await copyBack(srv, {
      backupDir: dir,
      includeTables: "^db\\.b$",
      rename: ["db.b TO db.b2"],
    });
    assert.equal(run.code, 1, run.lines.join("\n"));
    assert.match(run.lines.join("\n"), /page 3/);
    assert.match(run.error!.message, /`db`\.`b2`/);
    assert.deepEqual(await tables(srv, "db"), ["a", "b", "c"]);
    assert.deepEqual(await listFiles(`${srv.datadir}/db`), before);
    const json = run.json as { tables: { status: string }[]; restored: number };
    assert.equal(json.restored, 0);
    assert.equal(json.tables[0].status, "failed");
    noStage(srv);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copy-back: a missing .cfg file is an incomplete backup; no .cfg at all needs --force", async () => {
  await using srv = await startServer();
  await seed(srv);
  const dir = await backupTo(srv, "^db\\.a$");
  try {
    await Deno.remove(`${dir}/db/a.cfg`);
    const missing = await copyBack(srv, { backupDir: dir, rename: ["db.a TO db.a2"] });
    assert.equal(missing.code, 3);
    assert.match(missing.error!.message, /incomplete: .*db\/a\.cfg/);
    // --force does not cover a listed file that is missing, and both the message and
    // the help say so (the help once promised it did), with what to do instead.
    const stillMissing = await copyBack(srv, {
      backupDir: dir,
      rename: ["db.a TO db.a2"],
      force: true,
    });
    assert.equal(stillMissing.code, 3);
    assert.match(
      stillMissing.error!.message,
      /missing db\/a\.cfg \(listed in its manifest; --force does not import without them\): copy them back/,
    );
    const help = commandHelp(copyBackCommand);
    assert.match(help, /--force does not\s+override: copy the file back/);
    assert.match(help, /--force +allow the adjustments named above \(no \.cfg in the backup/);
    assert.doesNotMatch(help, /--force +allow writing into a non-empty destination/);
    // A backup that has no .cfg for the table at all (its manifest lists none).
    const manifestFile = `${dir}/ibvault_manifest.json`;
    const manifest = JSON.parse(Deno.readTextFileSync(manifestFile));
    manifest.tables[0].files = manifest.tables[0].files.filter((f: string) => f !== "db/a.cfg");
    manifest.entries = manifest.entries.filter((e: { path: string }) => e.path !== "db/a.cfg");
    Deno.writeTextFileSync(manifestFile, JSON.stringify(manifest));
    const refused = await copyBack(srv, { backupDir: dir, rename: ["db.a TO db.a2"] });
    assert.equal(refused.code, 3);
    assert.match(refused.error!.message, /no \.cfg/);
    assert.deepEqual(await tables(srv, "db"), ["a", "b", "c"]);
    const forced = await copyBack(srv, { backupDir: dir, rename: ["db.a TO db.a2"], force: true });
    assert.equal(forced.code, 0, forced.lines.join("\n"));
    assert.match(forced.lines.join("\n"), /without schema verification/);
    assert.equal(await checksum(srv, "db.a2"), await checksum(srv, "db.a"));
    noStage(srv);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copy-back: another page size is refused before anything is touched", async () => {
  await using src = await startServer();
  await using dst = await startServer({ pageSize: 8192 });
  await seed(src);
  const dir = await backupTo(src, "^db\\.a$");
  try {
    const run = await copyBack(dst, { backupDir: dir });
    assert.equal(run.code, 3);
    assert.match(run.error!.message, /innodb_page_size 16384 and the server 8192/);
    assert.deepEqual(await tables(dst, "db"), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copy-back: a server killed mid-restore; the next run reports what is there", async () => {
  const srv = await startServer();
  let restarted: ThrowawayServer | undefined;
  const dir = await (async () => {
    await seed(srv);
    return await backupTo(srv, "^db\\.");
  })();
  try {
    const renames = ["db.a TO db.a2", "db.b TO db.b2", "db.c TO db.c2"];
    let killed = false;
    const run = await copyBack(srv, { backupDir: dir, rename: renames, verbose: true }, (ctx) => {
      const info = ctx.report.info;
      ctx.report.info = (m: string) => {
        info(m);
        // Kill the server once b2 was discarded and its files are being placed.
        if (!killed && m.includes("`b2`: place")) {
          killed = true;
          Deno.kill(srv.pid, "SIGKILL");
        }
      };
    });
    assert.ok(killed);
    assert.equal(run.code, 3, run.lines.join("\n"));
    const json = run.json as { tables: { targetTable: string; status: string }[] };
    assert.deepEqual(json.tables.map((t) => [t.targetTable, t.status]), [
      ["a2", "restored"],
      ["b2", "failed"],
      ["c2", "not-attempted"],
    ]);
    assert.match(run.error!.message, /2 of 3 table\(s\) not restored: `db`\.`b2`, `db`\.`c2`/);
    // The loss is named as such, never by the driver's "closed state" text.
    const said = [...run.lines, run.error!.message].join("\n");
    assert.match(said, /the connection to the server was lost/);
    assert.doesNotMatch(said, /closed state|Can't add new command/);
    noStage(srv);
    await srv.kill();
    await srv.stop({ keepDatadir: true });
    restarted = await startServer({ datadir: srv.datadir });
    const again = await copyBack(restarted, { backupDir: dir, rename: renames });
    assert.equal(again.code, 3);
    console.log(`after the crash: ${again.error!.message}`);
    assert.match(again.error!.message, /`db`\.`a2` already exists on the server;/);
    assert.match(
      again.error!.message,
      /`db`\.`b2` already exists on the server \(its tablespace is discarded/,
    );
    assert.doesNotMatch(again.error!.message, /`c2`/);
    assert.equal(await checksum(restarted, "db.a2"), await checksum(restarted, "db.a"));
    // After dropping the leftover, the rest restores.
    await restarted.query("DROP TABLE db.b2");
    const rest = await copyBack(restarted, {
      backupDir: dir,
      includeTables: "^db\\.[bc]$",
      rename: renames.slice(1),
    });
    assert.equal(rest.code, 0, rest.lines.join("\n"));
    assert.equal(await checksum(restarted, "db.c2"), await checksum(restarted, "db.c"));
  } finally {
    await Deno.remove(dir, { recursive: true });
    await srv.stop();
    if (restarted) {
      await restarted.stop();
      await Deno.remove(srv.datadir, { recursive: true }).catch(() => {});
    }
  }
});

Deno.test("copy-back: another default row format needs --force, which sets the recorded one", async () => {
  await using src = await startServer();
  await using dst = await startServer({ extraArgs: ["--innodb-default-row-format=compact"] });
  await seed(src);
  const dir = await backupTo(src, "^db\\.a$");
  try {
    const refused = await copyBack(dst, { backupDir: dir });
    assert.equal(refused.code, 3);
    assert.match(
      refused.error!.message,
      /row format dynamic but the server would create it as compact/,
    );
    assert.deepEqual(await tables(dst, "db"), []);
    const forced = await copyBack(dst, { backupDir: dir, force: true });
    assert.equal(forced.code, 0, forced.lines.join("\n"));
    const rows = await dst.query<{ f: string }[]>(
      "SELECT ROW_FORMAT AS f FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'db'",
    );
    assert.equal(rows[0].f, "Dynamic");
    assert.equal(await checksum(dst, "db.a"), await checksum(src, "db.a"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * copy-back with Unicode names: `àbc`, `à123`, `déf` in `db`; `à123` restored as
 * `new_à123` with each quoting style; --default-character-set latin1 and ascii.
 */
import assert from "node:assert/strict";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";
import { backupTo, checksum, copyBack } from "./copy_back_fixture.ts";

async function tableNames(srv: ThrowawayServer, db: string): Promise<string[]> {
  const rows = await srv.query<{ n: string }[]>(
    "SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
    [db],
  );
  return rows.map((r) => r.n).sort();
}

async function seedNames(srv: ThrowawayServer): Promise<void> {
  await srv.query(
    "CREATE DATABASE db; USE db;" +
      "CREATE TABLE `àbc` (id INT PRIMARY KEY, v VARCHAR(20));" +
      "CREATE TABLE `à123` (id INT PRIMARY KEY, n BIGINT, KEY (n));" +
      "CREATE TABLE `déf` (id INT PRIMARY KEY, t TEXT);" +
      "CREATE TABLE plain (id INT PRIMARY KEY);" +
      "INSERT INTO `à123` SELECT seq, seq * seq FROM seq_1_to_500;" +
      "INSERT INTO `àbc` VALUES (1, 'x'); INSERT INTO plain VALUES (1), (2)",
  );
}

Deno.test("copy-back: à123 restored as new_à123 with each quoting style", async () => {
  await using srv = await startServer();
  await seedNames(srv);
  const original = await checksum(srv, "db.`à123`");
  const dir = await backupTo(srv, "^db\\.");
  try {
    for (
      const arg of [
        "`db`.`à123` TO `db`.`new_à123`",
        "'db'.'à123' to 'db'.'new_à123'",
        '"db"."à123" To "db"."new_à123"',
        "à123 TO new_à123",
      ]
    ) {
      const run = await copyBack(srv, {
        backupDir: dir,
        includeTables: "^db\\.à123$",
        rename: [arg],
      });
      assert.equal(run.code, 0, `${arg}: ${run.lines.join("\n")}`);
      assert.deepEqual(
        await tableNames(srv, "db"),
        ["new_à123", "plain", "àbc", "à123", "déf"].sort(),
      );
      assert.ok(Deno.statSync(`${srv.datadir}/db/new_@0g123.ibd`).isFile);
      assert.equal(await checksum(srv, "db.`new_à123`"), original);
      await srv.query("DROP TABLE db.`new_à123`");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copy-back: --default-character-set=latin1 turns a UTF-8 argument into mojibake", async () => {
  await using srv = await startServer();
  await seedNames(srv);
  const dir = await backupTo(srv, "^db\\.");
  try {
    // An ASCII OLD name restores under the mojibake NEW name: à is read as Ã + NBSP.
    const run = await copyBack(srv, {
      backupDir: dir,
      includeTables: "^db\\.plain$",
      rename: ["db.plain TO db.`new_àx`"],
      defaultCharacterSet: "latin1",
    });
    assert.equal(run.code, 0, run.lines.join("\n"));
    const names = await tableNames(srv, "db");
    const created = names.find((n) => n.startsWith("new_"));
    console.log(`latin1 reading of "new_àx": ${JSON.stringify(created)}`);
    assert.equal(created, "new_\u00c3\u00a0x");
    // A non-ASCII OLD name no longer names a table of the backup, and the error shows why.
    const bad = await copyBack(srv, {
      backupDir: dir,
      rename: ["db.`à123` TO db.x"],
      defaultCharacterSet: "latin1",
    });
    assert.equal(bad.code, 2);
    console.log(`latin1 error: ${bad.error?.message}`);
    assert.match(bad.error!.message, /`\u00c3\u00a0123`/);
    assert.match(bad.error!.message, /OLD must name a selected table/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copy-back: an impossible conversion fails with Unicode character conversion failed", async () => {
  await using srv = await startServer();
  await seedNames(srv);
  const dir = await backupTo(srv, "^db\\.");
  try {
    const run = await copyBack(srv, {
      backupDir: dir,
      rename: ["db.à123 TO db.x"],
      defaultCharacterSet: "ascii",
    });
    assert.equal(run.code, 2);
    assert.match(run.error!.message, /Unicode character conversion failed/);
    assert.match(run.error!.message, /--rename/);
    assert.deepEqual(await tableNames(srv, "db"), ["plain", "àbc", "à123", "déf"].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

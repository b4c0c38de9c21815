/**
 * copy-back with Unicode names: `àbc`, `à123`, `déf` in `db`; `à123` restored as
 * `new_à123` with each quoting style (character sets of the command line:
 * tests/cli_input_test.ts).
 */
import assert from "node:assert/strict";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";
import { backupTo, checksum, copyBack } from "./fixtures/copy_back.ts";

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

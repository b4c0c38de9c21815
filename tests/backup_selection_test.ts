import assert from "node:assert/strict";

import { connect } from "../lib/server/connection.ts";
import { readServerFacts } from "../lib/server/facts.ts";
import { selectTables } from "../lib/server/tables.ts";
import { compileTableFilter } from "../lib/names/filter.ts";
import { backupCommand } from "../lib/commands/backup.ts";
import { UsageError } from "../lib/errors.ts";
import { contextFor, seed, startBackupServer } from "./fixtures/server.ts";

Deno.test("backup selection: names from the server, four forms, exclude, skips, partitions", async (t) => {
  await using srv = await startBackupServer();
  await seed(srv);
  await srv.query(
    "SET GLOBAL innodb_file_per_table = OFF; CREATE TABLE other.shared (id INT);" +
      "SET GLOBAL innodb_file_per_table = ON; CREATE SEQUENCE other.seq",
  );
  const conn = await connect({ socket: srv.socket, user: "root" });
  try {
    const facts = await readServerFacts(conn);
    assert.equal(facts.flavor, "mariadb");
    assert.equal(facts.pageSize, 16384);
    assert.equal(facts.datadir, srv.datadir.replace(/\/$/, ""));
    const select = async (include?: string, exclude?: string) => {
      const s = await selectTables(
        conn,
        facts,
        compileTableFilter({ include, exclude }),
        include !== undefined,
      );
      return {
        names: s.tables.map((x) => `${x.database}.${x.name}`).sort(),
        skipped: new Map(s.skipped.map((x) => [`${x.database}.${x.name}`, x.reason])),
        tables: s.tables,
      };
    };

    await t.step("^db\\.à takes exactly àbc and à123", async () => {
      assert.deepEqual((await select("^db\\.à")).names, ["db.à123", "db.àbc"]);
    });

    await t.step("the same selection written four ways gives the same set", async () => {
      for (const re of ["^db\\.à", "^`db`\\.à", "^db\\.`à", "^`db`\\.`à"]) {
        assert.deepEqual((await select(re)).names, ["db.à123", "db.àbc"], re);
      }
    });

    await t.step("exclude works, with and without include", async () => {
      assert.deepEqual((await select("^db\\.", "123")).names, ["db.déf", "db.àbc"]);
      const all = await select(undefined, "^(db|other)\\.");
      assert.deepEqual(all.names, ["weird db.t t"]);
    });

    await t.step("skips say why; a partitioned table comes whole", async () => {
      const s = await select("^other\\.");
      assert.deepEqual(s.names, ["other.busy", "other.parts"]);
      const parts = s.tables.find((x) => x.name === "parts")!;
      assert.deepEqual(parts.stems, ["other/parts#P#p0", "other/parts#P#p1", "other/parts#P#p2"]);
      assert.match(s.skipped.get("other.my")!, /engine MyISAM/);
      assert.match(s.skipped.get("other.v")!, /view/);
      assert.match(s.skipped.get("other.shared")!, /system tablespace/);
      assert.match(s.skipped.get("other.seq")!, /sequence/);
      // system databases are never taken by default
      const all = await select();
      assert.ok(!all.names.some((n) => n.startsWith("mysql.")));
    });

    await t.step("an encoded name maps to its file on disk", async () => {
      const s = await select("^`weird db`\\.");
      assert.deepEqual(s.tables[0].stems, ["weird@0020db/t@0020t"]);
    });
  } finally {
    await conn.end();
  }

  await t.step("nothing matched is a usage error naming the expression", async () => {
    const dir = await Deno.makeTempDir();
    try {
      const ctx = contextFor(srv, { backupDir: `${dir}/b`, includeTables: "^nope\\." });
      await assert.rejects(() => backupCommand.run(ctx), (err: Error) => {
        assert.ok(err instanceof UsageError);
        assert.equal(err.exitCode, 2);
        assert.match(err.message, /--include-tables="\^nope\\\\\."/);
        return true;
      });
      const only = contextFor(srv, { backupDir: `${dir}/c`, includeTables: "^other\\.seq$" });
      await assert.rejects(() => backupCommand.run(only), /cannot be backed up/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  await t.step("an invalid regular expression is a usage error quoting it", async () => {
    const ctx = contextFor(srv, { backupDir: "/nonexistent/x", includeTables: "(" });
    await assert.rejects(() => backupCommand.run(ctx), (err: Error) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /"\("/);
      return true;
    });
  });

  await t.step("--strict turns a skip into an error", async () => {
    const dir = await Deno.makeTempDir();
    try {
      const ctx = contextFor(srv, {
        backupDir: `${dir}/b`,
        includeTables: "^other\\.",
        strict: true,
      });
      await assert.rejects(() => backupCommand.run(ctx), (err: Error) => {
        assert.ok(err instanceof UsageError);
        assert.match(err.message, /--strict/);
        assert.match(err.message, /`other`\.`my` \(engine MyISAM/);
        return true;
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

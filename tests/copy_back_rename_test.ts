/** copy-back against a real server: restore a table renamed and copy lost rows back. */
import assert from "node:assert/strict";
import { startServer } from "../scripts/throwaway_server.ts";
import { backupTo, checksum, copyBack } from "./fixtures/copy_back.ts";

Deno.test("copy-back: deleted rows come back through a renamed restore", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE shop; USE shop;" +
      "CREATE TABLE shop.orders (id INT PRIMARY KEY, amount DECIMAL(10,2), note VARCHAR(40)," +
      " KEY (amount));" +
      "INSERT INTO shop.orders SELECT seq, seq * 1.25, CONCAT('n', seq) FROM seq_1_to_3000;" +
      "CREATE TABLE shop.other (id INT PRIMARY KEY)",
  );
  const before = await checksum(srv, "shop.orders");
  const dir = await backupTo(srv);
  try {
    await srv.query("DELETE FROM shop.orders WHERE id % 7 = 0");
    assert.notEqual(await checksum(srv, "shop.orders"), before);
    const run = await copyBack(srv, {
      backupDir: dir,
      includeTables: "^shop\\.orders$",
      rename: ["shop.orders TO shop.orders_restored"],
    });
    assert.equal(run.code, 0, run.lines.join("\n"));
    assert.equal(run.json?.restored, 1);
    assert.equal(await checksum(srv, "shop.orders_restored"), before);
    await srv.query(
      "INSERT INTO shop.orders SELECT r.* FROM shop.orders_restored r " +
        "LEFT JOIN shop.orders o ON o.id = r.id WHERE o.id IS NULL",
    );
    assert.equal(await checksum(srv, "shop.orders"), before);
    // no .cfg or staging directory left behind
    const names = [...Deno.readDirSync(`${srv.datadir}/shop`)].map((e) => e.name).sort();
    assert.ok(!names.some((n) => n.endsWith(".cfg")), names.join(" "));
    assert.ok(![...Deno.readDirSync(srv.datadir)].some((e) => e.name.startsWith("#ibvault")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copy-back: a new database is created with the original's options", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE src CHARACTER SET latin1 COLLATE latin1_german1_ci;" +
      "CREATE TABLE src.t (id INT PRIMARY KEY, s VARCHAR(10));" +
      "INSERT INTO src.t VALUES (1, 'eins'), (2, 'zwei')",
  );
  const dir = await backupTo(srv, "^src\\.");
  try {
    // A staging directory left by a dead run is removed, with a warning.
    const stale = `${srv.datadir}/#ibvault-stage-999999999-dead`;
    Deno.mkdirSync(stale);
    Deno.writeTextFileSync(`${stale}/0.ibd`, "x");
    const run = await copyBack(srv, {
      backupDir: dir,
      rename: ["`src`.`t` to `new db`.`t 2`"],
    });
    assert.equal(run.code, 0, run.lines.join("\n"));
    assert.match(run.lines.join("\n"), /warn: removing .*#ibvault-stage-999999999-dead/);
    assert.throws(() => Deno.statSync(stale));
    assert.deepEqual(run.json?.databasesCreated, ["new db"]);
    const rows = await srv.query<{ c: string; n: number }[]>(
      "SELECT DEFAULT_COLLATION_NAME AS c FROM information_schema.SCHEMATA " +
        "WHERE SCHEMA_NAME = 'new db'",
    );
    assert.equal(rows[0].c, "latin1_german1_ci");
    assert.equal(await checksum(srv, "`new db`.`t 2`"), await checksum(srv, "src.t"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("copy-back: names with backticks, quotes, dots and spaces reach SQL quoted", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE src; CREATE TABLE src.t (id INT PRIMARY KEY); INSERT INTO src.t VALUES (7)",
  );
  const dir = await backupTo(srv, "^src\\.");
  try {
    const run = await copyBack(srv, {
      backupDir: dir,
      rename: ['src.t TO `we``ird.db`.`it\'s "x" y.z`'],
    });
    assert.equal(run.code, 0, run.lines.join("\n"));
    const rows = await srv.query<{ id: number }[]>('SELECT id FROM `we``ird.db`.`it\'s "x" y.z`');
    assert.deepEqual(rows.map((r) => r.id), [7]);
    assert.ok(
      Deno.statSync(`${srv.datadir}/we@0060ird@002edb/it@0027s@0020@0022x@0022@0020y@002ez.ibd`)
        .isFile,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

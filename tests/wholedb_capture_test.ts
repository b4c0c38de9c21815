/**
 * Database objects, logical tables and the binlog position against a real
 * throwaway MariaDB: capture, drop, recreate, compare.
 */
import assert from "node:assert/strict";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";
import { connect } from "../lib/server/connection.ts";
import {
  createObject,
  existingObjects,
  listObjects,
  missingDefiners,
  objectKey,
  readObjects,
  selectObjects,
} from "../lib/server/objects.ts";
import { dumpTableBytes, loadTable, readLogicalColumns } from "../lib/server/logical.ts";
import { readBinlogPosition } from "../lib/server/binlog.ts";
import { replaceDefiner } from "../lib/names/sql_rewrite.ts";
import { CorruptionError } from "../lib/errors.ts";

type Row = Record<string, unknown>;

async function showCreate(srv: ThrowawayServer, kind: string, name: string): Promise<Row> {
  // SHOW CREATE VIEW leaves out the database when it is the current one: ask from elsewhere.
  const c = await srv.pool.getConnection();
  let row: Row;
  try {
    await c.query("USE mysql");
    row = ((await c.query(`SHOW CREATE ${kind} ${name}`))[0] as Row[])[0];
  } finally {
    c.release();
  }
  const { Created: _, ...rest } = row; // trigger creation time
  return rest;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of it) out.push(c.slice());
  return out;
}

async function* replay(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

Deno.test("objects, logical tables and binlog position on a live server", async (t) => {
  await using srv = await startServer({
    extraArgs: ["--log-bin=ibv-bin", "--server-id=7", "--event-scheduler=ON"],
  });
  await srv.query(
    "CREATE DATABASE shop CHARACTER SET latin1 COLLATE latin1_german1_ci;" +
      "CREATE TABLE shop.t (id INT PRIMARY KEY, a INT, g INT AS (a * 2) VIRTUAL);" +
      "CREATE VIEW shop.v1 AS SELECT id, a FROM shop.t;" +
      "CREATE SQL SECURITY INVOKER VIEW shop.v2 AS SELECT v1.id FROM shop.v1 AS v1 WHERE v1.a > 'ä';" +
      "SET sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES';" +
      "CREATE TRIGGER shop.trg BEFORE INSERT ON shop.t FOR EACH ROW SET NEW.a = NEW.a + 1;" +
      "SET sql_mode = DEFAULT;" +
      "CREATE FUNCTION shop.f(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;" +
      "CREATE PROCEDURE shop.p(IN x INT) BEGIN INSERT INTO shop.t (id, a) VALUES (x, shop.f(x)); END;" +
      "SET time_zone = '+03:00';" +
      "CREATE EVENT shop.ev ON SCHEDULE EVERY 1 HOUR STARTS '2030-01-01 00:00:00' DO DELETE FROM shop.t WHERE id < 0;" +
      "SET time_zone = DEFAULT;" +
      "CREATE USER app@'10.%';" +
      "CREATE DEFINER = app@'10.%' VIEW shop.vapp AS SELECT 1 AS one;",
  );
  const conn = await connect({ socket: srv.socket, user: "root" });
  try {
    await t.step("list and select: triggers follow their table, --skip-* recorded", async () => {
      const found = await listObjects(conn, ["shop"]);
      assert.deepEqual(
        found.map((o) => `${o.kind} ${o.name}`),
        ["view v1", "view v2", "view vapp", "function f", "procedure p", "trigger trg", "event ev"],
      );
      const noT = selectObjects(found, ["shop"], [], { events: true });
      assert.deepEqual(noT.skipped.map((s) => [s.name, s.reason]), [
        ["trg", "its table `shop`.`t` is not selected"],
        ["ev", "left out by --skip-events"],
      ]);
      const all = selectObjects(found, ["shop"], [{ database: "shop", name: "t" }], {});
      assert.equal(all.objects.length, 7);
      assert.equal(all.skipped.length, 0);
    });

    await t.step("capture, drop the database, recreate: SHOW CREATE equal", async () => {
      const refs = await listObjects(conn, ["shop"]);
      const records = await readObjects(conn, refs);
      const trg = records.find((r) => r.kind === "trigger")!;
      assert.match(trg.sqlMode!, /ANSI_QUOTES/);
      assert.equal(trg.databaseCollation, "latin1_german1_ci");
      assert.equal(records.find((r) => r.kind === "event")!.timeZone, "+03:00");
      assert.deepEqual(records.find((r) => r.name === "vapp")!.definer, {
        user: "app",
        host: "10.%",
      });
      const names: [string, string][] = [
        ["VIEW", "shop.v1"],
        ["VIEW", "shop.v2"],
        ["VIEW", "shop.vapp"],
        ["TRIGGER", "shop.trg"],
        ["FUNCTION", "shop.f"],
        ["PROCEDURE", "shop.p"],
        ["EVENT", "shop.ev"],
      ];
      const before = await Promise.all(names.map(([k, n]) => showCreate(srv, k, n)));
      const [db] = await srv.query<Row[]>("SHOW CREATE DATABASE shop");
      const table = (await srv.query<Row[]>("SHOW CREATE TABLE shop.t"))[0]["Create Table"];
      await srv.query("DROP DATABASE shop");
      await srv.query(`${db["Create Database"]}; USE shop; ${table}`);
      // the target's database collation differs: routines still get theirs
      await srv.query("ALTER DATABASE shop COLLATE latin1_swedish_ci");
      const existing = await existingObjects(conn, "shop");
      assert.ok(existing.has(objectKey("view", "t")), "tables share the views' namespace");
      assert.ok(!existing.has(objectKey("view", "v1")));
      const gone = await missingDefiners(
        conn,
        records.flatMap((r) => r.definer ? [r.definer] : []),
      );
      assert.deepEqual(gone, []);
      for (const r of records) {
        const warnings = await createObject({
          conn,
          record: r,
          database: "shop",
          statement: r.createStatement,
        });
        assert.deepEqual(warnings, []);
      }
      const after = await Promise.all(names.map(([k, n]) => showCreate(srv, k, n)));
      assert.deepEqual(after, before);
      const [dbAfter] = await srv.query<Row[]>(
        "SELECT DEFAULT_COLLATION_NAME AS c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='shop'",
      );
      assert.equal(dbAfter.c, "latin1_swedish_ci", "the database collation is put back");
      await srv.query("CALL shop.p(5)");
      const [row] = await srv.query<Row[]>("SELECT a, g FROM shop.t WHERE id = 5");
      assert.deepEqual(row, { a: 7, g: 14 }, "procedure calls the function, trigger fires");
      const [ev] = await srv.query<Row[]>(
        "SELECT STATUS, TIME_ZONE FROM information_schema.EVENTS WHERE EVENT_NAME = 'ev'",
      );
      assert.deepEqual(ev, { STATUS: "ENABLED", TIME_ZONE: "+03:00" });
      // a definer that is gone, and --definer=CURRENT_USER
      await srv.query("DROP USER app@'10.%'");
      const vapp = records.find((r) => r.name === "vapp")!;
      assert.deepEqual(await missingDefiners(conn, [vapp.definer!]), [{
        user: "app",
        host: "10.%",
      }]);
      await srv.query("DROP VIEW shop.vapp");
      await createObject({
        conn,
        record: vapp,
        database: "shop",
        statement: replaceDefiner(vapp.createStatement),
      });
      const [shown] = await srv.query<Row[]>("SHOW CREATE VIEW shop.vapp");
      assert.match(String(shown["Create View"]), /DEFINER=`root`@`localhost`/);
    });

    await t.step(
      "logical tables round-trip exactly (MyISAM, Aria, system tablespace)",
      async () => {
        await srv.query("SET GLOBAL innodb_file_per_table = 0");
        await srv.query(
          "CREATE TABLE shop.sys (id INT PRIMARY KEY, d DECIMAL(30,10), f FLOAT, x DOUBLE) ENGINE=InnoDB",
        );
        await srv.query("SET GLOBAL innodb_file_per_table = 1");
        await srv.query(
          "CREATE TABLE shop.my (id INT AUTO_INCREMENT PRIMARY KEY, u VARCHAR(20) CHARACTER SET utf8mb4 " +
            "COLLATE utf8mb4_unicode_520_ci, l VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_danish_ci, " +
            "b BLOB, bn BINARY(4), bt BIT(10), e ENUM('x','y'), s SET('a','b'), j JSON, " +
            "dt DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME, y YEAR, dd DATE, gm POINT, " +
            "g2 VARCHAR(30) CHARACTER SET utf8mb4 AS (CONCAT(u, '!')) PERSISTENT, inv INT INVISIBLE DEFAULT 9) ENGINE=MyISAM;" +
            "CREATE TABLE shop.ar (id INT PRIMARY KEY, t TEXT) ENGINE=Aria;" +
            "INSERT INTO shop.sys VALUES (0, 12345678901234567890.0123456789, 0.1, 1e308), " +
            "(1, -0.0000000001, -3.4e38, 2.2250738585072014e-308), (2, NULL, NULL, NULL);" +
            "INSERT INTO shop.my (id, u, l, b, bn, bt, e, s, j, dt, ts, tm, y, dd, gm, inv) VALUES " +
            "(0, 'àé😀''\\\\\\n', 'æøå', 0x00FF0A0D27225C, 0x00000001, b'1010101010', 'y', 'a,b', " +
            "'{\"k\": [1, \"\\\\u00e9\"]}', '2024-02-29 23:59:59.999999', '2038-01-19 03:14:07.123', " +
            "'-838:59:59', 2155, '0000-00-00', POINT(1.5, -2), 3), " +
            "(NULL, '', '', '', NULL, NULL, NULL, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, DEFAULT);" +
            "INSERT INTO shop.ar SELECT seq, REPEAT(CHAR(65 + seq % 26), seq % 300) FROM shop.seq_1_to_3000;",
        );
        for (const name of ["sys", "my", "ar"]) {
          const [cs] = await srv.query<Row[]>(`CHECKSUM TABLE shop.${name}`);
          const create =
            (await srv.query<Row[]>(`SHOW CREATE TABLE shop.${name}`))[0]["Create Table"];
          const cols = await readLogicalColumns(conn, "shop", name);
          if (name === "my") {
            assert.ok(!cols.some((c) => c.name === "g2"), "generated columns left out");
          }
          const chunks = await collect(
            dumpTableBytes(conn, "shop", name, cols, { batchBytes: 4096 }),
          );
          const text = new TextDecoder().decode(
            new Uint8Array(chunks.flatMap((c) => [...c])),
          );
          if (name === "ar") {
            assert.ok(text.split("\n").length > 10, "batched into many statements");
          }
          await srv.query(`DROP TABLE shop.${name}`);
          await srv.query(
            `USE shop; ${String(create).replace(`TABLE \`${name}\``, `TABLE \`${name}_r\``)}`,
          );
          const rows = await loadTable({
            conn,
            database: "shop",
            table: `${name}_r`,
            data: replay(chunks),
            where: `shop/${name}.sql`,
          });
          assert.ok(rows >= 2);
          const [cs2] = await srv.query<Row[]>(`CHECKSUM TABLE shop.${name}_r`);
          assert.equal(String(cs2.Checksum), String(cs.Checksum), `CHECKSUM TABLE of ${name}`);
          if (name === "my") {
            const [inv] = await srv.query<Row[]>("SELECT inv, g2 FROM shop.my_r WHERE id = 1");
            assert.deepEqual(inv, { inv: 3, g2: "àé😀'\\\n!" }, "invisible and generated columns");
          }
          // a truncated copy is refused, naming the file
          const cut = text.slice(0, text.lastIndexOf("-- end"));
          await srv.query(`TRUNCATE TABLE shop.${name}_r`);
          await assert.rejects(
            loadTable({
              conn,
              database: "shop",
              table: `${name}_r`,
              data: replay([new TextEncoder().encode(cut)]),
              where: `shop/${name}.sql`,
            }),
            (e) => e instanceof CorruptionError && e.message.includes(`shop/${name}.sql`),
          );
        }
      },
    );

    await t.step("binlog position: file, position, GTIDs", async () => {
      const pos = await readBinlogPosition(conn, "mariadb");
      const [status] = await srv.query<Row[]>("SHOW MASTER STATUS");
      assert.equal(pos.enabled, true);
      assert.equal(pos.file, status.File);
      assert.equal(pos.position, Number(status.Position));
      assert.match(pos.gtidBinlogPos!, /^0-7-\d+$/);
      assert.equal(pos.serverId, 7);
    });
  } finally {
    await conn.end();
  }
});

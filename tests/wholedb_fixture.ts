/**
 * Shared fixture of the whole-database tests (this file holds no tests): the
 * database of issue 13 and how to compare two copies of it.
 */
import assert from "node:assert/strict";
import type { ThrowawayServer } from "../scripts/throwaway_server.ts";

type Row = Record<string, unknown>;

/** The database of issue 13. */
export async function seedShop(srv: ThrowawayServer, db = "shop"): Promise<void> {
  const q = (s: string) => srv.query(s.replaceAll("shop.", `\`${db}\`.`));
  await srv.query(
    `CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci`,
  );
  await q(
    "CREATE TABLE shop.parent (id INT PRIMARY KEY, name VARCHAR(40) CHARACTER SET latin1 " +
      "COLLATE latin1_german2_ci, note VARCHAR(40) COLLATE utf8mb4_bin) ENGINE=InnoDB;" +
      "CREATE TABLE shop.child (id INT AUTO_INCREMENT PRIMARY KEY, pid INT NOT NULL, qty INT, " +
      "total INT AS (qty * 10) PERSISTENT, half INT AS (qty DIV 2) VIRTUAL, " +
      "CONSTRAINT fk_parent FOREIGN KEY (pid) REFERENCES parent (id)) ENGINE=InnoDB;" +
      "CREATE TABLE shop.legacy (id INT PRIMARY KEY, b BLOB, t VARCHAR(20)) ENGINE=MyISAM;" +
      "CREATE TABLE shop.log (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(100)) ENGINE=Aria;" +
      "CREATE TABLE shop.parts (id INT PRIMARY KEY, v INT) ENGINE=InnoDB " +
      "PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (100), " +
      "PARTITION p1 VALUES LESS THAN (200), PARTITION p2 VALUES LESS THAN MAXVALUE);" +
      "SET GLOBAL innodb_file_per_table = 0;" +
      "CREATE TABLE shop.sys (id INT PRIMARY KEY, d DECIMAL(20,6)) ENGINE=InnoDB;" +
      "SET GLOBAL innodb_file_per_table = 1;" +
      "CREATE TABLE shop.mem (id INT PRIMARY KEY) ENGINE=MEMORY;" +
      "INSERT INTO shop.parent SELECT seq, CONCAT('näme', seq), CONCAT('😀', seq) FROM shop.seq_1_to_50;" +
      "INSERT INTO shop.child (pid, qty) SELECT 1 + seq % 50, seq FROM shop.seq_1_to_500;" +
      "INSERT INTO shop.legacy SELECT seq, UNHEX(MD5(seq)), CONCAT('l', seq) FROM shop.seq_1_to_200;" +
      "INSERT INTO shop.parts SELECT seq, seq * 2 FROM shop.seq_1_to_300;" +
      "INSERT INTO shop.sys SELECT seq, seq / 7 FROM shop.seq_1_to_100;" +
      "CREATE FUNCTION shop.threshold() RETURNS INT DETERMINISTIC RETURN 100;" +
      "CREATE VIEW shop.v_child AS SELECT c.id, c.pid, c.total FROM shop.child c;" +
      "CREATE VIEW shop.v_big AS SELECT v.id, p.name FROM shop.v_child v JOIN shop.parent p ON p.id = v.pid " +
      "WHERE v.total > shop.threshold();" +
      "CREATE FUNCTION shop.doubled(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;" +
      "CREATE PROCEDURE shop.add_child(IN p INT, IN q INT) BEGIN " +
      "INSERT INTO shop.child (pid, qty) VALUES (p, shop.doubled(q)); END;" +
      "CREATE TRIGGER shop.child_log AFTER INSERT ON shop.child FOR EACH ROW " +
      "INSERT INTO shop.log (msg) VALUES (CONCAT('child ', NEW.id));" +
      "CREATE EVENT shop.cleanup ON SCHEDULE EVERY 1 DAY STARTS '2031-01-01 00:00:00' " +
      "DO DELETE FROM shop.log WHERE id < 0;",
  );
}

/** Every object's SHOW CREATE and every table's CHECKSUM TABLE, for comparing. */
export async function snapshot(srv: ThrowawayServer, db: string): Promise<Record<string, unknown>> {
  const c = await srv.pool.getConnection();
  try {
    await c.query("USE mysql");
    const out: Record<string, unknown> = {};
    const q = async (sql: string) => ((await c.query(sql))[0] as Row[]);
    const id = `\`${db}\``;
    out.database = (await q(`SHOW CREATE DATABASE ${id}`))[0]["Create Database"];
    for (const t of await q(`SHOW FULL TABLES FROM ${id}`)) {
      const name = String(Object.values(t)[0]);
      const type = String(t.Table_type);
      if (type === "VIEW") {
        out[`view ${name}`] = (await q(`SHOW CREATE VIEW ${id}.\`${name}\``))[0];
      } else {
        out[`table ${name}`] = (await q(`SHOW CREATE TABLE ${id}.\`${name}\``))[0]["Create Table"];
        // CHECKSUM TABLE of a table with a VIRTUAL column differs after a TTS import
        // while every value is equal (seen on 10.11): compare the values there.
        const virtual = /\) VIRTUAL/.test(String(out[`table ${name}`]));
        out[`checksum ${name}`] = virtual
          ? String(
            (await q(
              `SELECT MD5(GROUP_CONCAT(CONCAT_WS(',', ${await columnsOf(
                c,
                db,
                name,
              )}) ORDER BY 1)) AS m FROM ${id}.\`${name}\``,
            ))[0].m,
          )
          : String((await q(`CHECKSUM TABLE ${id}.\`${name}\``))[0].Checksum);
      }
    }
    for (const r of await q(`SHOW PROCEDURE STATUS WHERE Db = '${db}'`)) {
      out[`procedure ${r.Name}`] = (await q(`SHOW CREATE PROCEDURE ${id}.\`${r.Name}\``))[0];
    }
    for (const r of await q(`SHOW FUNCTION STATUS WHERE Db = '${db}'`)) {
      out[`function ${r.Name}`] = (await q(`SHOW CREATE FUNCTION ${id}.\`${r.Name}\``))[0];
    }
    for (const r of await q(`SHOW TRIGGERS FROM ${id}`)) {
      const { Created: _, ...rest } = (await q(`SHOW CREATE TRIGGER ${id}.\`${r.Trigger}\``))[0];
      out[`trigger ${r.Trigger}`] = rest;
    }
    for (const r of await q(`SHOW EVENTS FROM ${id}`)) {
      out[`event ${r.Name}`] = (await q(`SHOW CREATE EVENT ${id}.\`${r.Name}\``))[0];
    }
    return out;
  } finally {
    c.release();
  }
}

/** The snapshot with what writes change (AUTO_INCREMENT, the written tables' rows) taken out. */
export function normalise(snap: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(snap)) {
    if (k === "checksum child" || k === "checksum log") continue;
    out[k] = typeof v === "string" ? v.replace(/ AUTO_INCREMENT=\d+/, "") : v;
  }
  return out;
}

/** Rows taken at one moment, triggers, the event, foreign keys. */
export async function checkBehaviour(srv: ThrowawayServer, db: string): Promise<void> {
  const q = <T>(sql: string) => srv.query<T>(sql.replaceAll("shop.", `\`${db}\`.`));
  const [counts] = await q<Row[]>(
    "SELECT (SELECT COUNT(*) FROM shop.child) AS children, (SELECT COUNT(*) FROM shop.log) AS logs",
  );
  assert.equal(Number(counts.children) - 500, Number(counts.logs), "child and log at one moment");
  await q("CALL shop.add_child(1, 21)");
  const [last] = await q<Row[]>("SELECT qty, total FROM shop.child ORDER BY id DESC LIMIT 1");
  assert.deepEqual(last, { qty: 42, total: 420 }, "procedure calls the function");
  const [log] = await q<Row[]>("SELECT msg FROM shop.log ORDER BY id DESC LIMIT 1");
  assert.match(String(log.msg), /^child \d+$/, "the trigger fired");
  const [ev] = await srv.query<Row[]>(
    "SELECT STATUS FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND EVENT_NAME = 'cleanup'",
    [db],
  );
  assert.equal(ev?.STATUS, "ENABLED");
  await assert.rejects(q("INSERT INTO shop.child (pid, qty) VALUES (9999, 1)"), /foreign key/i);
  const [big] = await q<Row[]>("SELECT COUNT(*) AS n FROM shop.v_big");
  assert.ok(Number(big.n) > 0, "view on view reads");
}

/** Every column of a table, quoted, for a values digest. */
async function columnsOf(
  c: { query: (sql: string, v?: unknown[]) => Promise<unknown> },
  db: string,
  table: string,
): Promise<string> {
  const [rows] = await c.query(
    "SELECT COLUMN_NAME AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND " +
      "TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    [db, table],
  ) as [Row[]];
  return rows.map((r) => `IFNULL(HEX(\`${String(r.n).replaceAll("`", "``")}\`), 'N')`).join(", ");
}

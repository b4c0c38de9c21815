import assert from "node:assert/strict";
import { dirname } from "node:path";
import { startServer } from "../scripts/throwaway_server.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

Deno.test("throwaway server: starts, stores names encoded, stops and cleans up", async () => {
  const srv = await startServer();
  const datadir = srv.datadir;
  const rundir = dirname(srv.socket);
  try {
    await srv.query(
      "CREATE DATABASE `weird db`; CREATE TABLE `weird db`.`àbc` (id INT PRIMARY KEY)",
    );
    await srv.query("INSERT INTO `weird db`.`àbc` VALUES (?), (?)", [1, 2]);
    const rows = await srv.query<{ n: number }[]>("SELECT COUNT(*) AS n FROM `weird db`.`àbc`");
    assert.equal(Number(rows[0].n), 2);
    assert.ok(await exists(`${srv.datadir}/weird@0020db/@0gbc.ibd`));
    assert.ok(await exists(srv.socket));
  } finally {
    await srv.stop();
  }
  assert.equal(await exists(datadir), false);
  assert.equal(await exists(rundir), false);
  await srv.stop(); // a second stop is harmless
});

Deno.test("throwaway server: TCP user, keepDatadir, page size and checksum options", async () => {
  const srv = await startServer({ pageSize: 8192, checksumAlgorithm: "crc32" });
  try {
    const mysql = (await import("mysql2/promise")).default;
    const conn = await mysql.createConnection({
      host: "127.0.0.1",
      port: srv.port,
      user: srv.user,
      password: srv.password,
    });
    const [rows] = await conn.query(
      "SELECT @@innodb_page_size AS ps, @@innodb_checksum_algorithm AS alg",
    );
    await conn.end();
    const row = (rows as { ps: number; alg: string }[])[0];
    assert.equal(Number(row.ps), 8192);
    assert.equal(row.alg, "crc32");
    await srv.query("CREATE DATABASE d; CREATE TABLE d.t (a INT) ENGINE=InnoDB");
  } finally {
    await srv.stop({ keepDatadir: true });
  }
  try {
    assert.ok(await exists(`${srv.datadir}/d/t.ibd`));
    assert.equal(await exists(srv.socket), false);
  } finally {
    await Deno.remove(srv.datadir, { recursive: true });
  }
});

Deno.test("throwaway server: two at once, await using, kill then restart on the datadir", async () => {
  let keep = "";
  {
    await using a = await startServer();
    await using b = await startServer();
    assert.notEqual(a.port, b.port);
    await a.query("CREATE DATABASE only_a; CREATE TABLE only_a.t (x INT PRIMARY KEY)");
    await a.query("INSERT INTO only_a.t VALUES (7)");
    const dbs = await b.query<{ Database: string }[]>("SHOW DATABASES LIKE 'only_a'");
    assert.equal(dbs.length, 0);
    await a.kill();
    await a.stop({ keepDatadir: true });
    keep = a.datadir;
  }
  try {
    await using c = await startServer({ datadir: keep });
    const rows = await c.query<{ x: number }[]>("SELECT x FROM only_a.t");
    assert.deepEqual(rows.map((r) => r.x), [7]);
  } finally {
    await Deno.remove(keep, { recursive: true });
  }
});

Deno.test("throwaway server: a bad option fails with the error log", async () => {
  await assert.rejects(
    () => startServer({ extraArgs: ["--no-such-option-here"], startTimeoutMs: 20_000 }),
    /error log:[\s\S]*no-such-option-here/,
  );
});

/** importTable against a real server: success, and a failure that leaves nothing behind. */
import assert from "node:assert/strict";
import mysql from "mysql2/promise";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";
import { importTable, placeFile, prepareImportSession } from "../lib/server/import.ts";
import { IoError, ServerError } from "../lib/errors.ts";

/** Export db.t's files into a staging directory inside the data directory. */
async function stageExport(srv: ThrowawayServer): Promise<string> {
  const stage = `${srv.datadir}/#ibvault-stage-test`;
  Deno.mkdirSync(stage);
  const conn = await srv.pool.getConnection();
  try {
    await conn.query("FLUSH TABLES db.t FOR EXPORT");
    for (const ext of ["ibd", "cfg"]) {
      Deno.copyFileSync(`${srv.datadir}/db/t.${ext}`, `${stage}/t.${ext}`);
    }
    await conn.query("UNLOCK TABLES");
  } finally {
    conn.release();
  }
  return stage;
}

function dbFiles(srv: ThrowawayServer): string[] {
  return [...Deno.readDirSync(`${srv.datadir}/db`)].map((e) => e.name).sort();
}

Deno.test("importTable: imports under a new name, or leaves nothing behind", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE db; CREATE TABLE db.t (id INT PRIMARY KEY, v VARCHAR(20));" +
      "INSERT INTO db.t VALUES (1, 'one'), (2, 'two')",
  );
  const stage = await stageExport(srv);
  const conn = await mysql.createConnection({ socketPath: srv.socket, user: "root" });
  try {
    await prepareImportSession(conn);
    const files = (name: string) => [
      { staged: `${stage}/t.ibd`, target: `db/${name}.ibd`, kind: "ibd" as const },
      { staged: `${stage}/t.cfg`, target: `db/${name}.cfg`, kind: "cfg" as const },
    ];
    // A definition that does not match the tablespace: IMPORT fails, all is undone.
    const before = dbFiles(srv);
    const steps: string[] = [];
    await assert.rejects(
      importTable({
        conn,
        datadir: srv.datadir,
        database: "db",
        table: "bad",
        createStatement: "CREATE TABLE `t` (id INT PRIMARY KEY, v VARCHAR(20), w INT)",
        files: files("bad"),
        onStep: (s) => steps.push(s),
      }),
      (err: Error) => {
        assert.ok(err instanceof ServerError);
        assert.match(err.message, /`db`\.`bad`: import failed: .*nothing was left behind/);
        return true;
      },
    );
    assert.deepEqual(steps, ["create", "discard", "place", "import"]);
    assert.deepEqual(dbFiles(srv), before);
    // The staged files were moved into place and so are gone; stage them again.
    Deno.removeSync(stage, { recursive: true });
    const stage2 = await stageExport(srv);
    assert.equal(stage2, stage);
    const result = await importTable({
      conn,
      datadir: srv.datadir,
      database: "db",
      table: "t copy",
      createStatement: "CREATE TABLE `t` (id INT PRIMARY KEY, v VARCHAR(20))",
      files: files("t@0020copy"),
    });
    assert.ok(Array.isArray(result.warnings));
    const rows = await srv.query<{ id: number; v: string }[]>(
      "SELECT * FROM db.`t copy` ORDER BY id",
    );
    assert.deepEqual(rows.map((r) => [r.id, r.v]), [[1, "one"], [2, "two"]]);
    const frm = Deno.statSync(`${srv.datadir}/db/t@0020copy.frm`);
    const ibd = Deno.statSync(`${srv.datadir}/db/t@0020copy.ibd`);
    assert.equal(ibd.mode! & 0o777, frm.mode! & 0o666);
    assert.equal(ibd.uid, frm.uid);
    assert.ok(!dbFiles(srv).includes("t@0020copy.cfg"));
  } finally {
    await conn.end();
  }
});

Deno.test("placeFile never replaces an existing file", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/staged`, "new");
    Deno.writeTextFileSync(`${dir}/dest`, "old");
    const owner = { uid: Deno.uid()!, gid: Deno.gid()!, mode: 0o640 };
    await assert.rejects(placeFile(`${dir}/staged`, `${dir}/dest`, owner), IoError);
    assert.equal(Deno.readTextFileSync(`${dir}/dest`), "old");
    await placeFile(`${dir}/staged`, `${dir}/dest2`, owner);
    assert.equal(Deno.readTextFileSync(`${dir}/dest2`), "new");
    assert.equal(Deno.statSync(`${dir}/dest2`).mode! & 0o777, 0o640);
    assert.throws(() => Deno.statSync(`${dir}/staged`));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

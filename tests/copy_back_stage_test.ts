/**
 * Staging directories of killed copy-backs (issue 11 item 11): every copy-back
 * removes those whose process is gone before it plans, so even a run that fails
 * at planning cleans up; a live run's staging directory is left alone.
 */
import assert from "node:assert/strict";
import { startServer } from "../scripts/throwaway_server.ts";
import { backupTo, copyBack } from "./fixtures/copy_back.ts";

Deno.test("copy-back removes stale #ibvault-stage dirs of dead runs before planning, even when planning fails", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE db; CREATE TABLE db.t (id INT PRIMARY KEY); INSERT INTO db.t VALUES (1)",
  );
  const dir = await backupTo(srv, "^db\\.");
  try {
    // A killed run's staging directory (pid 2^22+1 is above Linux's pid_max: never alive)
    // with a table-sized file in it, and one of this (live) process.
    const dead = `${srv.datadir}/#ibvault-stage-4194305-deadbeef`;
    const live = `${srv.datadir}/#ibvault-stage-${Deno.pid}-livelive`;
    for (const d of [dead, live]) {
      await Deno.mkdir(d);
      await Deno.writeFile(`${d}/t.ibd`, new Uint8Array(65536));
    }
    // Planning fails: the target exists.
    const r = await copyBack(srv, { backupDir: dir });
    assert.notEqual(r.code, 0);
    assert.match(r.error?.message ?? "", /already exists/);
    assert.match(
      r.lines.join("\n"),
      /removing .*#ibvault-stage-4194305-deadbeef, left by an interrupted copy-back/,
    );
    assert.equal(await Deno.stat(dead).then(() => true, () => false), false);
    assert.ok((await Deno.stat(live)).isDirectory, "a live run's staging directory was removed");
    await Deno.remove(live, { recursive: true });
    const dbs = await srv.query<{ Database: string }[]>("SHOW DATABASES");
    assert.ok(!dbs.some((d) => d.Database.includes("ibvault-stage")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * `--backup-dir` beside `--backup-image` is MEB's working directory (issue 15 item 2):
 * the temporary files of image commands go there, not to the system's temporary
 * directory. Seen mid-run, in-process against a throwaway server: the locked pages'
 * spool of `backup-to-image` (minimum locking) and the rebuild spool of `copy-back`
 * from that image; both are gone when the runs end.
 */
import assert from "node:assert/strict";
import { findCommand } from "../lib/commands/mod.ts";
import { contextFor, startBackupServer } from "./fixtures/server.ts";

/** The hidden ibvault temporaries in `dir` right now. */
function temporaries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith(".ibvault-"));
}

Deno.test("image commands keep their temporary files in the working directory", async () => {
  await using srv = await startBackupServer();
  await srv.query("CREATE DATABASE w; CREATE TABLE w.t (id INT PRIMARY KEY, v TEXT)");
  for (let i = 0; i < 2000; i += 500) {
    const rows = Array.from({ length: 500 }, (_, k) => `(${i + k}, REPEAT('x', 200))`);
    await srv.query(`INSERT INTO w.t VALUES ${rows.join(",")}`);
  }
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-workdir-" });
  try {
    const img = `${tmp}/w.ibv`;
    const seen: string[] = [];
    const b = contextFor(srv, {
      backupImage: img,
      backupDir: `${tmp}/work1`,
      includeTables: "^w\\.",
    });
    b.report.onProgress = () => void seen.push(...temporaries(`${tmp}/work1`));
    assert.equal(await findCommand("backup-to-image")!.run(b), 0);
    assert.ok(
      seen.some((n) => n.startsWith(".ibvault-spool-")),
      `the locked pages' spool is in the working directory: ${seen.join(", ")}`,
    );
    assert.deepEqual(temporaries(`${tmp}/work1`), [], "and gone after the run");

    const restored: string[] = [];
    const c = contextFor(srv, {
      backupImage: img,
      backupDir: `${tmp}/work2`,
      rename: ["w TO w2"],
    });
    c.report.onProgress = () => void restored.push(...temporaries(`${tmp}/work2`));
    assert.equal(await findCommand("copy-back")!.run(c), 0);
    assert.ok(
      restored.some((n) => n.startsWith(".ibvault-rebuild-")),
      `hot copies wait for their deltas in the working directory: ${restored.join(", ")}`,
    );
    assert.deepEqual(temporaries(`${tmp}/work2`), []);
    const [row] = await srv.query<{ n: number }[]>("SELECT COUNT(*) AS n FROM w2.t");
    assert.equal(Number(row.n), 2000);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

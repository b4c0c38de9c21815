/**
 * An interrupted run never says it completed (issue 11 item 6): the built binary
 * streams backup-to-image into a pipe nobody reads, so it is mid-run when the
 * signal arrives; it must end with exit 3, without the completion line, with the
 * tables unlocked. (A second signal quits at once with 130.)
 */
import assert from "node:assert/strict";
import { BINARY } from "./cli_helpers.ts";
import { startBackupServer, writable } from "./backup_fixture.ts";

Deno.test("binary: SIGINT and SIGTERM during backup-to-image end with exit 3, never 'completed OK'", async () => {
  await using srv = await startBackupServer();
  let setup = "CREATE DATABASE db; USE db;";
  for (let i = 0; i < 3; i++) {
    setup += `CREATE TABLE t${i} (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(200));` +
      `INSERT INTO t${i} (v) SELECT REPEAT('y', 200) FROM seq_1_to_4000;`;
  }
  await srv.query(setup);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const child = new Deno.Command(BINARY, {
      args: [
        "backup-to-image",
        "--no-defaults",
        `--socket=${srv.socket}`,
        "--user=root",
        "--include-tables=^db\\.",
        "--backup-image=-",
        "--no-progress",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Nobody reads stdout yet: the run fills the pipe and waits there, mid-image.
    await new Promise((r) => setTimeout(r, 2500));
    child.kill(signal);
    const [out, status] = await Promise.all([child.output(), child.status]);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(status.code, 3, `${signal}: ${stderr}`);
    assert.match(stderr, new RegExp(`interrupted by ${signal}`));
    assert.doesNotMatch(stderr, /completed OK/);
    assert.ok(await writable(srv, "db.t0"), `${signal}: tables stayed locked`);
    console.log(
      `  ${signal}: exit ${status.code}, ${out.stdout.length} image bytes before the stop`,
    );
  }
});

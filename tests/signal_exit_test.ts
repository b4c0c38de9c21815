/**
 * An interrupted run never says it completed (issue 11 item 6): the built binary
 * streams backup-to-image into a pipe nobody reads, so it is mid-run when the
 * signal arrives; it must end with exit 3, without the completion line, with the
 * tables unlocked. (A second signal quits at once with 130.)
 */
import assert from "node:assert/strict";
import mysql from "mysql2/promise";
import { BINARY } from "./cli_helpers.ts";
import { startBackupServer, writable } from "./fixtures/server.ts";
import type { ThrowawayServer } from "../scripts/throwaway_server.ts";

/** The built binary's backup-to-image of `db` on `srv`, with `extra` options, stdout and stderr piped. */
function spawnImageBackup(srv: ThrowawayServer, ...extra: string[]): Deno.ChildProcess {
  return new Deno.Command(BINARY, {
    args: [
      "backup-to-image",
      "--no-defaults",
      `--socket=${srv.socket}`,
      "--user=root",
      "--include-tables=^db\\.",
      "--no-progress",
      ...extra,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("binary: SIGINT and SIGTERM during backup-to-image end with exit 3, never 'completed OK'", async () => {
  await using srv = await startBackupServer();
  let setup = "CREATE DATABASE db; USE db;";
  for (let i = 0; i < 3; i++) {
    setup += `CREATE TABLE t${i} (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(200));` +
      `INSERT INTO t${i} (v) SELECT REPEAT('y', 200) FROM seq_1_to_4000;`;
  }
  await srv.query(setup);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const child = spawnImageBackup(srv, "--backup-image=-");
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

/** Lines of a child's stderr as they come, and all of it at the end. */
function stderrLines(child: Deno.ChildProcess) {
  const seen: string[] = [];
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const done = (async () => {
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const lines = rest.split("\n");
      rest = lines.pop()!;
      seen.push(...lines);
      for (const w of [...waiters]) {
        if (seen.some((l) => w.re.test(l))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
    if (rest) seen.push(rest);
    return seen.join("\n");
  })();
  return {
    done,
    /** Resolves once a line matches `re` (rejects after 60 s). */
    until: (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        if (seen.some((l) => re.test(l))) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`no line ${re}: ${seen.join("\n")}`)),
          60_000,
        );
        waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
      }),
  };
}

Deno.test("binary: a signal near the end (tables unlocked, the image's last entries being written) still ends with exit 3", async () => {
  await using srv = await startBackupServer();
  // Enough tables that what follows the unlock (each table's page 0 and .cfg) overfills the pipe.
  let setup = "CREATE DATABASE db; USE db;";
  for (let i = 0; i < 12; i++) {
    setup += `CREATE TABLE t${i} (id INT PRIMARY KEY, v VARCHAR(200));` +
      `INSERT INTO t${i} SELECT seq, REPEAT('e', 200) FROM seq_1_to_500;`;
  }
  await srv.query(setup);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const child = spawnImageBackup(srv, "--backup-image=-");
    const err = stderrLines(child);
    // Read the image until the tables are locked, then stop: after the unlock the
    // run blocks on the full pipe while writing the last entries.
    const reader = child.stdout.getReader();
    let bytes = 0;
    let locked = false;
    err.until(/hot copy done; locked/).then(() => (locked = true));
    while (!locked) {
      const r = await Promise.race([reader.read(), err.until(/hot copy done; locked/)]);
      if (r && !r.done) bytes += r.value.length;
      if (r?.done) break;
    }
    await err.until(/unlocked 12 tables after/);
    child.kill(signal);
    await new Promise((r) => setTimeout(r, 300));
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      bytes += r.value.length;
    }
    const [stderr, status] = await Promise.all([err.done, child.status]);
    assert.equal(status.code, 3, `${signal}: ${stderr}`);
    assert.match(stderr, new RegExp(`interrupted by ${signal}`));
    assert.doesNotMatch(stderr, /completed OK/);
    assert.ok(await writable(srv, "db.t11"), `${signal}: tables stayed locked`);
    console.log(`  ${signal} after the unlock: exit ${status.code}, ${bytes} image bytes`);
  }
});

Deno.test("binary: a signal during the last table (its lock waits) leaves no image and no part file, exit 3", async () => {
  await using srv = await startBackupServer();
  await srv.query(
    "CREATE DATABASE db; USE db; CREATE TABLE a (id INT PRIMARY KEY); CREATE TABLE b (id INT PRIMARY KEY);" +
      "INSERT INTO a SELECT seq FROM seq_1_to_1000; INSERT INTO b SELECT seq FROM seq_1_to_1000",
  );
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-signal-" });
  const holder = await mysql.createConnection({ socketPath: srv.socket, user: "root" });
  try {
    await holder.query("BEGIN");
    await holder.query("UPDATE db.b SET id = id WHERE id = 1");
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const image = `${tmp}/${signal}.ibv`;
      const child = spawnImageBackup(
        srv,
        `--backup-image=${image}`,
        "--use-tts=with-full-locking",
        "--lock-per-table",
      );
      const err = stderrLines(child);
      // `a` is done; `b`, the last table, waits for its lock behind the transaction.
      await err.until(/unlocked `db`\.`a` after/);
      await new Promise((r) => setTimeout(r, 300));
      child.kill(signal);
      const [stderr, status] = await Promise.all([err.done, child.status, child.stdout.cancel()]);
      assert.equal(status.code, 3, `${signal}: ${stderr}`);
      assert.doesNotMatch(stderr, /completed OK/);
      assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], `${signal}: left files`);
      assert.ok(await writable(srv, "db.a"), `${signal}: db.a stayed locked`);
    }
  } finally {
    await holder.query("ROLLBACK").catch(() => {});
    await holder.end();
    await Deno.remove(tmp, { recursive: true });
  }
});

import assert from "node:assert/strict";

import { findCommand } from "../lib/commands/mod.ts";
import { openImage } from "../lib/image/reader.ts";
import { MANIFEST_FILE } from "../lib/core/manifest.ts";
import { seed, startBackupServer, writable } from "./fixtures/server.ts";
import { exists } from "./fixtures/tree.ts";

const DENO = new URL("../node_modules/.bin/deno", import.meta.url).pathname;
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** Run cli.ts through bash (so stdout can be redirected); returns exit code and stderr. */
async function ibvault(args: string, redirect = "") {
  const out = await new Deno.Command("bash", {
    args: ["-c", `${DENO} run -A --config ${CONFIG} ${CLI} ${args} ${redirect}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test({
  name: "backup CLI: exit codes, the last line, --json, an image streamed to stdout",
  async fn() {
    assert.ok(findCommand("backup") && findCommand("backup-to-image"), "commands registered");
    await using srv = await startBackupServer();
    await seed(srv);
    const tmp = await Deno.makeTempDir();
    try {
      const conn = `--no-defaults --socket=${srv.socket} --user=root`;
      const ok = await ibvault(
        `backup ${conn} --backup-dir=${tmp}/d --include-tables='^db\\.à' --json`,
      );
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stderr.trimEnd().split("\n").at(-1), "ibvault completed OK!");
      assert.equal(JSON.parse(ok.stdout).totals.tables, 2);
      assert.ok(await exists(`${tmp}/d/${MANIFEST_FILE}`));

      const none = await ibvault(
        `backup ${conn} --backup-dir=${tmp}/e --include-tables='^nothing'`,
      );
      assert.equal(none.code, 2, none.stderr);
      assert.match(none.stderr, /no table to back up matches --include-tables="\^nothing"/);

      const denied = await ibvault(
        `backup --no-defaults --host=127.0.0.1 --port=${srv.port} --user=${srv.user} ` +
          `--password=wrong --backup-dir=${tmp}/f`,
      );
      assert.equal(denied.code, 3, denied.stderr);
      assert.match(denied.stderr, /access denied/);

      const img = `${tmp}/stream.img`;
      const piped = await ibvault(
        `backup-to-image ${conn} --compress --backup-image=- --include-tables='^\`weird db\`'`,
        `> '${img}'`,
      );
      assert.equal(piped.code, 0, piped.stderr);
      const opened = await openImage(
        (async function* () {
          yield await Deno.readFile(img);
        })(),
        { threads: 0 },
      );
      const paths: string[] = [];
      for await (const e of opened.entries()) {
        paths.push(e.path);
        for await (const _ of e.data) { /* read */ }
      }
      await opened.close();
      // minimum locking: the hot copy, the pages taken under the lock, the .cfg, the end facts
      assert.deepEqual(paths, [
        "weird@0020db/t@0020t.ibd",
        "weird@0020db/t@0020t.ibd.delta",
        "weird@0020db/t@0020t.cfg",
        "ibvault_backup_end.json",
      ]);
      assert.ok(await writable(srv, "`weird db`.`t t`"));

      // A reader that goes away early (broken pipe): an error, and the tables unlocked.
      const broken = await ibvault(
        `backup-to-image ${conn} --backup-image=- --include-tables='^db\\.'`,
        "| head -c 100 > /dev/null; exit ${PIPESTATUS[0]}",
      );
      assert.equal(broken.code, 3, broken.stderr);
      assert.doesNotMatch(broken.stderr, /completed OK/);
      assert.ok(await writable(srv, "db.`àbc`"));
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

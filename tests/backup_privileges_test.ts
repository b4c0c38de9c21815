/**
 * The privileges `backup --help` lists are the ones the code really needs
 * (issue 11 item 21): checked with least-privilege users on the throwaway server.
 */
import assert from "node:assert/strict";
import { startServer } from "../scripts/throwaway_server.ts";
import { BINARY } from "./cli_helpers.ts";
import { BACKUP_PRIVILEGES } from "../lib/commands/backup_common.ts";

Deno.test("backup: the listed privileges suffice, and each one is needed", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE db; CREATE TABLE db.t (id INT PRIMARY KEY); INSERT INTO db.t VALUES (1)",
  );
  const dir = await Deno.makeTempDir({ prefix: "ibvault-priv-" });
  try {
    const run = async (user: string, privs: string[]) => {
      await srv.query(
        `CREATE USER ${user}@localhost IDENTIFIED BY 'pw'; GRANT ${
          privs.join(", ")
        } ON *.* TO ${user}@localhost`,
      );
      const out = await new Deno.Command(BINARY, {
        args: [
          "backup",
          "--no-defaults",
          `--socket=${srv.socket}`,
          `--user=${user}`,
          "--password=pw",
          `--backup-dir=${dir}/${user}`,
          "--include-tables=^db\\.",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    const all = await run("uall", [...BACKUP_PRIVILEGES]);
    assert.equal(all.code, 0, all.stderr);
    for (const [i, p] of BACKUP_PRIVILEGES.entries()) {
      const r = await run(`u${i}`, BACKUP_PRIVILEGES.filter((q) => q !== p));
      assert.notEqual(r.code, 0, `backup worked without ${p}`);
      // Without SELECT the tables are not even visible; otherwise the server says denied.
      assert.match(r.stderr, /denied|no table to back up matches/i, r.stderr);
    }
    const help = await new Deno.Command(BINARY, { args: ["backup", "--help"], stdout: "piped" })
      .output();
    assert.match(new TextDecoder().decode(help.stdout), new RegExp(BACKUP_PRIVILEGES.join(", ")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// Issue 15 item 2 over the earlier "not both" refusal: with --backup-image, --backup-dir is
// MEB's working directory of image commands, never refused (meb_cli_test runs it for real).
Deno.test("copy-back with both --backup-dir and --backup-image: the directory is the working directory", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-workdir-" });
  try {
    const out = await new Deno.Command(BINARY, {
      args: [
        "copy-back",
        "--no-defaults",
        `--backup-dir=${tmp}/work`,
        `--backup-image=${tmp}/missing.ibv`,
      ],
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 3, stderr); // the image is missing: a runtime error naming it
    assert.match(stderr, /missing\.ibv/);
    assert.doesNotMatch(stderr, /not both|needs one of/);
    assert.ok((await Deno.stat(`${tmp}/work`)).isDirectory, "the working directory is made");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

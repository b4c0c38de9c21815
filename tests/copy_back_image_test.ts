/**
 * copy-back from images: a compressed, encrypted image file restored into a second
 * server; a wrong key refused before anything is touched; and the pipe
 * `backup-to-image --backup-image=- | copy-back --backup-image=-` between two
 * servers through the command line.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { backupToImageCommand } from "../lib/commands/backup_to_image.ts";
import { findCommand } from "../lib/commands/mod.ts";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";
import { KEY_HEX, OTHER_KEY_HEX } from "./fixtures/keys.ts";
import { contextFor } from "./fixtures/server.ts";
import { checksum, copyBack } from "./fixtures/copy_back.ts";

const KEY = KEY_HEX;
const WRONG = OTHER_KEY_HEX;

async function seed(srv: ThrowawayServer): Promise<void> {
  await srv.query(
    "CREATE DATABASE db; USE db;" +
      "CREATE TABLE `àbc` (id INT PRIMARY KEY, v VARCHAR(100));" +
      "CREATE TABLE `déf` (id INT PRIMARY KEY, t TEXT);" +
      "CREATE TABLE skip_me (id INT PRIMARY KEY);" +
      "INSERT INTO `àbc` SELECT seq, REPEAT('x', seq % 100) FROM seq_1_to_5000;" +
      "INSERT INTO `déf` SELECT seq, MD5(seq) FROM seq_1_to_3000",
  );
}

function keyFile(hex: string): string {
  const f = Deno.makeTempFileSync({ prefix: "ibvault-key-" });
  Deno.writeTextFileSync(f, hex + "\n");
  Deno.chmodSync(f, 0o600);
  return f;
}

Deno.test("copy-back: a compressed, encrypted image into a second server; a wrong key", async () => {
  await using src = await startServer();
  await using dst = await startServer();
  await seed(src);
  const dir = Deno.makeTempDirSync();
  const image = `${dir}/backup.ibi`;
  const key = keyFile(KEY);
  const wrong = keyFile(WRONG);
  try {
    const bctx = contextFor(src, {
      backupImage: image,
      compress: true,
      encrypt: true,
      keyFile: key,
      includeTables: "^db\\.",
    });
    assert.equal(await backupToImageCommand.run(bctx), 0, bctx.report.lines.join("\n"));
    const bad = await copyBack(dst, { backupImage: image, keyFile: wrong, decrypt: true });
    assert.equal(bad.code, 3);
    assert.match(bad.error!.message, /wrong key/);
    assert.equal((await dst.query<unknown[]>("SHOW DATABASES LIKE 'db'")).length, 0);
    const run = await copyBack(dst, {
      backupImage: image,
      keyFile: key,
      decrypt: true,
      excludeTables: "skip_me",
    });
    assert.equal(run.code, 0, run.lines.join("\n"));
    assert.equal(run.json?.restored, 2);
    for (const t of ["db.`àbc`", "db.`déf`"]) {
      assert.equal(await checksum(dst, t), await checksum(src, t), t);
    }
    assert.equal((await dst.query<unknown[]>("SHOW TABLES FROM db LIKE 'skip_me'")).length, 0);
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(key);
    Deno.removeSync(wrong);
  }
});

const registered = !!findCommand("copy-back") && !!findCommand("backup-to-image");
const built = fileURLToPath(new URL("../dist/ibvault", import.meta.url));
const cli = fileURLToPath(new URL("../cli.ts", import.meta.url));
const deno = fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url));

/** argv for ibvault: the built binary when there is one, else cli.ts under deno. */
function ibvault(args: string[]): string[] {
  return existsSync(built) ? [built, ...args] : [deno, "run", "-A", cli, ...args];
}

Deno.test({
  name: "copy-back: backup-to-image --backup-image=- | copy-back --backup-image=- between servers",
  async fn() {
    assert.ok(registered, "copy-back and backup-to-image are registered");
    await using src = await startServer();
    await using dst = await startServer();
    await seed(src);
    const key = keyFile(KEY);
    try {
      const common = ["--no-defaults", "--user=root", "--no-progress", `--key-file=${key}`];
      const script = [
        ibvault([
          ...common,
          `--socket=${src.socket}`,
          "backup-to-image",
          "--backup-image=-",
          "--compress",
          "--encrypt",
          "--include-tables=^db\\.",
        ]),
        ibvault([
          ...common,
          `--socket=${dst.socket}`,
          "copy-back",
          "--backup-image=-",
          "--decrypt",
          "--rename",
          "db.`àbc` TO `new db`.`àbc 2`",
        ]),
      ].map((argv) => argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ")).join(" | ");
      const out = await new Deno.Command("bash", {
        args: ["-o", "pipefail", "-c", script],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, err);
      assert.equal(err.trimEnd().split("\n").at(-1), "ibvault completed OK!");
      assert.equal(await checksum(dst, "`new db`.`àbc 2`"), await checksum(src, "db.`àbc`"));
      assert.equal(await checksum(dst, "db.`déf`"), await checksum(src, "db.`déf`"));
    } finally {
      Deno.removeSync(key);
    }
  },
});

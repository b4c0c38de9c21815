/**
 * MySQL Enterprise Backup command lines as its documentation writes them (issue 15,
 * "Done when"), run with the built binary (dist/ibvault) against two throwaway
 * servers: a TTS backup with `--use-tts --backup-dir=DIR backup`, `apply-log`,
 * `backup-to-image` with both `--backup-dir` and `--backup-image`, `validate` and
 * `list-image` the same way, `copy-back-and-apply-log` from an image with
 * `--uncompress --decrypt --key-file`, and the streaming form
 * `backup-to-image --backup-image=- | copy-back-and-apply-log --backup-image=-` with
 * MEB's InnoDB log options. Each must succeed.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startBackupServer } from "./backup_fixture.ts";
import { BINARY } from "./cli_helpers.ts";
import type { ThrowawayServer } from "../scripts/throwaway_server.ts";

const BIN = BINARY;

async function sh(script: string) {
  const o = await new Deno.Command("bash", {
    args: ["-o", "pipefail", "-c", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

async function seedShop(srv: ThrowawayServer) {
  await srv.query(
    "CREATE DATABASE shop;" +
      "CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(40), qty INT, KEY (item));" +
      "CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(60)) ROW_FORMAT=COMPACT;",
  );
  for (let i = 0; i < 300; i += 50) {
    const rows = Array.from({ length: 50 }, (_, k) => `(${i + k}, 'item ${(i + k) % 7}', ${k})`);
    await srv.query(`INSERT INTO shop.orders VALUES ${rows.join(",")}`);
    await srv.query(
      `INSERT INTO shop.customers VALUES ${
        rows.map((_, k) => `(${i + k}, 'customer ${i + k}')`).join(",")
      }`,
    );
  }
}

async function checksums(srv: ThrowawayServer): Promise<string> {
  const rows = await srv.query<{ Table: string; Checksum: number }[]>(
    "CHECKSUM TABLE shop.orders, shop.customers",
  );
  return rows.map((r) => `${r.Table}=${r.Checksum}`).join(" ");
}

const lastLine = (s: string) => s.trimEnd().split("\n").at(-1);

Deno.test("MEB command lines work as written (binary, throwaway servers)", async () => {
  assert.ok(existsSync(BIN), "dist/ibvault is missing: run deno task compile first");
  await using src = await startBackupServer();
  await using dst = await startBackupServer();
  await seedShop(src);
  const want = await checksums(src);
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-meb-" });
  try {
    await Deno.writeTextFile(`${tmp}/key`, "6b".repeat(32) + "\n", { mode: 0o600 });
    // MEB's own option group carries the connection of the target server.
    await Deno.writeTextFile(
      `${tmp}/dst.cnf`,
      `[mysqlbackup]\nsocket=${dst.socket}\nuser=root\n`,
    );
    const tcp = `-h127.0.0.1 -P${src.port} -u${src.user} --password=${src.password}`;

    // 1. mysqlbackup --user=... --password=... --backup-dir=DIR --use-tts backup
    const full = await sh(
      `${BIN} --no-defaults ${tcp} --use-tts --backup-dir=${tmp}/full --include-tables='^shop\\.' backup`,
    );
    assert.equal(full.code, 0, full.stderr);
    assert.equal(lastLine(full.stderr), "ibvault completed OK!");
    const apply = await sh(`${BIN} --no-defaults apply-log --backup-dir=${tmp}/full`);
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stderr, /consistent as taken/);
    assert.equal(lastLine(apply.stderr), "ibvault completed OK!");
    const v = await sh(`${BIN} --no-defaults validate --backup-dir=${tmp}/full`);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const notBackup = await sh(`${BIN} --no-defaults apply-log --backup-dir=${tmp}`);
    assert.equal(notBackup.code, 2, "apply-log on a directory that is not a backup");

    // backup-and-apply-log: MEB's consistent backup, here backup with a note
    const bal = await sh(
      `${BIN} --no-defaults ${tcp} --backup-dir=${tmp}/bal --include-tables='^shop\\.orders$' ` +
        "backup-and-apply-log",
    );
    assert.equal(bal.code, 0, bal.stderr);
    assert.match(bal.stderr, /backup-and-apply-log runs backup: a TTS backup is consistent/);
    assert.ok(existsSync(`${tmp}/bal/ibvault_manifest.json`));

    // 2. backup-to-image with both --backup-dir (working directory) and --backup-image
    const img = `${tmp}/shop.mbi`;
    const toImage = await sh(
      `${BIN} --no-defaults --socket=${src.socket} --user=root --backup-dir=${tmp}/work ` +
        `--backup-image=${img} --compress --encrypt --key-file=${tmp}/key ` +
        `--include-tables='^shop\\.' backup-to-image`,
    );
    assert.equal(toImage.code, 0, toImage.stderr);
    assert.doesNotMatch(toImage.stderr, /needs one of|not both/);
    assert.ok((await Deno.stat(`${tmp}/work`)).isDirectory);
    for (const cmd of ["validate", "list-image"]) {
      const r = await sh(
        `${BIN} --no-defaults ${cmd} --backup-dir=${tmp}/work --backup-image=${img} ` +
          `--decrypt --key-file=${tmp}/key`,
      );
      assert.equal(r.code, 0, `${cmd}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stderr, /needs one of|not both|only one of/);
    }
    // --with-timestamp: the working directory is DIR/YYYY-MM-DD_HH-MM-SS/
    const stamped = await sh(
      `${BIN} --no-defaults --socket=${src.socket} --user=root --backup-dir=${tmp}/root ` +
        `--with-timestamp --backup-image=${tmp}/stamped.mbi --include-tables='^shop\\.orders$' ` +
        "backup-to-image",
    );
    assert.equal(stamped.code, 0, stamped.stderr);
    const subdirs = [...Deno.readDirSync(`${tmp}/root`)].map((e) => e.name);
    assert.equal(subdirs.length, 1);
    assert.match(subdirs[0], /^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d$/);

    // 3. copy-back-and-apply-log from the image, as MEB restores one
    const restore = await sh(
      `${BIN} --defaults-file=${tmp}/dst.cnf --datadir=${dst.datadir} --backup-dir=${tmp}/restore ` +
        `--backup-image=${img} --uncompress --decrypt --key-file=${tmp}/key ` +
        "copy-back-and-apply-log",
    );
    assert.equal(restore.code, 0, restore.stderr);
    assert.doesNotMatch(restore.stderr, /needs one of|not both/);
    assert.equal(lastLine(restore.stderr), "ibvault completed OK!");
    assert.equal(await checksums(dst), want);

    // 4. the streaming form, with MEB's InnoDB log options on the restoring side
    await dst.query("DROP DATABASE shop");
    const stream = await sh(
      `${BIN} --no-defaults --socket=${src.socket} --user=root --backup-image=- ` +
        `--include-tables='^shop\\.' --compress backup-to-image | ` +
        `${BIN} --defaults-file=${tmp}/dst.cnf --backup-image=- ` +
        `--innodb_log_group_home_dir=${dst.datadir} --innodb_log_files_in_group=2 ` +
        `--innodb_log_file_size=50331648 --innodb_data_file_path=ibdata1:12M:autoextend ` +
        `copy-back-and-apply-log`,
    );
    assert.equal(stream.code, 0, stream.stderr);
    assert.equal(lastLine(stream.stderr), "ibvault completed OK!");
    assert.equal((stream.stderr.match(/^ibvault: note: --innodb-/gm) ?? []).length, 4);
    assert.equal(await checksums(dst), want);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/**
 * MySQL Enterprise Backup command lines as its documentation writes them (issue 15,
 * "Done when"), run with the built binary (dist/ibvault) against two throwaway
 * servers: a TTS backup with `--use-tts --backup-dir=DIR backup`, `apply-log`,
 * `backup-to-image` with both `--backup-dir` and `--backup-image`, `validate` and
 * `list-image` the same way, `copy-back-and-apply-log` from an image with
 * `--uncompress --decrypt --key-file`, and the streaming form
 * `backup-to-image --backup-image=- | copy-back-and-apply-log --backup-image=-` with
 * MEB's InnoDB log options. Each must succeed. Their run logs
 * (`meta/ibvault_<command>_<stamp>.log`, `--log-file`, `--no-log`), `--timestamps`
 * and `--show-progress=file:` (percent up to 100% from a streamed image) are
 * checked on the same runs.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startBackupServer } from "./fixtures/server.ts";
import { BINARY } from "./cli_helpers.ts";
import { KEY_HEX } from "./fixtures/keys.ts";
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

/** The one run log of `command` under `dir/meta/`. */
async function logOf(dir: string, command: string): Promise<string> {
  const names: string[] = [];
  for await (const e of Deno.readDir(`${dir}/meta`)) names.push(e.name);
  const mine = names.filter((n) =>
    new RegExp(`^ibvault_${command}_\\d{8}-\\d{6}(-\\d+)?\\.log$`).test(n)
  );
  assert.equal(mine.length, 1, `one ${command} log in ${dir}/meta: ${names.join(", ")}`);
  return await Deno.readTextFile(`${dir}/meta/${mine[0]}`);
}

/** The log without its time stamps. */
const unstamped = (log: string) => log.trimEnd().split("\n").map((l) => l.replace(/^\S+ /, ""));

Deno.test("MEB command lines work as written (binary, throwaway servers)", async () => {
  assert.ok(existsSync(BIN), "dist/ibvault is missing: run deno task compile first");
  await using src = await startBackupServer();
  await using dst = await startBackupServer();
  await seedShop(src);
  const want = await checksums(src);
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-meb-" });
  try {
    await Deno.writeTextFile(`${tmp}/key`, KEY_HEX + "\n", { mode: 0o600 });
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
    const log = await logOf(`${tmp}/full`, "backup");
    assert.ok(!log.includes(src.password), "the password never reaches the log");
    assert.match(log, /command line: ibvault .*--password=\*\*\* .*backup/);
    assert.match(log, /connection: 127\.0\.0\.1:\d+ as /);
    assert.match(log, /server: 10\.11\.\S+ \(mariadb\), datadir /);
    for (const l of log.trimEnd().split("\n")) {
      assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /, `stamped: ${l}`);
    }
    assert.match(log, /locked 2 tables/); // every message, as on the terminal
    assert.match(log, /backed up 2 table\(s\)/); // the summary
    assert.equal(unstamped(log).at(-1), "ibvault completed OK!");
    const apply = await sh(`${BIN} --no-defaults apply-log --backup-dir=${tmp}/full`);
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stderr, /consistent as taken/);
    assert.equal(lastLine(apply.stderr), "ibvault completed OK!");
    // the meta/ log is not an entry of the backup: validate finds it complete
    const v = await sh(`${BIN} --no-defaults validate --backup-dir=${tmp}/full`);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.doesNotMatch(v.stdout + v.stderr, /unexpected/);
    const notBackup = await sh(`${BIN} --no-defaults apply-log --backup-dir=${tmp}`);
    assert.equal(notBackup.code, 2, "apply-log on a directory that is not a backup");

    // backup-and-apply-log: MEB's consistent backup, here backup with a note
    const bal = await sh(
      `${BIN} --no-defaults ${tcp} --backup-dir=${tmp}/bal --include-tables='^shop\\.orders$' ` +
        `--log-file=${tmp}/bal.log backup-and-apply-log`,
    );
    assert.equal(bal.code, 0, bal.stderr);
    assert.match(bal.stderr, /backup-and-apply-log runs backup: a TTS backup is consistent/);
    assert.ok(existsSync(`${tmp}/bal/ibvault_manifest.json`));
    assert.ok(!existsSync(`${tmp}/bal/meta`), "--log-file: the log goes there, not to meta/");
    assert.match(await Deno.readTextFile(`${tmp}/bal.log`), /ibvault completed OK!\n$/);
    const again = await sh(
      `${BIN} --no-defaults ${tcp} --backup-dir=${tmp}/bal2 --log-file=${tmp}/bal.log backup`,
    );
    assert.equal(again.code, 3, "an existing --log-file is never overwritten");
    assert.match(again.stderr, /already exists/);
    assert.ok(!existsSync(`${tmp}/bal2`), "refused before anything is written");
    const quiet = await sh(
      `${BIN} --no-defaults ${tcp} --backup-dir=${tmp}/nolog --include-tables='^shop\\.orders$' ` +
        "--no-log backup",
    );
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.ok(!existsSync(`${tmp}/nolog/meta`), "--no-log keeps none");

    // 2. backup-to-image with both --backup-dir (working directory) and --backup-image
    const img = `${tmp}/shop.mbi`;
    const toImage = await sh(
      `${BIN} --no-defaults --socket=${src.socket} --user=root --backup-dir=${tmp}/work ` +
        `--backup-image=${img} --compress --encrypt --key-file=${tmp}/key ` +
        `--include-tables='^shop\\.' --timestamps backup-to-image`,
    );
    assert.equal(toImage.code, 0, toImage.stderr);
    for (const l of toImage.stderr.trimEnd().split("\n")) {
      assert.match(l, /^\d{6} \d\d:\d\d:\d\d ibvault/, `MEB time stamp: ${l}`);
    }
    assert.match(await logOf(`${tmp}/work`, "backup-to-image"), /ibvault completed OK!\n$/);
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
    await logOf(`${tmp}/root/${subdirs[0]}`, "backup-to-image");

    // 3. copy-back-and-apply-log from the image, as MEB restores one
    const restore = await sh(
      `${BIN} --defaults-file=${tmp}/dst.cnf --datadir=${dst.datadir} --backup-dir=${tmp}/restore ` +
        `--backup-image=${img} --uncompress --decrypt --key-file=${tmp}/key ` +
        `--show-progress=file:${tmp}/progress --progress-interval=1 copy-back-and-apply-log`,
    );
    assert.equal(restore.code, 0, restore.stderr);
    assert.doesNotMatch(restore.stderr, /needs one of|not both/);
    assert.equal(lastLine(restore.stderr), "ibvault completed OK!");
    assert.equal(await checksums(dst), want);
    // The streamed image's manifest knows the planned size: percent, up to the end.
    assert.match(await Deno.readTextFile(`${tmp}/progress`), /\] 100% copy-back/);
    const restoreLog = await logOf(`${tmp}/restore`, "copy-back-and-apply-log");
    assert.match(restoreLog, /copy-back-and-apply-log runs copy-back/);
    assert.match(restore.stderr, /note: --datadir=\S+: copy-back imports into the running server/);
    assert.match(restoreLog, /--key-file=\S+ /);
    assert.match(restoreLog, /copied back 2 table\(s\)/);

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

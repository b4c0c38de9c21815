/**
 * `deno task demo`: ibvault's main job end to end on a throwaway MariaDB.
 *
 * 1. start a server; create tables with awkward names (`àbc` in `weird db`,
 *    `à123` and a compressed `déf` in `db`) and fill them;
 * 2. `backup` the tables of those databases into a backup directory; `validate` it;
 * 3. `backup-dir-to-image` compressed and encrypted; `list-image`; `validate` the image;
 * 4. `copy-back` one table from the image into the running server under a new
 *    name in a new database, and compare its CHECKSUM TABLE with the original;
 * 5. stop the server and `validate --datadir` its files offline.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "./throwaway_server.ts";
import { main } from "../cli.ts";

const work = mkdtempSync(join(tmpdir(), "ibvault-demo-"));
let failures = 0;

async function ibvault(...args: string[]): Promise<void> {
  console.log(
    `\n$ ibvault ${args.map((a) => /[\s`'"]/.test(a) ? JSON.stringify(a) : a).join(" ")}`,
  );
  const code = await main(args);
  if (code !== 0) {
    console.log(`!!! exit code ${code}`);
    failures++;
  }
}

console.log("=== starting a throwaway MariaDB");
const server = await startServer();
const datadir = server.datadir;
try {
  // Connection details go in an option file, as a DBA would keep them.
  const cnf = join(work, "client.cnf");
  writeFileSync(
    cnf,
    `[client]\nsocket=${server.socket}\nuser=root\n[ibvault]\nno-progress\n`,
    { mode: 0o600 },
  );
  const conn = [`--defaults-file=${cnf}`];
  const key = join(work, "backup.key");
  writeFileSync(
    key,
    crypto.getRandomValues(new Uint8Array(32)).reduce(
      (s, b) => s + b.toString(16).padStart(2, "0"),
      "",
    ) + "\n",
    { mode: 0o600 },
  );

  console.log("=== creating tables: `weird db`.`àbc`, db.`à123`, db.`déf` (compressed)");
  await server.query("CREATE DATABASE `weird db` CHARACTER SET utf8mb4");
  await server.query("CREATE DATABASE db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
  await server.query("CREATE TABLE `weird db`.`àbc` (id INT PRIMARY KEY, note VARCHAR(200))");
  await server.query("CREATE TABLE db.`à123` (id INT PRIMARY KEY, v BLOB, KEY (v(20)))");
  await server.query(
    "CREATE TABLE db.`déf` (id INT PRIMARY KEY, v TEXT) ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8",
  );
  for (let i = 0; i < 20; i++) {
    const rows = Array.from(
      { length: 500 },
      (_, j) => `(${i * 500 + j}, CONCAT('row ', ${i * 500 + j}, ' ', REPEAT('é', 60)))`,
    );
    for (const t of ["`weird db`.`àbc`", "db.`à123`", "db.`déf`"]) {
      await server.query(`INSERT INTO ${t} VALUES ${rows.join(",")}`);
    }
  }

  const dir = join(work, "backup");
  const image = join(work, "backup.ibv");
  await ibvault("backup", ...conn, `--backup-dir=${dir}`, "--include-tables=^(db|weird db)\\.");
  await ibvault("validate", `--backup-dir=${dir}`);
  await ibvault(
    "backup-dir-to-image",
    `--backup-dir=${dir}`,
    `--backup-image=${image}`,
    "--compress",
    "--encrypt",
    `--key-file=${key}`,
  );
  await ibvault("list-image", `--backup-image=${image}`, "--decrypt", `--key-file=${key}`);
  await ibvault("validate", `--backup-image=${image}`, "--decrypt", `--key-file=${key}`);
  await ibvault(
    "copy-back",
    ...conn,
    `--backup-image=${image}`,
    "--decrypt",
    `--key-file=${key}`,
    "--include-tables=^db\\.à123$",
    "--rename=db.à123 TO `restored db`.`new_à123`",
  );
  const [[a], [b]] = await Promise.all([
    server.query<{ Checksum: number }[]>("CHECKSUM TABLE db.`à123`"),
    server.query<{ Checksum: number }[]>("CHECKSUM TABLE `restored db`.`new_à123`"),
  ]);
  console.log(`\nCHECKSUM TABLE db.à123 = ${a.Checksum}, \`restored db\`.new_à123 = ${b.Checksum}`);
  if (a.Checksum !== b.Checksum || a.Checksum === null) failures++;

  console.log("\n=== stopping the server (keeping its data directory)");
  await server.stop({ keepDatadir: true });
  await ibvault("validate", `--datadir=${datadir}`);
} finally {
  await server.stop().catch(() => {});
  rmSync(datadir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
console.log(failures ? `\ndemo: ${failures} step(s) FAILED` : "\ndemo: every step succeeded");
Deno.exit(failures ? 1 : 0);

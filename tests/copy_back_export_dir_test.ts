/**
 * copy-back from a directory prepared by the real `mariadb-backup --backup` +
 * `--prepare --export` (issue 14 item 10): .ibd + .cfg + .frm per table and no
 * ibvault manifest. Definitions come from `--ddl-file` (here `mariadb-dump
 * --no-data`) or `--create-from-server`; the selection, `--rename`, the page
 * checks while staging and the refusals are those of every copy-back.
 */
import assert from "node:assert/strict";
import { startBackupServer } from "./fixtures/server.ts";
import { checksum, copyBack } from "./fixtures/copy_back.ts";
import { openForeignSource } from "../lib/backupdir/foreign_source.ts";
import { findDefinition, parseDdl } from "../lib/backupdir/ddl_file.ts";

async function sh(cmd: string, args: string[]): Promise<string> {
  const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  assert.ok(r.success, `${cmd} ${args.join(" ")}: ${dec.decode(r.stderr).slice(-1500)}`);
  return dec.decode(r.stdout);
}

Deno.test("parseDdl reads mariadb-dump --no-data output and hand-written files", () => {
  const text = "-- comment; with a semicolon\n/*!40101 SET x = 1 */;\nUSE `d b`;\n" +
    "DROP TABLE IF EXISTS `t`;\nCREATE TABLE `t` (\n  `a` int DEFAULT ';' COMMENT 'it''s'\n" +
    ") ENGINE=InnoDB;\nCREATE TABLE IF NOT EXISTS other.`x``y` (b int);\n" +
    "DELIMITER ;;\nCREATE TRIGGER g BEFORE INSERT ON t FOR EACH ROW BEGIN SET @a = 1; END ;;\n" +
    "DELIMITER ;\ncreate table loose (c int);\n";
  const tables = parseDdl(text, "x.sql");
  assert.deepEqual(tables.map((t) => [t.database, t.name]), [
    ["d b", "t"],
    ["other", "x`y"],
    ["d b", "loose"],
  ]);
  assert.match(
    tables[0].statement,
    /^CREATE TABLE `t` \(\n {2}`a` int DEFAULT ';' COMMENT 'it''s'\n\) ENGINE=InnoDB$/,
  );
  assert.equal(findDefinition(tables, "d b", "t")?.name, "t");
  assert.equal(findDefinition(tables, "nope", "t"), undefined);
  const bare = parseDdl("CREATE TABLE t (a int);", "y.sql");
  assert.equal(findDefinition(bare, "any", "t")?.statement, "CREATE TABLE t (a int)");
});

Deno.test("copy-back from a mariadb-backup --prepare --export directory", async () => {
  const srv = await startBackupServer();
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-export-" });
  try {
    await srv.query(
      "CREATE DATABASE d; CREATE DATABASE `we ird` CHARACTER SET latin1;" +
        "CREATE TABLE d.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(100), KEY(v)) ENGINE=InnoDB;" +
        "INSERT INTO d.t (v) SELECT CONCAT('row ', seq) FROM d.seq_1_to_5000;" +
        "CREATE TABLE `we ird`.`àbc` (id INT PRIMARY KEY, w TEXT) ENGINE=InnoDB;" +
        "INSERT INTO `we ird`.`àbc` VALUES (1, 'one'), (2, 'two')",
    );
    const before = await checksum(srv, "d.t");
    const beforeU = await checksum(srv, "`we ird`.`àbc`");
    const dir = `${tmp}/bk`;
    await sh("mariadb-backup", [
      "--backup",
      `--socket=${srv.socket}`,
      "--user=root",
      `--target-dir=${dir}`,
    ]);

    // Not prepared yet: refused with what to do.
    const unprepared = await copyBack(srv, { backupDir: dir, createFromServer: true });
    assert.equal(unprepared.code, 2, unprepared.lines.join("\n"));
    assert.match(
      unprepared.lines.join("\n"),
      /not prepared .*run mariadb-backup --prepare --export/,
    );

    await sh("mariadb-backup", ["--prepare", "--export", `--target-dir=${dir}`]);
    const ddl = `${tmp}/ddl.sql`;
    await Deno.writeTextFile(
      ddl,
      await sh("mariadb-dump", [
        `--socket=${srv.socket}`,
        "--user=root",
        "--no-data",
        "--databases",
        "d",
        "we ird",
      ]),
    );
    // The manifest built from the directory: tables with their .cfg, system schemas left out.
    const built = await openForeignSource(dir, () => Promise.resolve(undefined));
    assert.deepEqual(
      built.manifest.tables.map((t) => [t.database, t.name, t.files]).sort(),
      [["d", "t", ["d/t.ibd", "d/t.cfg"]], ["we ird", "àbc", [
        "we@0020ird/@0gbc.ibd",
        "we@0020ird/@0gbc.cfg",
      ]]],
    );
    assert.equal(built.manifest.server?.flavor, "mariadb");

    // No definitions given: refused, naming the table and the two ways.
    await srv.query("DROP DATABASE d; DROP DATABASE `we ird`");
    const none = await copyBack(srv, { backupDir: dir });
    assert.equal(none.code, 2, none.lines.join("\n"));
    assert.match(none.lines.join("\n"), /`d`\.`t`.*--ddl-file=FILE.*--create-from-server/);

    // Both tables from the DDL file, databases recreated.
    const r = await copyBack(srv, { backupDir: dir, ddlFile: ddl });
    assert.equal(r.code, 0, r.lines.join("\n"));
    assert.equal(await checksum(srv, "d.t"), before);
    assert.equal(await checksum(srv, "`we ird`.`àbc`"), beforeU);
    const [{ n }] = await srv.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM d.t WHERE v LIKE 'row 4%'",
    );
    assert.equal(Number(n), 1111);

    // A second copy under a new name, its definition from the server's d.t.
    const again = await copyBack(srv, {
      backupDir: dir,
      createFromServer: true,
      includeTables: "^d\\.t$",
      rename: ["d.t TO r.t2"],
    });
    assert.equal(again.code, 0, again.lines.join("\n"));
    assert.equal(await checksum(srv, "r.t2"), before);

    // An existing target is never overwritten.
    const exists = await copyBack(srv, { backupDir: dir, ddlFile: ddl, includeTables: "^d\\." });
    assert.notEqual(exists.code, 0);
    assert.equal(await checksum(srv, "d.t"), before);

    // A damaged page in the directory: that table fails untouched.
    await srv.query("DROP TABLE r.t2");
    const ibd = `${dir}/d/t.ibd`;
    const bytes = await Deno.readFile(ibd);
    bytes[4 * 16384 + 500] ^= 0xff;
    await Deno.writeFile(ibd, bytes);
    const bad = await copyBack(srv, {
      backupDir: dir,
      createFromServer: true,
      includeTables: "^d\\.t$",
      rename: ["d.t TO r.t2"],
    });
    assert.equal(bad.code, 1, bad.lines.join("\n"));
    assert.match(bad.lines.join("\n"), /d\/t\.ibd.*page 4/);
    const [{ c }] = await srv.query<{ c: number }[]>(
      "SELECT COUNT(*) AS c FROM information_schema.tables WHERE table_schema = 'r' AND table_name = 't2'",
    );
    assert.equal(Number(c), 0);
  } finally {
    await srv.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});

// MySQL Enterprise Backup spellings at the parser (issue 15 items 3, 4, 6): -u -h -P -S,
// -? for help, MEB's server-side options accepted with a note, the MEB commands, and the
// option groups in the clients' order.
import assert from "node:assert/strict";
import { parseCommandLine } from "../lib/commands/argv.ts";
import { OPTION_GROUPS, readOptionFiles } from "../lib/server/option_file.ts";
import { UsageError } from "../lib/errors.ts";
import { findCommand } from "../lib/commands/mod.ts";
import { mainHelp } from "../lib/commands/help.ts";
import { COMMANDS } from "../lib/commands/mod.ts";

Deno.test("-u -h -P -S as the mysql client takes them; -? is help", () => {
  const p = parseCommandLine(
    ["backup", "-uroot", "-h", "127.0.0.1", "-P3307", "-S", "/run/m.sock", "--backup-dir=d"],
    2,
  );
  assert.equal(p.options.user, "root");
  assert.equal(p.options.host, "127.0.0.1");
  assert.equal(p.options.port, 3307);
  assert.equal(p.options.socket, "/run/m.sock");
  assert.equal(p.help, false);
  assert.deepEqual([...p.given].sort(), ["backup-dir", "host", "port", "socket", "user"]);
  assert.equal(parseCommandLine(["-?"], 2).help, true);
  assert.equal(parseCommandLine(["backup", "-u", "bob"], 2).options.user, "bob");
  assert.equal(parseCommandLine(["backup", "-hdb1"], 2).options.host, "db1");
  assert.throws(() => parseCommandLine(["backup", "-Pabc"], 2), UsageError);
  assert.throws(() => parseCommandLine(["backup", "-P0"], 2), /--port/);
  // -p stays the password's: -pSECRET a value, a bare -p the terminal prompt.
  assert.equal(parseCommandLine(["backup", "-psecret"], 2).options.password, "secret");
  assert.equal(parseCommandLine(["backup", "-p"], 2).askPassword, true);
  assert.match(mainHelp(COMMANDS), /--help, -\?/);
  // an option whose value may be left out shows it in brackets
  assert.match(mainHelp(COMMANDS), /--show-progress\[=DEST\] /);
});

Deno.test("MEB server-side options are accepted with one note each, in any spelling", () => {
  const p = parseCommandLine([
    "copy-back-and-apply-log",
    "--innodb_log_group_home_dir=/var/lib/mysql",
    "--innodb-log-files-in-group=2",
    "--innodb_log_file_size",
    "50331648", // a value as the next word is the option's, not an argument
    "--innodb_data_file_path=ibdata1:12M:autoextend",
    "--limit-memory=300",
    "--skip-binlog",
    "--backup-image=-",
  ], 2);
  assert.equal(p.notes.length, 6);
  assert.match(p.notes[0], /^note: --innodb-log-group-home-dir .*no redo log/);
  assert.match(p.notes[2], /^note: --innodb-log-file-size /);
  assert.match(p.notes[3], /system tablespace/);
  assert.match(p.notes[5], /binary logs/);
  assert.equal(p.options.backupImage, "-");
  assert.deepEqual(p.args, []);
  const cmd = findCommand("copy-back-and-apply-log")!;
  p.checkApplies(cmd); // the noted options are never "does not apply"
  // An option ibvault does not know at all is still refused.
  assert.throws(() => parseCommandLine(["backup", "--sbt-lib-path=/x"], 2), /unknown option/);
  // --use-tts is a real option (the engine's locking modes), not a noted one.
  assert.equal(parseCommandLine(["backup", "--use-tts"], 2).notes.length, 0);
});

Deno.test("MEB's commands are registered, with copy-back's and backup's options", () => {
  const cb = findCommand("copy-back-and-apply-log")!;
  assert.deepEqual(cb.options, findCommand("copy-back")!.options);
  const bl = findCommand("backup-and-apply-log")!;
  assert.deepEqual(bl.options, findCommand("backup")!.options);
  const al = findCommand("apply-log")!;
  assert.ok(al.options.includes("backup-dir") && al.options.includes("backup-image"));
  // --backup-dir beside --backup-image (the working directory) for the image commands
  for (const name of ["backup-to-image", "copy-back", "validate", "list-image", "extract"]) {
    const c = findCommand(name)!;
    assert.ok(c.options.includes("backup-dir") && c.options.includes("backup-image"), name);
  }
  assert.ok(findCommand("backup-to-image")!.options.includes("with-timestamp"));
});

Deno.test("option groups: [mysqlbackup] and the MariaDB client groups, later group wins", async () => {
  assert.deepEqual([...OPTION_GROUPS], [
    "client",
    "client-server",
    "client-mariadb",
    "mariadb-client",
    "mysqlbackup",
    "ibvault",
  ]);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/my.cnf`,
      [
        "[ibvault]",
        "threads=7",
        "[mysqlbackup]",
        "user=meb",
        "backup-dir=/backups/meb",
        "threads=3",
        "innodb_log_file_size=48M",
        "[client-mariadb]",
        "user=cm",
        "port=3310",
        "[client-server]",
        "socket=/run/cs.sock",
        "port=3309",
        "[mariadb-client]",
        "host=mc",
        "[client]",
        "user=cl",
        "host=cl",
        "password=pw",
        "[mysqldump]",
        "user=never",
      ].join("\n"),
    );
    const v = readOptionFiles({ defaultsFile: `${dir}/my.cnf` });
    assert.equal(v.user, "meb"); // [mysqlbackup] over the client groups
    assert.equal(v["backup-dir"], "/backups/meb");
    assert.equal(v.threads, "7"); // [ibvault] over [mysqlbackup]
    assert.equal(v.port, "3310"); // [client-mariadb] over [client-server]
    assert.equal(v.socket, "/run/cs.sock");
    assert.equal(v.host, "mc"); // [mariadb-client] over [client]
    assert.equal(v.password, "pw");
    assert.equal(v["innodb-log-file-size"], "48M"); // read; merging leaves it (no such option)
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

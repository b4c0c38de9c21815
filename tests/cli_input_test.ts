/**
 * Bad command lines against the built binary (issue 11 items 14, 15, 16, 20):
 * argument bytes that are not UTF-8, character sets, option files named but
 * missing, option values checked at parse time, and the password prompt.
 */
import assert from "node:assert/strict";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";
import { latin1, runBinary } from "./cli_helpers.ts";
import { COMMANDS } from "../lib/commands/mod.ts";

async function tableNames(srv: ThrowawayServer, db: string): Promise<string[]> {
  const rows = await srv.query<{ n: string }[]>(
    "SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
    [db],
  );
  return rows.map((r) => r.n).sort();
}

const concat = (...parts: (string | Uint8Array)[]) => {
  const bytes = parts.flatMap((
    p,
  ) => [...(typeof p === "string" ? new TextEncoder().encode(p) : p)]);
  return Uint8Array.from(bytes);
};

Deno.test("binary: argument bytes are decoded under --default-character-set, never turned into U+FFFD", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE db; CREATE TABLE db.plain (id INT PRIMARY KEY); INSERT INTO db.plain VALUES (1)",
  );
  const dir = await Deno.makeTempDir({ prefix: "ibvault-argv-" });
  const conn = [`--socket=${srv.socket}`, "--user=root", "--no-defaults"];
  try {
    const b = await runBinary([
      "backup",
      ...conn,
      `--backup-dir=${dir}/b`,
      "--include-tables=^db\\.",
    ]);
    assert.equal(b.code, 0, b.stderr);
    const restore = (rename: Uint8Array, ...more: string[]) =>
      runBinary([
        "copy-back",
        ...conn,
        `--backup-dir=${dir}/b`,
        "--include-tables=^db\\.plain$",
        concat("--rename=", rename),
        ...more,
      ]);
    // Latin-1 bytes with the default character set: a usage error naming --rename, nothing created.
    const bad = await restore(concat("db.plain TO db.", latin1("new_\u00e0x")));
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(
      bad.stderr,
      /conversion failed for --rename argument .*new_\\xE0x.*not valid UTF-8/,
    );
    assert.match(bad.stderr, /--default-character-set/);
    assert.doesNotMatch(bad.stderr, /\ufffd/);
    assert.deepEqual(await tableNames(srv, "db"), ["plain"]);
    // The same bytes under latin1 are à.
    const l1 = await restore(
      concat("db.plain TO db.", latin1("new_\u00e0x")),
      "--default-character-set=latin1",
    );
    assert.equal(l1.code, 0, l1.stderr);
    assert.deepEqual(await tableNames(srv, "db"), ["new_àx", "plain"]);
    // Byte E0 is alef under hebrew (TextDecoder iso-8859-8), and Cyrillic а under cp1251.
    const he = await restore(
      concat("db.plain TO db.", latin1("heb_\u00e0")),
      "--default-character-set=hebrew",
    );
    assert.equal(he.code, 0, he.stderr);
    const cy = await restore(
      concat("db.plain TO db.", latin1("cyr_\u00e0")),
      "--default-character-set=cp1251",
    );
    assert.equal(cy.code, 0, cy.stderr);
    assert.deepEqual(await tableNames(srv, "db"), ["cyr_а", "heb_א", "new_àx", "plain"]);
    // An option file may set the character set: the command line is read under it.
    await Deno.writeTextFile(`${dir}/l1.cnf`, "[client]\ndefault-character-set=latin1\n");
    const viaFile = await runBinary([
      "copy-back",
      `--defaults-extra-file=${dir}/l1.cnf`,
      `--socket=${srv.socket}`,
      "--user=root",
      `--backup-dir=${dir}/b`,
      "--include-tables=^db\\.plain$",
      concat("--rename=db.plain TO db.", latin1("f_\u00e9")),
    ]);
    assert.equal(viaFile.code, 0, viaFile.stderr);
    assert.ok((await tableNames(srv, "db")).includes("f_é"));
    // A byte hebrew does not define (0xA1) is refused by name.
    const undef = await restore(
      concat("db.plain TO db.", latin1("x\u00a1")),
      "--default-character-set=hebrew",
    );
    assert.equal(undef.code, 2);
    assert.match(undef.stderr, /--rename argument .*\\xA1.*not hebrew text/);
    // Valid UTF-8 holding U+FFFD itself is a legitimate name.
    const fffd = await restore(new TextEncoder().encode("db.plain TO db.r_\ufffd"));
    assert.equal(fffd.code, 0, fffd.stderr);
    // Unknown and unusable character sets are usage errors naming them.
    const bogus = await restore(
      new TextEncoder().encode("db.plain TO db.z"),
      "--default-character-set=bogus",
    );
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /unknown character set "bogus"/);
    const u16 = await restore(
      new TextEncoder().encode("db.plain TO db.z"),
      "--default-character-set=utf16",
    );
    assert.equal(u16.code, 2);
    assert.match(u16.stderr, /--default-character-set=utf16: not usable for a command line/);
    // Invalid UTF-8 in a path is named too (with its control characters escaped).
    const path = await runBinary([
      "validate",
      concat("--backup-dir=/tmp/x", Uint8Array.of(0xff, 0x0a)),
    ]);
    assert.equal(path.code, 2);
    assert.equal(
      path.stderr,
      'ibvault: ERROR: Unicode character conversion failed for --backup-dir argument "--backup-dir=/tmp/x\\xFF\\n": ' +
        "it is not valid UTF-8; give --default-character-set=CHARSET for the character set it is written in (e.g. latin1)\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("binary: a missing option file named on the command line is a usage error for every command", async () => {
  for (const c of COMMANDS) {
    // check-backup follows the monitoring-plugin convention: a usage error is UNKNOWN (3).
    const usage = c.name === "check-backup" ? 3 : 2;
    for (const opt of ["--defaults-extra-file", "--defaults-file"]) {
      const r = await runBinary([c.name, `${opt}=/nonexistent/missing.cnf`]);
      assert.equal(r.code, usage, `${c.name}: ${r.stderr}`);
      assert.equal(
        r.stderr,
        `ibvault: ERROR: ${opt}=/nonexistent/missing.cnf: cannot read the file (no such file)\n`,
      );
    }
    // Even when --no-defaults or --defaults-file mean it would not be read.
    const r = await runBinary([
      c.name,
      "--no-defaults",
      "--defaults-extra-file=/nonexistent/x.cnf",
    ]);
    assert.equal(r.code, usage, `${c.name}: ${r.stderr}`);
    assert.match(r.stderr, /--defaults-extra-file=\/nonexistent\/x\.cnf: cannot read the file/);
  }
});

Deno.test("binary: option values are checked at parse time: exit 2 naming the option, keys never echoed", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["backup", "--backup-dir=/tmp/x", "--port=99999"],
      /--port must be a whole number from 1 to 65535 \(got 99999\)/,
    ],
    [
      ["backup", "--backup-dir=/tmp/x", "--port=0"],
      /--port must be a whole number from 1 to 65535/,
    ],
    [["backup", "--backup-dir=/tmp/x", "--port=33o6"], /--port needs a whole number/],
    [
      ["backup-to-image", "--backup-image=/tmp/x", "--encrypt", "--key=s3cr3tnothex"],
      /--key must be 64 hexadecimal digits \(found a non-hex character\)/,
    ],
    [
      ["backup-to-image", "--backup-image=/tmp/x", "--encrypt", `--key=${"ab".repeat(31)}`],
      /--key must be 64 hexadecimal digits \(found 62\)/,
    ],
    [["validate", "--threads=0", "/x.ibd"], /--threads must be a whole number from 1 to 1024/],
    [
      ["validate", "--innodb-checksum-algorithm=crc33", "/x.ibd"],
      /--innodb-checksum-algorithm 'crc33'/,
    ],
    [
      ["validate", "--page-corrupt-threshold=0", "/x.ibd"],
      /--page-corrupt-threshold must be a whole number from 1/,
    ],
    [["list-image", "--backup-image="], /--backup-image needs a value/],
    [
      ["list-image", "--backup-image=/x", "--key-env=A B"],
      /--key-env must name an environment variable/,
    ],
  ];
  for (const [args, expected] of cases) {
    const r = await runBinary([...args, "--no-defaults"]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, expected);
    assert.doesNotMatch(r.stderr, /s3cr3t|abababab/);
    assert.equal(r.stderr.split("\n").length, 2, r.stderr);
  }
  // The same checks apply to values from option files.
  const dir = await Deno.makeTempDir({ prefix: "ibvault-optcheck-" });
  try {
    await Deno.writeTextFile(`${dir}/my.cnf`, "[client]\nport=70000\n");
    const r = await runBinary(["backup", `--defaults-file=${dir}/my.cnf`, "--backup-dir=/tmp/x"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /option file: --port must be a whole number from 1 to 65535/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("binary: a bare --password or -p asks on the terminal without echo, never takes the next word", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE db; CREATE TABLE db.t (id INT PRIMARY KEY); INSERT INTO db.t VALUES (1)",
  );
  await srv.query(
    "CREATE USER pwuser@localhost IDENTIFIED BY 'Tr1cky pw'; GRANT ALL ON *.* TO pwuser@localhost",
  );
  const dir = await Deno.makeTempDir({ prefix: "ibvault-pw-" });
  try {
    // No terminal: a usage error saying how else to give it; the next word stays the command.
    for (const flag of ["--password", "-p"]) {
      const r = await runBinary([flag, "backup", `--backup-dir=${dir}/n`, "--no-defaults"], {
        mode: "setsid",
      });
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /--password without a value asks for the password on the terminal, and there is none/,
      );
    }
    // On a terminal: the prompt, then the backup with what was typed; the password is not echoed.
    const args = (flag: string, sub: string) => [
      "backup",
      flag,
      "--no-defaults",
      "--user=pwuser",
      `--socket=${srv.socket}`,
      `--backup-dir=${dir}/${sub}`,
      "--include-tables=^db\\.",
    ];
    for (const [flag, sub] of [["--password", "a"], ["-p", "b"]]) {
      const r = await runBinary(args(flag, sub), { mode: "pty", input: "Tr1cky pw\n" });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /Enter password: /);
      assert.match(r.stdout, /ibvault completed OK!/);
      assert.doesNotMatch(r.stdout, /Tr1cky/);
      assert.ok(Deno.statSync(`${dir}/${sub}/ibvault_manifest.json`).isFile);
    }
    // A wrong password typed is the server's refusal (exit 3), not a usage error.
    const wrong = await runBinary(args("-p", "c"), { mode: "pty", input: "nope\n" });
    assert.equal(wrong.code, 3, wrong.stdout);
    assert.match(wrong.stdout, /access denied for user 'pwuser'/);
    // -pVALUE and --password=VALUE give it directly.
    for (const flag of ["-pTr1cky pw", "--password=Tr1cky pw"]) {
      const r = await runBinary(args(flag, `d${flag.length}`), { mode: "setsid" });
      assert.equal(r.code, 0, r.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("binary: --json prints a document with status error on every failure, usage errors included", async () => {
  const cases: [string[], number, RegExp][] = [
    [["backup", "--backup-dir=/tmp/x", "--port=99999"], 2, /--port must be a whole number/],
    [["validate", "--defaults-extra-file=/nonexistent.cnf"], 2, /cannot read the file/],
    [["list-image", "--backup-image=/nonexistent.ibv"], 3, /nonexistent\.ibv/],
    [
      ["backup", "--backup-dir=/tmp/ibvault-json-x", "--socket=/nonexistent.sock"],
      3,
      /cannot connect|nonexistent\.sock/,
    ],
  ];
  for (const [args, code, re] of cases) {
    const r = await runBinary([...args, "--json", "--no-defaults"]);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.command, args[0]);
    assert.equal(doc.status, "error");
    assert.equal(doc.error.exitCode, code);
    assert.match(doc.error.message, re);
  }
});

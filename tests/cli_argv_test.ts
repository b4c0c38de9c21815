import assert from "node:assert/strict";
import { parseCommandLine } from "../lib/commands/argv.ts";
import type { Command } from "../lib/commands/command.ts";
import { UsageError } from "../lib/errors.ts";

const fake: Command = {
  name: "validate",
  summary: "",
  help: "",
  usage: "[FILE ...]",
  options: ["backup-dir", "innodb-checksum-algorithm", "page-corrupt-threshold", "force"],
  run: () => Promise.resolve(0),
};

Deno.test("options may come before or after the command", () => {
  const a = parseCommandLine(["--backup-dir=/x", "validate", "f.ibd"], 2);
  const b = parseCommandLine(["validate", "--backup-dir", "/x", "f.ibd"], 2);
  for (const p of [a, b]) {
    assert.equal(p.command, "validate");
    assert.deepEqual(p.args, ["f.ibd"]);
    assert.equal(p.options.backupDir, "/x");
  }
});

Deno.test("underscores and dashes are the same; --skip-X and --X=0 turn a switch off", () => {
  const p = parseCommandLine(["validate", "--backup_dir=/y", "--skip-force", "--verbose=1"], 2);
  assert.equal(p.options.backupDir, "/y");
  assert.equal(p.options.force, false);
  assert.equal(p.options.verbose, true);
  assert.ok(p.given.has("force"));
  assert.equal(parseCommandLine(["--force=off"], 2).options.force, false);
});

Deno.test("--compress=lz4 sets the method; integers are checked; --rename repeats", () => {
  const p = parseCommandLine(
    ["x", "--compress=lz4", "--threads", "3", "--rename", "a TO b", "--rename=c to d"],
    2,
  );
  assert.equal(p.options.compress, true);
  assert.equal(p.options.compressMethod, "lz4");
  assert.equal(p.options.threads, 3);
  assert.deepEqual(p.options.rename, ["a TO b", "c to d"]);
  assert.throws(() => parseCommandLine(["--threads=many"], 2), /--threads needs a whole number/);
});

Deno.test("unknown options and missing values are one-line usage errors naming them", () => {
  assert.throws(
    () => parseCommandLine(["validate", "--bogus"], 2),
    (e) => e instanceof UsageError && e.message === "unknown option '--bogus' (see ibvault --help)",
  );
  assert.throws(
    () => parseCommandLine(["validate", "--backup-dir"], 2),
    (e) => e instanceof UsageError && /--backup-dir needs a value/.test(e.message),
  );
  assert.throws(() => parseCommandLine(["--force=maybe"], 2), /--force takes no value/);
});

Deno.test("an option the command does not take is refused by name", () => {
  const p = parseCommandLine(["validate", "--rename", "a to b"], 2);
  assert.throws(() => p.checkApplies(fake), /--rename does not apply to validate/);
  parseCommandLine(["validate", "--backup-dir=/d", "--json"], 2).checkApplies(fake);
});

Deno.test("--no-progress and --show-progress", () => {
  assert.equal(parseCommandLine(["--no-progress"], 2).options.showProgress, false);
  assert.equal(parseCommandLine(["--show-progress"], 2).options.showProgress, "stderr");
  assert.equal(parseCommandLine(["--skip-show-progress"], 2).options.showProgress, false);
  assert.equal(
    parseCommandLine(["--show-progress=fifo:/run/p"], 2).options.showProgress,
    "fifo:/run/p",
  );
  assert.throws(() => parseCommandLine(["--show-progress=tty"], 2), /--show-progress takes/);
  assert.throws(() => parseCommandLine(["--progress-interval=0"], 2), /--progress-interval/);
  assert.equal(parseCommandLine([], 2).options.showProgress, undefined);
});

Deno.test("a bare --password or -p asks (never takes the next word); -pX and --password=X give it", () => {
  for (const flag of ["--password", "-p"]) {
    const p = parseCommandLine([flag, "backup", "--backup-dir=/d"], 2);
    assert.equal(p.command, "backup");
    assert.equal(p.askPassword, true);
    assert.equal(p.options.password, undefined);
    assert.ok(p.given.has("password"));
  }
  assert.equal(parseCommandLine(["-psecret", "backup"], 2).options.password, "secret");
  const q = parseCommandLine(["--password=", "backup"], 2);
  assert.equal(q.options.password, "");
  assert.equal(q.askPassword, false);
  // The last one wins, as for other options.
  assert.equal(parseCommandLine(["-p", "--password=x", "backup"], 2).askPassword, false);
  assert.equal(parseCommandLine(["--password=x", "-p", "backup"], 2).askPassword, true);
});

Deno.test("option values are checked at parse time, naming the option", () => {
  assert.throws(
    () => parseCommandLine(["--port=65536"], 2),
    /^UsageError: command line: --port must be a whole number from 1 to 65535 \(got 65536\)$/,
  );
  assert.equal(parseCommandLine(["--port=65535"], 2).options.port, 65535);
  assert.throws(() => parseCommandLine(["--key=xyz"], 2), /--key must be 64 hexadecimal digits/);
  assert.throws(
    () => parseCommandLine(["--default-character-set=bogus"], 2),
    /unknown character set/,
  );
  assert.throws(
    () => parseCommandLine(["--threads=0"], 2),
    /--threads must be a whole number from 1/,
  );
});

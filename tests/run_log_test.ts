// The run log's pieces (issue 15 items 7, 10): masking, the MEB stamp, exclusive creation
// under meta/, the tee, and the --show-progress destinations.
import assert from "node:assert/strict";
import {
  logNameStamp,
  maskedCommandLine,
  mebStamp,
  openRunLogFile,
  openRunLogIn,
  teeReporter,
} from "../lib/progress/run_log.ts";
import { createReporter } from "../lib/progress/reporter.ts";
import { IoError } from "../lib/errors.ts";
import { openProgressSink, parseProgressTarget } from "../lib/progress/destination.ts";
import { UsageError } from "../lib/errors.ts";
import { startOutput } from "../lib/commands/run_output.ts";
import { defaultOptions, type Options } from "../lib/commands/options.ts";

Deno.test("run log: passwords and keys are masked in every spelling", () => {
  const line = maskedCommandLine([
    "backup",
    "--password=s3cret",
    "--pass_word=x", // not the password option: kept
    "--password", // bare: prompts, the next word is not a value
    "--backup-dir=/b",
    "--key",
    "00ff",
    "--key=abcd",
    "--KEY_FILE=/k2",
    "-ptopsecret",
    "-p",
    "--include-tables=^a b$",
    "--key-file=/k",
  ]);
  assert.doesNotMatch(line, /s3cret|00ff|abcd|topsecret/);
  assert.equal(
    line,
    "backup --password=*** --pass_word=x --password --backup-dir=/b --key *** --key=*** " +
      "--KEY_FILE=/k2 -p*** -p '--include-tables=^a b$' --key-file=/k",
  );
});

Deno.test("run log: MEB stamp and file-name stamp formats", () => {
  const d = new Date(2026, 0, 2, 3, 4, 5); // local time
  assert.equal(mebStamp(d), "260102 03:04:05");
  assert.match(logNameStamp(new Date(Date.UTC(2026, 11, 1, 21, 5, 9))), /^20261201-210509$/);
});

Deno.test("run log: meta/ibvault_<command>_<stamp>.log, exclusive, never through a link", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const now = new Date(Date.UTC(2026, 11, 1, 21, 5, 9));
    const a = openRunLogIn(tmp, "backup", now);
    const b = openRunLogIn(tmp, "backup", now);
    assert.equal(a.path, `${tmp}/meta/ibvault_backup_20261201-210509.log`);
    assert.equal(b.path, `${tmp}/meta/ibvault_backup_20261201-210509-2.log`);
    a.line("first\nsecond");
    a.close();
    a.line("after close: dropped");
    b.close();
    const text = await Deno.readTextFile(a.path);
    // Continuation lines are indented (printableLines): no name can forge a line of its own.
    assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z first\n\S+Z {3}second\n$/);
    await Deno.symlink(`${tmp}/elsewhere`, `${tmp}/link.log`);
    assert.throws(() => openRunLogFile(`${tmp}/link.log`), IoError);
    assert.throws(() => openRunLogFile(a.path), /already exists/);
    await assert.rejects(() => Deno.stat(`${tmp}/elsewhere`));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("run log: the tee keeps messages until the log opens, progress stays out", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const shown: string[] = [];
    const holder: { log?: ReturnType<typeof openRunLogFile> } = {};
    const r = teeReporter(
      createReporter({ showProgress: true, isTTY: false, write: (s) => void shown.push(s) }),
      () => holder.log,
    );
    r.info("before");
    r.progress({ label: "copying", done: 1, total: 2, unit: "items" });
    const log = holder.log = openRunLogFile(`${tmp}/x.log`);
    r.warn("careful");
    r.error("bad");
    log.close();
    const lines = (await Deno.readTextFile(`${tmp}/x.log`)).trim().split("\n")
      .map((l) => l.replace(/^\S+ /, ""));
    assert.deepEqual(lines, ["before", "WARNING: careful", "ERROR: bad"]);
    assert.equal(shown.filter((s) => s.startsWith("ibvault:")).length, 3);
    assert.ok(shown.some((s) => s.includes("copying")));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("--show-progress destinations: parsed, files made, a FIFO without reader refused", async () => {
  assert.deepEqual(parseProgressTarget(true), { kind: "stderr" });
  assert.deepEqual(parseProgressTarget("stdout"), { kind: "stdout" });
  assert.deepEqual(parseProgressTarget("file:/a:b"), { kind: "file", path: "/a:b" });
  assert.deepEqual(parseProgressTarget("fifo:/p"), { kind: "fifo", path: "/p" });
  assert.throws(() => parseProgressTarget("tty"), UsageError);
  const tmp = await Deno.makeTempDir();
  try {
    const f = openProgressSink({ kind: "file", path: `${tmp}/p.txt` });
    f.write("10%\n");
    f.close();
    assert.equal(await Deno.readTextFile(`${tmp}/p.txt`), "10%\n");
    const mk = await new Deno.Command("mkfifo", { args: [`${tmp}/fifo`] }).output();
    assert.equal(mk.code, 0);
    assert.throws(
      () => openProgressSink({ kind: "fifo", path: `${tmp}/fifo` }),
      /no process is reading the FIFO/,
    );
    assert.throws(() => openProgressSink({ kind: "fifo", path: `${tmp}/p.txt` }), /not a FIFO/);
    // With a reader, lines arrive.
    const reader = new Deno.Command("cat", { args: [`${tmp}/fifo`], stdout: "piped" }).spawn();
    let sink;
    for (let i = 0; i < 100 && !sink; i++) {
      try {
        sink = openProgressSink({ kind: "fifo", path: `${tmp}/fifo` });
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert.ok(sink, "the reader opened the FIFO");
    sink.write("50% ETA 3s\n");
    sink.close();
    const out = await reader.output();
    assert.equal(new TextDecoder().decode(out.stdout), "50% ETA 3s\n");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("progress: every --progress-interval, the end once, stamped with --timestamps", () => {
  const out: string[] = [];
  const progress: string[] = [];
  const r = createReporter({
    showProgress: true,
    isTTY: false,
    write: (s) => void out.push(s),
    progress: { write: (s) => void progress.push(s), isTTY: false },
    intervalMs: 60_000,
    stamp: () => "261202 01:02:03",
  });
  for (let done = 0; done <= 100; done += 10) {
    r.progress({ label: "copy-back", done, total: 100, unit: "bytes" });
  }
  r.progress({ label: "copy-back", done: 100, total: 100, unit: "bytes" });
  r.info("done");
  // the first update, then nothing for a minute but the end, shown once
  assert.equal(progress.length, 2, progress.join(""));
  assert.match(progress[0], /^261202 01:02:03 \[\.{20}\] 0% copy-back/);
  assert.match(progress[1], /\] 100% copy-back 100 B \/ 100 B/);
  assert.deepEqual(out, ["261202 01:02:03 ibvault: done\n"]); // messages stay apart
});

Deno.test("--show-progress=stdout only where stdout is free", () => {
  const o = (extra: Partial<Options>) => ({
    ...defaultOptions(2),
    showProgress: "stdout",
    ...extra,
  });
  const refused = [
    ["backup-to-image", { backupImage: "-" }, /stdout carries the image/],
    ["backup", { json: true }, /stdout carries the --json report/],
    ["list-image", { backupImage: "x.ibv" }, /stdout carries what list-image prints/],
  ] as const;
  for (const [command, extra, why] of refused) {
    assert.throws(() => startOutput(command, o(extra), []), why);
  }
  // copy-back reads the image from stdin: its stdout is free for progress
  const out = startOutput("copy-back", o({ backupImage: "-", noLog: true }), []);
  out.end(0);
});

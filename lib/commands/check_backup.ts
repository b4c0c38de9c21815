/**
 * `ibvault check-backup`: a monitoring plugin (Nagios/Icinga conventions) over
 * the newest backup of a root, one backup directory, or an image. The checks are
 * lib/monitor/check.ts; this module turns options into them and prints the
 * status line (or, with --json, the verdict as JSON). Every failure, bad options
 * included, is UNKNOWN (exit 3) with a status line, as plugins must.
 */
import process from "node:process";
import type { Command, CommandContext } from "./command.ts";
import { UsageError } from "../errors.ts";
import { checkBackup, type CheckResult } from "../monitor/check.ts";
import { codeOf, type State, statusLine } from "../monitor/plugin.ts";
import { RunReport, type RunStatus } from "./run_report.ts";
import { parseDuration, parseSize } from "../retention/duration.ts";
import { compileTableRegex } from "../names/filter.ts";
import { decodeArgument } from "../names/charset.ts";
import { loadKey } from "../image/key.ts";
import { backupOpener } from "./open_source.ts";

/** Default ages for a nightly backup: a missed night warns, two missed nights are critical. */
export const DEFAULT_WARNING_AGE = "26h";
export const DEFAULT_CRITICAL_AGE = "50h";

async function judge(ctx: CommandContext): Promise<CheckResult> {
  const o = ctx.options;
  if ((o.backupDir === undefined) === (o.backupImage === undefined)) {
    throw new UsageError("check-backup needs one of --backup-dir=ROOT|DIR or --backup-image=FILE");
  }
  if (o.backupImage === "-") throw new UsageError("check-backup reads a file, not stdin");
  const warningAgeMs = parseDuration(o.warningAge ?? DEFAULT_WARNING_AGE, "--warning-age");
  const criticalAgeMs = parseDuration(o.criticalAge ?? DEFAULT_CRITICAL_AGE, "--critical-age");
  if (warningAgeMs > criticalAgeMs) {
    throw new UsageError("--warning-age must not be longer than --critical-age");
  }
  const expectTables = o.expectTables.map((raw) => {
    const source = decodeArgument(raw, o.defaultCharacterSet, "--expect-tables");
    return { source, re: compileTableRegex(source, "--expect-tables") };
  });
  return await checkBackup({
    backupDir: o.backupDir,
    backupImage: o.backupImage,
    opener: backupOpener(ctx, await loadKey(o, (m) => ctx.report.warn(m))),
    warningAgeMs,
    criticalAgeMs,
    minBytes: o.minSize === undefined ? undefined : parseSize(o.minSize, "--min-size"),
    expectTables,
    validate: o.validate,
    threads: o.threads,
    signal: ctx.signal,
  });
}

/** The run status of the common --json document for a plugin state. */
function runStatus(state: State): RunStatus {
  return state === "OK" || state === "WARNING" ? "ok" : state === "CRITICAL" ? "corrupt" : "error";
}

async function run(ctx: CommandContext): Promise<number> {
  const rep = new RunReport(ctx, "check-backup");
  let result: CheckResult;
  try {
    result = await judge({ ...ctx, report: rep.report });
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    const line = statusLine("UNKNOWN", message);
    if (ctx.options.json) {
      ctx.printJson(rep.document("error", { state: "UNKNOWN", code: 3, line }, e));
    } else process.stdout.write(line + "\n");
    return 3;
  }
  const code = codeOf(result.state);
  if (ctx.options.json) {
    const b = result.backup;
    const totals = {
      backups: result.backups,
      ...(b ? { tables: b.tables, bytes: b.bytes, corruptPages: b.corruptPages ?? 0 } : {}),
    };
    ctx.printJson(rep.document(runStatus(result.state), { totals, ...result, code }));
  } else {
    const rest = result.findings.map((f) => `${f.state}: ${f.message}`);
    process.stdout.write([result.line, ...rest].join("\n") + "\n");
  }
  return code;
}

/** The `check-backup` command. */
export const checkBackupCommand: Command = {
  name: "check-backup",
  summary: "monitoring plugin: is the newest backup there, young, complete and sound?",
  usage: "--backup-dir=ROOT|DIR | --backup-image=FILE [--warning-age=26h] " +
    "[--critical-age=50h] [--min-size=SIZE] [--expect-tables=REGEX] [--validate]",
  help: `Follows the Nagios/Icinga plugin conventions: the first line on stdout is
the status (IBVAULT OK - newest backup 2026-11-30 02:00 (7h ago), 12 tables,
3.1 GiB, validated | age=25200s size=3328599654B tables=12), one line per
finding follows; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

--backup-dir is a backup directory, or a root of them (--with-timestamp), whose
newest backup (by manifest createdAt) is judged; --backup-image one image
(--key-file for an encrypted one; without the key it is UNKNOWN). Always
checked: the manifest, every entry against it (size and CRC-32C; an image's
every chunk and its end record), the age (--warning-age, default
${DEFAULT_WARNING_AGE}; --critical-age, default ${DEFAULT_CRITICAL_AGE}; 90s, 36h, 7d),
--min-size (CRITICAL below it), --expect-tables=REGEX (CRITICAL when no table of
the newest backup matches it; repeatable). --validate also checks every page's
checksum (slower: reads and judges every page). --json prints the verdict as
one JSON document instead of the lines (the common report: status ok for OK and
WARNING, corrupt for CRITICAL, error for UNKNOWN; state, code and line as the plugin
says).`,
  options: [
    "backup-dir",
    "backup-image",
    "warning-age",
    "critical-age",
    "min-size",
    "expect-tables",
    "validate",
    "default-character-set",
    "decrypt",
    "key-file",
    "key",
    "key-env",
  ],
  run,
};

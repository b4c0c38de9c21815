/**
 * The ibvault command line: parse options (command line over option files), pick
 * the command, run it, map errors to exit codes. Written against `node:` APIs so
 * the same file is the entry point under Deno and in a bun-compiled binary.
 */
import process from "node:process";
import os from "node:os";
import { COMMANDS, findCommand } from "./lib/commands/mod.ts";
import { commandHelp, mainHelp } from "./lib/commands/help.ts";
import { type RunOutput, startOutput } from "./lib/commands/run_output.ts";
import { exitCodeOf, IbvaultError, UsageError } from "./lib/errors.ts";
import { VERSION } from "./lib/version.ts";
import { applyOptionFiles } from "./lib/commands/option_merge.ts";
import { decodeArguments } from "./lib/commands/command_line.ts";
import { commandLineBytes } from "./lib/names/cmdline.ts";
import { promptPassword } from "./lib/server/password_prompt.ts";
import { printableLines } from "./lib/names/printable.ts";

/**
 * Run ibvault with these arguments (strings, or the raw bytes of each argument as
 * the user sent them); resolves to the process exit code. The run log, when one
 * was opened, ends with how the run ended.
 */
export async function main(argv: readonly (string | Uint8Array)[]): Promise<number> {
  const out: { current?: RunOutput } = {};
  const code = await run(argv, out);
  out.current?.end(code);
  return code;
}

async function run(
  argv: readonly (string | Uint8Array)[],
  out: { current?: RunOutput },
): Promise<number> {
  const controller = new AbortController();
  const started = new Date();
  let jsonFor: string | undefined;
  let ran = false;
  let reportError: (m: string) => void = (m) =>
    void process.stderr.write(`ibvault: ERROR: ${printableLines(m)}\n`);
  const onSignal = (sig: string) => {
    if (controller.signal.aborted) process.exit(130);
    reportError(`interrupted by ${sig}: cleaning up (press again to quit at once)`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  const sigint = () => onSignal("SIGINT");
  const sigterm = () => onSignal("SIGTERM");
  process.on("SIGINT", sigint);
  process.on("SIGTERM", sigterm);
  try {
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    const line = decodeArguments(argv);
    let parsed = line.parse(cores);
    if (parsed.version) {
      process.stdout.write(`ibvault ${VERSION}\n`);
      return 0;
    }
    const command = parsed.command ? findCommand(parsed.command) : undefined;
    if (parsed.command && !command) {
      throw new UsageError(`unknown command '${parsed.command}' (see ibvault --help)`);
    }
    if (parsed.help) {
      process.stdout.write(command ? commandHelp(command) : mainHelp(COMMANDS));
      return 0;
    }
    if (!command) {
      throw new UsageError(
        `no command given: one of ${COMMANDS.map((c) => c.name).join(", ")} (see ibvault --help)`,
      );
    }
    // From here the command is known: a failure before it runs is a --json document too.
    if (parsed.given.has("json")) jsonFor = command.name;
    parsed.checkApplies(command);
    let options = applyOptionFiles(parsed.options, parsed.given, command);
    const reread = line.underCharset(options.defaultCharacterSet, cores);
    if (reread) {
      // An option file chose the character set: the command line is read again under it.
      parsed = reread;
      parsed.checkApplies(command);
      options = applyOptionFiles(parsed.options, parsed.given, command);
    }
    if (parsed.askPassword) options.password = await promptPassword(controller.signal);
    const decoder = new TextDecoder();
    out.current = startOutput(
      command.name,
      options,
      argv.map((a) => (typeof a === "string" ? a : decoder.decode(a))),
    );
    const report = out.current.report;
    reportError = report.error;
    for (const n of parsed.notes) report.info(n); // MEB options accepted and ignored
    jsonFor = undefined; // the command's own run report prints its document, on failure too
    ran = true;
    const code = await command.run({
      options,
      args: parsed.args,
      report,
      signal: controller.signal,
      printJson: (v) => void process.stdout.write(JSON.stringify(v, null, 2) + "\n"),
      log: out.current.control,
    });
    report.endProgress();
    // A signal means the run did not finish as asked, whatever the command returned:
    // never the completion line then (exit 3; a second signal quits at once, 130).
    if (controller.signal.aborted) {
      report.error(`${(controller.signal.reason as Error).message}: the run did not complete`);
      return 3;
    }
    if (code === 0) process.stderr.write(out.current.completedLine() + "\n");
    return code;
  } catch (err) {
    const message = err instanceof IbvaultError || !(err instanceof Error)
      ? String((err as Error)?.message ?? err)
      : `${err.message}${process.env.IBVAULT_DEBUG ? "\n" + err.stack : ""}`;
    reportError(message);
    // A usage error while parsing: the command is known if the command line names one.
    if (!ran && !jsonFor && argv.some((a) => a === "--json")) {
      jsonFor = COMMANDS.find((c) => argv.includes(c.name))?.name;
    }
    if (jsonFor) {
      // The one document shape (run_report.ts), for a run that never started.
      const error = { kind: (err as Error)?.name ?? "Error", message, exitCode: exitCodeOf(err) };
      const doc = {
        command: jsonFor,
        status: "error",
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        seconds: (Date.now() - started.getTime()) / 1000,
        server: null,
        totals: {},
        warnings: [],
        error,
      };
      process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
    }
    // A monitoring plugin answers UNKNOWN (3) with a status line for any error.
    if (argv.includes("check-backup")) {
      process.stdout.write(`IBVAULT UNKNOWN - ${message.replaceAll("|", "/")}\n`);
      return 3;
    }
    return exitCodeOf(err);
  } finally {
    process.off("SIGINT", sigint);
    process.off("SIGTERM", sigterm);
  }
}

if (import.meta.main) {
  const code = await main(commandLineBytes(process.argv.slice(2)));
  // Let stdout drain before leaving (it may be a pipe).
  process.exitCode = code;
  if (process.stdout.writableNeedDrain) {
    process.stdout.once("drain", () => process.exit(code));
  } else {
    process.exit(code);
  }
}

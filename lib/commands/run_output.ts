/**
 * Where a run's messages, progress and log go, from the options: the reporter
 * (`--timestamps` stamps its lines), the progress destination
 * (`--show-progress[=stderr|stdout|file:PATH|fifo:PATH]`, `--progress-interval`)
 * and the run log (`--log-file`, `--no-log`, else `DIR/meta/` once the command
 * knows DIR: {@link RunLogControl}).
 */
import process from "node:process";
import type { Options } from "./options.ts";
import type { RunLogControl } from "./command.ts";
import { UsageError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { createReporter, type Reporter } from "../progress/reporter.ts";
import {
  openProgressSink,
  parseProgressTarget,
  type ProgressSink,
} from "../progress/destination.ts";
import {
  maskedCommandLine,
  mebStamp,
  openRunLogFile,
  openRunLogIn,
  type RunLog,
  teeReporter,
} from "../progress/run_log.ts";

/** Commands that write an image to stdout with `--backup-image=-`. */
const IMAGE_TO_STDOUT = ["backup-to-image", "backup-dir-to-image"];
/** Commands whose result is printed on stdout. */
const PRINTS_TO_STDOUT = ["list-image", "check-backup"];

/** The outputs of one run. */
export interface RunOutput {
  /** The reporter commands get: messages to stderr (and the log), progress to its destination. */
  report: Reporter;
  /** Given to the command as `ctx.log`. */
  control: RunLogControl;
  /** The line after a successful run, stamped with --timestamps. */
  completedLine(): string;
  /** Record how the run ended (`ibvault completed OK!` or the exit code) and close everything. */
  end(code: number): void;
}

/**
 * Open the outputs of a run of `command` with `o`, whose command line was `argv`.
 * A --log-file that cannot be made, or a progress destination that cannot be
 * opened, stops the run here, before anything is touched; the default log
 * (`DIR/meta/`) is opened by the command and only warned about if it cannot be.
 */
export function startOutput(command: string, o: Options, argv: readonly string[]): RunOutput {
  const target = typeof o.showProgress === "string"
    ? parseProgressTarget(o.showProgress)
    : undefined;
  if (target?.kind === "stdout") {
    const taken = o.json
      ? "the --json report"
      : o.backupImage === "-" && IMAGE_TO_STDOUT.includes(command)
      ? "the image"
      : PRINTS_TO_STDOUT.includes(command)
      ? `what ${command} prints`
      : undefined;
    if (taken) throw new UsageError(`--show-progress=stdout: stdout carries ${taken}`);
  }
  let log: RunLog | undefined = o.logFile !== undefined && !o.noLog
    ? openRunLogFile(o.logFile)
    : undefined;
  let sink: ProgressSink | undefined;
  try {
    sink = target && target.kind !== "stderr" ? openProgressSink(target) : undefined;
  } catch (e) {
    log?.close();
    throw e;
  }
  const inner = createReporter({
    showProgress: o.showProgress === false ? false : target ? true : undefined,
    progress: sink,
    intervalMs: o.progressInterval !== undefined ? o.progressInterval * 1000 : undefined,
    stamp: o.timestamps ? () => mebStamp() : undefined,
  });
  const report = teeReporter(inner, () => log);
  const header = () => {
    log!.line(`ibvault ${VERSION} ${command}`);
    log!.line(`command line: ibvault ${maskedCommandLine(argv)}`);
    log!.line(`working directory: ${process.cwd()}`);
    const where = o.socket ? `socket ${o.socket}` : `${o.host ?? "localhost"}:${o.port ?? 3306}`;
    log!.line(`connection: ${where} as ${o.user ?? "(current user)"}`);
  };
  if (log) header();
  return {
    report,
    control: {
      openIn(dir) {
        if (log || o.noLog) return;
        try {
          log = openRunLogIn(dir, command);
        } catch (e) {
          inner.warn(`${(e as Error).message}: this run keeps no log`);
          return;
        }
        header();
        report.flush();
      },
      note(text) {
        log?.line(text);
      },
    },
    completedLine: () => `${o.timestamps ? mebStamp() + " " : ""}ibvault completed OK!`,
    end(code) {
      log?.line(code === 0 ? "ibvault completed OK!" : `exit code ${code}`);
      log?.close();
      log = undefined;
      sink?.close();
    },
  };
}

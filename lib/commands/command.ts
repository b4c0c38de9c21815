/**
 * The contract between cli.ts and a command module: each command is a plain async
 * function over the typed options, described by a {@link Command} record.
 */
import type { Options } from "./options.ts";
import type { Reporter } from "../progress/reporter.ts";

/** What a command gets to run with. */
export interface CommandContext {
  options: Options;
  /** Positional arguments after the command name (e.g. .ibd paths for validate). */
  args: string[];
  report: Reporter;
  /** Aborted on SIGINT/SIGTERM/broken pipe: long work must stop and clean up. */
  signal: AbortSignal;
  /** Writes `--json` output (stdout). */
  printJson(value: unknown): void;
  /** The run log (absent: none is kept, e.g. in tests). */
  log?: RunLogControl;
}

/**
 * How a command places and feeds its run log: `openIn(dir)` once the backup (or
 * working) directory exists, making `dir/meta/ibvault_<command>_<stamp>.log`
 * (nothing when --log-file or --no-log decided already); `note(text)` for a
 * line only the log gets (the server, say).
 */
export interface RunLogControl {
  openIn(dir: string): void;
  note(text: string): void;
}

/** A command: its name, help, accepted options, and its run function. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Paragraphs shown by `ibvault COMMAND --help` after the usage line. */
  help: string;
  /** Usage line after `ibvault COMMAND` (e.g. `--backup-dir=DIR [FILE.ibd ...]`). */
  usage: string;
  /** Long names of the options this command accepts, besides --help and progress/json ones. */
  options: string[];
  /** What an option means for this command, where it differs from the option table's text. */
  optionHelp?: Record<string, string>;
  /** Run; resolve to the exit code (0 ok, 1 corruption found). Throw typed errors. */
  run(ctx: CommandContext): Promise<number>;
}

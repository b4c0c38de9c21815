/**
 * Command-line parsing with `node:util` parseArgs over the option table: options
 * before or after the command, `--a_b` same as `--a-b` (as mysqld allows),
 * `--compress=lz4`, `--no-progress`, the mysql client's `-u -h -P -S` (help is
 * `--help` or `-?`, as there), MEB's server-side options noted
 * (`meb_options.ts`), and one-line usage errors.
 */
import { parseArgs } from "node:util";
import {
  COMMON_OPTIONS,
  defaultOptions,
  OPTION_SPECS,
  type Options,
  type OptionSpec,
} from "./options.ts";
import type { Command } from "./command.ts";
import { UsageError } from "../errors.ts";
import { checkOptionValue } from "./option_checks.ts";
import { mebNote, mebNotedOption } from "./meb_options.ts";

/**
 * Short forms as the mysql client takes them (`-uroot`, `-u root`, `-h host`,
 * `-P 3306`, `-S /run/mysqld/mysqld.sock`); `-p` is handled with the password.
 */
export const SHORT_OPTIONS: Readonly<Record<string, string>> = {
  user: "u",
  host: "h",
  port: "P",
  socket: "S",
};

/** The result of parsing argv, before option files are applied. */
export interface ParsedCommandLine {
  command?: string;
  args: string[];
  help: boolean;
  version: boolean;
  /** A bare `--password` or `-p` was given (last): ask for the password on the terminal. */
  askPassword: boolean;
  options: Options;
  /** Long names of the options given on the command line. */
  given: Set<string>;
  /** One-line notes on MEB options accepted and ignored (`mebNote`), in the order given. */
  notes: string[];
  /** Throw a UsageError if an option given does not apply to this command. */
  checkApplies(command: Command): void;
}

/** Find the spec of a long option name, or undefined. */
export function findOptionSpec(name: string): OptionSpec | undefined {
  return OPTION_SPECS.find((s) => s.name === name);
}

/** Convert and store one option value into `options` (shared with option files). */
export function setOption(options: Options, spec: OptionSpec, raw: string | boolean, from: string) {
  const target = options as unknown as Record<string, unknown>;
  switch (spec.type) {
    case "boolean":
      if (typeof raw === "string") {
        const v = raw.toLowerCase();
        if (!["1", "0", "true", "false", "on", "off", "yes", "no", ""].includes(v)) {
          throw new UsageError(`${from}: --${spec.name} takes no value (got '${raw}')`);
        }
        target[spec.field] = ["1", "true", "on", "yes", ""].includes(v);
      } else target[spec.field] = raw;
      break;
    case "integer": {
      const text = String(raw);
      if (!/^\d+$/.test(text)) {
        throw new UsageError(`${from}: --${spec.name} needs a whole number (got '${text}')`);
      }
      target[spec.field] = Number(text);
      break;
    }
    case "list":
      (target[spec.field] as string[]).push(String(raw));
      break;
    default:
      // A bare name in an option file (`show-progress`): the option's value when left out.
      if (raw === true && spec.optionalValue !== undefined) raw = spec.optionalValue;
      if (typeof raw !== "string") {
        throw new UsageError(`${from}: --${spec.name} needs a value`);
      }
      target[spec.field] = raw;
  }
  const stored = target[spec.field];
  const problem = checkOptionValue(spec.name, Array.isArray(stored) ? stored.at(-1) : stored);
  if (problem) {
    throw new UsageError(
      problem.includes(`--${spec.name}`)
        ? `${from}: ${problem}`
        : `${from}: --${spec.name} ${problem}`,
    );
  }
}

/** Internal switch that a bare `--password` / `-p` becomes. */
const ASK_PASSWORD = "ask-password";

const TRUE_WORDS = ["1", "true", "on", "yes"];
const FALSE_WORDS = ["0", "false", "off", "no"];

/**
 * Rewrite MySQL-style spellings into what parseArgs takes: `--a_b` → `--a-b`,
 * `--compress=lz4` → `--compress --compress-method=lz4`, `--skip-foo` and
 * `--foo=0` → remembered as false (returned in `falses`), `--foo=1` → `--foo`.
 */
function normaliseArgs(
  argv: string[],
): { args: string[]; falses: Set<string>; notes: string[] } {
  const args: string[] = [];
  const falses = new Set<string>();
  const notes: string[] = [];
  let rest = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    // mysql client spellings: a bare --password or -p asks on the terminal (it
    // never takes the next word); -pSECRET is --password=SECRET.
    if (!rest && (arg === "-p" || arg === "--password")) {
      args.push(`--${ASK_PASSWORD}`);
      continue;
    }
    if (!rest && arg.startsWith("-p") && !arg.startsWith("--")) {
      args.push(`--password=${arg.slice(2)}`);
      continue;
    }
    if (rest || !arg.startsWith("--") || arg === "--") {
      rest ||= arg === "--";
      args.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    let name = (eq < 0 ? arg.slice(2) : arg.slice(2, eq)).replaceAll("_", "-");
    const value = eq < 0 ? undefined : arg.slice(eq + 1);
    const noted = findOptionSpec(name) ? undefined : mebNotedOption(name);
    if (noted) {
      // `--innodb_log_file_size 48M`: the next word is its value, not an argument.
      if (noted.takesValue && value === undefined && i + 1 < argv.length) i++;
      notes.push(mebNote(name));
      continue;
    }
    if (name.startsWith("skip-") && !findOptionSpec(name) && findOptionSpec(name.slice(5))) {
      name = name.slice(5);
      if (value !== undefined) throw new UsageError(`--skip-${name} takes no value`);
      falses.add(name);
      continue;
    }
    if (name === "compress" && value !== undefined) {
      args.push("--compress", `--compress-method=${value}`);
      continue;
    }
    const spec = findOptionSpec(name);
    if (spec?.optionalValue !== undefined && value === undefined) {
      args.push(`--${name}=${spec.optionalValue}`); // `--use-tts` alone: the default value
      continue;
    }
    if (spec?.type === "boolean" && value !== undefined) {
      const v = value.toLowerCase();
      if (FALSE_WORDS.includes(v)) falses.add(name);
      else if (TRUE_WORDS.includes(v)) args.push(`--${name}`);
      else throw new UsageError(`--${name} takes no value (got '${value}')`);
      continue;
    }
    args.push(value === undefined ? `--${name}` : `--${name}=${value}`);
  }
  return { args, falses, notes };
}

/** Parse argv into a command, its positional args and typed options. */
export function parseCommandLine(argv: string[], cores: number): ParsedCommandLine {
  const spec: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {
    help: { type: "boolean", short: "?" },
    version: { type: "boolean", short: "V" },
    "no-progress": { type: "boolean" },
    [ASK_PASSWORD]: { type: "boolean" },
  };
  for (const s of OPTION_SPECS) {
    spec[s.name] = { type: s.type === "boolean" ? "boolean" : "string" };
    if (s.type === "list") spec[s.name].multiple = true;
    if (Object.hasOwn(SHORT_OPTIONS, s.name)) spec[s.name].short = SHORT_OPTIONS[s.name];
  }
  const { args, falses, notes } = normaliseArgs(argv);
  let parsed;
  try {
    parsed = parseArgs({ args, options: spec, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    throw new UsageError(usageMessage(err));
  }
  const options = defaultOptions(cores);
  const given = new Set<string>(falses);
  let askPassword = false;
  for (const name of falses) {
    // --skip-show-progress / --show-progress=0: never, as --no-progress
    if (name === "show-progress") options.showProgress = false;
    else setOption(options, findOptionSpec(name)!, false, "command line");
  }
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== "option") continue;
    if (token.name === ASK_PASSWORD) {
      askPassword = true;
      options.password = undefined;
      given.add("password");
      continue;
    }
    given.add(token.name);
    if (token.name === "password") askPassword = false;
    if (token.name === "help" || token.name === "version") continue;
    if (token.name === "no-progress") {
      options.showProgress = false;
      continue;
    }
    const s = findOptionSpec(token.name)!;
    setOption(options, s, s.type === "boolean" ? true : token.value!, "command line");
  }
  const [command, ...rest] = parsed.positionals;
  return {
    command,
    args: rest,
    help: Boolean(parsed.values.help),
    version: Boolean(parsed.values.version),
    askPassword,
    options,
    given,
    notes,
    checkApplies(cmd: Command) {
      for (const name of given) {
        if (!COMMON_OPTIONS.includes(name) && !cmd.options.includes(name)) {
          throw new UsageError(
            `option --${name} does not apply to ${cmd.name} (see ibvault ${cmd.name} --help)`,
          );
        }
      }
      if (!cmd.usage.includes("...") && rest.length > 0) {
        throw new UsageError(
          `${cmd.name} takes no arguments, got '${rest[0]}' (see ibvault ${cmd.name} --help)`,
        );
      }
    },
  };
}

function usageMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const unknown = /Unknown option '([^']+)'/.exec(text);
  if (unknown) return `unknown option '${unknown[1]}' (see ibvault --help)`;
  const missing = /Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(text);
  if (missing) return `option ${missing[1]} needs a value`;
  return text.split("\n")[0];
}

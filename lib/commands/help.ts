/**
 * Help texts, built from the command records and the option table so they never
 * drift from what the parser accepts.
 */
import type { Command } from "./command.ts";
import { OPTION_SPECS } from "./options.ts";
import { COMMON_OPTIONS } from "./argv.ts";
import { VERSION } from "../version.ts";

function optionLines(names: string[]): string {
  const rows = OPTION_SPECS.filter((s) => names.includes(s.name)).map((s) => [
    `  --${s.name}${s.arg ? `=${s.arg}` : ""}`,
    s.help,
  ]);
  const width = Math.max(0, ...rows.map((r) => r[0].length)) + 2;
  return rows.map(([l, h]) => l.padEnd(width) + h).join("\n");
}

/** `ibvault --help`: usage, commands, common options, exit codes. */
export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8) + 2;
  return `ibvault ${VERSION}: physical backups of InnoDB tables (MySQL, MariaDB)

Usage: ibvault [OPTIONS] COMMAND [OPTIONS] [ARGS]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join("\n")}

Common options:
  --help, -h               this help; ibvault COMMAND --help for a command's own
  --version, -V            print the version
  --no-progress            never draw a progress bar
${optionLines(COMMON_OPTIONS)}

Options may also come from option files, groups [client] and [ibvault]
(/etc/my.cnf, /etc/mysql/my.cnf, ~/.my.cnf). Underscores and dashes are the same
in option names, and --skip-OPTION turns a switch off.

Exit codes: 0 success, 1 corruption found, 2 usage error, 3 runtime error.
`;
}

/** `ibvault COMMAND --help`. */
export function commandHelp(command: Command): string {
  return `Usage: ibvault ${command.name} ${command.usage}

${command.summary}

${command.help.trim()}

Options:
${optionLines(command.options)}

Common options: ${COMMON_OPTIONS.map((o) => "--" + o).join(" ")} (see ibvault --help)
`;
}

/**
 * Help texts, built from the command records and the option table so they never
 * drift from what the parser accepts.
 */
import type { Command } from "./command.ts";
import { COMMON_OPTIONS, OPTION_SPECS } from "./options.ts";
import { VERSION } from "../version.ts";

function optionLines(
  names: string[],
  extra: string[][] = [],
  own: Record<string, string> = {},
): string {
  const rows = extra.concat(
    OPTION_SPECS.filter((s) => names.includes(s.name)).map((s) => [
      // an option whose value may be left out shows it in brackets: --use-tts[=MODE]
      `  --${s.name}${s.arg ? (s.optionalValue !== undefined ? `[=${s.arg}]` : `=${s.arg}`) : ""}`,
      own[s.name] ?? s.help,
    ]),
  );
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
${
    optionLines(COMMON_OPTIONS, [
      ["  --help, -?", "this help; ibvault COMMAND --help for a command's own"],
      ["  --version, -V", "print the version"],
      ["  --no-progress", "never draw a progress bar"],
    ])
  }

Options may also come from option files, groups [client], [client-server],
[client-mariadb], [mariadb-client], [mysqlbackup] and [ibvault], the later
winning (/etc/my.cnf, /etc/mysql/my.cnf, ~/.my.cnf; --login-path is not
supported). Underscores and dashes are the same in option names, --skip-OPTION
turns a switch off, and -u -h -P -S are --user --host --port --socket.
MySQL Enterprise Backup's server-side options (--innodb_log_file_size ...) are
accepted with a note: a TTS backup has no redo log or system tablespace to lay
out. copy-back-and-apply-log, apply-log and backup-and-apply-log are MEB's
names: a TTS backup is consistent when it is taken.

Exit codes: 0 success, 1 corruption found, 2 usage error, 3 runtime error.
`;
}

/** Wrap each paragraph of `text` at `width` columns, keeping blank lines and indented lines. */
export function wrapText(text: string, width = 80): string {
  return text.trim().split("\n").map((line) => {
    if (line.length <= width || /^\s/.test(line)) return line;
    const out: string[] = [];
    let cur = "";
    for (const word of line.split(" ")) {
      if (cur && cur.length + 1 + word.length > width) {
        out.push(cur);
        cur = word;
      } else cur = cur ? `${cur} ${word}` : word;
    }
    if (cur) out.push(cur);
    return out.join("\n");
  }).join("\n");
}

/** `ibvault COMMAND --help`. */
export function commandHelp(command: Command): string {
  return `Usage: ibvault ${command.name} ${command.usage}

${command.summary}

${wrapText(command.help)}

Options:
${optionLines(command.options, [], command.optionHelp)}

Common options: ${COMMON_OPTIONS.map((o) => "--" + o).join(" ")} (see ibvault --help)
`;
}

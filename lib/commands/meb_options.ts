/**
 * MySQL Enterprise Backup options with no meaning for a TTS backup (server-side
 * InnoDB layout, MEB's buffer and thread tuning): accepted on the command line
 * with a one-line note saying what ibvault does instead, never refused.
 */
import { EXPORT_LOCK } from "../server/lock_session.ts";

/** One noted MEB option: what the note says, and whether it takes a value. */
export interface NotedOption {
  why: string;
  /** `--opt VALUE` (without `=`) consumes the next word. */
  takesValue: boolean;
}

const NO_REDO = "a TTS backup carries no redo log: there is no log to lay out";
const NO_SYSTEM = "a TTS backup carries no system tablespace: tables are imported into the " +
  "server's own";
const THREADS = "ibvault uses --threads for every stage";

/** MEB options accepted with a note and otherwise ignored (names with dashes). */
export const MEB_NOTED_OPTIONS: Readonly<Record<string, NotedOption>> = {
  "innodb-log-group-home-dir": { why: NO_REDO, takesValue: true },
  "innodb-log-files-in-group": { why: NO_REDO, takesValue: true },
  "innodb-log-file-size": { why: NO_REDO, takesValue: true },
  "innodb-data-file-path": { why: NO_SYSTEM, takesValue: true },
  "innodb-data-home-dir": { why: NO_SYSTEM, takesValue: true },
  "innodb-undo-directory": { why: "a TTS backup carries no undo tablespaces", takesValue: true },
  "limit-memory": {
    why: "ibvault's memory is bounded by --threads and the chunk size",
    takesValue: true,
  },
  "read-threads": { why: THREADS, takesValue: true },
  "process-threads": { why: THREADS, takesValue: true },
  "write-threads": { why: THREADS, takesValue: true },
  "skip-binlog": { why: "ibvault never copies binary logs", takesValue: false },
  "skip-relaylog": { why: "ibvault never copies relay logs", takesValue: false },
  "skip-unused-pages": {
    why: `ibvault copies tablespaces whole, as ${EXPORT_LOCK} leaves them`,
    takesValue: false,
  },
};

/** The noted MEB option of this name (dashes), or undefined for any other name. */
export function mebNotedOption(name: string): NotedOption | undefined {
  return Object.hasOwn(MEB_NOTED_OPTIONS, name) ? MEB_NOTED_OPTIONS[name] : undefined;
}

/** The one-line note printed for a noted MEB option given as `--NAME`. */
export function mebNote(name: string): string {
  const why = MEB_NOTED_OPTIONS[name].why;
  return `note: --${name} is a MySQL Enterprise Backup option ibvault ignores: ${why}`;
}

/**
 * The option vocabulary shared by every command (MySQL Enterprise Backup names),
 * and the typed options object that commands receive.
 */

/** Every option a command can receive, after the command line and option files are merged. */
export interface Options {
  // connection
  user?: string;
  password?: string;
  host?: string;
  port?: number;
  socket?: string;
  defaultsFile?: string;
  defaultsExtraFile?: string;
  noDefaults: boolean;
  // locations
  backupDir?: string;
  backupImage?: string;
  datadir?: string;
  srcEntry?: string;
  dstEntry?: string;
  // selection
  includeTables?: string;
  excludeTables?: string;
  rename: string[];
  defaultCharacterSet: string;
  // image codec
  compress: boolean;
  /** lz4, zstd or none; given alone it implies --compress (undefined: lz4 when compressing). */
  compressMethod?: string;
  /** zstd level 1–19 (0: no compression, as MEB); implies --compress. */
  compressLevel?: number;
  uncompress: boolean;
  encrypt: boolean;
  decrypt: boolean;
  keyFile?: string;
  key?: string;
  keyEnv?: string;
  keepCompressed: boolean;
  /** copy-back from a mariadb-backup export directory: CREATE TABLE statements from this file. */
  ddlFile?: string;
  /** copy-back from a mariadb-backup export directory: definitions from the target server. */
  createFromServer: boolean;
  // behaviour
  force: boolean;
  /** Do not flush written files to the disk before reporting success. */
  noSync: boolean;
  threads: number;
  /**
   * Progress: a destination (`stderr`, `stdout`, `file:PATH`, `fifo:PATH`: shown
   * even without a terminal), false never, undefined only on a terminal.
   */
  showProgress?: string | false;
  /** Seconds between progress lines when not drawing on a terminal (MEB's default 2). */
  progressInterval?: number;
  /** Prefix terminal messages with MEB's `YYMMDD HH:MM:SS`. */
  timestamps: boolean;
  /** Write the run log here instead of the backup (or working) directory's meta/. */
  logFile?: string;
  /** Keep no run log. */
  noLog: boolean;
  json: boolean;
  verbose: boolean;
  // validation
  innodbChecksumAlgorithm?: string;
  pageCorruptThreshold: number;
  /** MySQL keyring_file data file: verify keyring-encrypted tablespaces. */
  keyringFile?: string;
  // backup
  lockPerTable: boolean;
  /** Seconds the export lock may wait for a table (session lock_wait_timeout). */
  lockWaitTimeout: number;
  strict: boolean;
  skipPageCheck: boolean;
  // whole databases
  skipRoutines: boolean;
  skipTriggers: boolean;
  skipEvents: boolean;
  skipViews: boolean;
  /** copy-back: `CURRENT_USER` replaces definers the target lacks. */
  definer?: string;
  /** copy-back: restore only the partitions matching this expression. */
  includePartitions?: string;
  /** copy-back: leave tables and objects that exist alone and restore the rest. */
  skipExisting: boolean;
  /** `with-minimum-locking` (default) or `with-full-locking`. */
  useTts?: string;
  /** Take an incremental backup (needs incrementalBase). */
  incremental: boolean;
  /** `dir:PATH` or `image:FILE`: the backup an incremental continues. */
  incrementalBase?: string;
  /** copy-back / apply-incremental-backup: incrementals of the chain, in order. */
  incrementalBackupDir: string[];
  incrementalBackupImage: string[];
  // retention and monitoring (purge-backups, check-backup), timestamped layout
  withTimestamp: boolean;
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepWithin?: string;
  dryRun: boolean;
  warningAge?: string;
  criticalAge?: string;
  minSize?: string;
  expectTables: string[];
  validate: boolean;
}

/** How one option is spelled and parsed on the command line and in option files. */
export interface OptionSpec {
  /** Long name as typed: `backup-dir`. */
  name: string;
  /** Field of {@link Options} it sets. */
  field: keyof Options;
  type: "string" | "boolean" | "integer" | "list";
  /** Value placeholder shown in --help. */
  arg?: string;
  help: string;
  /** For a string option whose value may be left out (`--compress[=lz4]`). */
  optionalValue?: string;
}

/** The option table: one row per option, in the order --help shows them. */
export const OPTION_SPECS: readonly OptionSpec[] = [
  { name: "user", field: "user", type: "string", arg: "NAME", help: "MySQL user name" },
  {
    name: "password",
    field: "password",
    type: "string",
    arg: "PW",
    help: "password; a bare --password or -p asks on the terminal (prefer that or an option " +
      "file: a password on the command line is visible to others)",
  },
  { name: "host", field: "host", type: "string", arg: "HOST", help: "server host" },
  { name: "port", field: "port", type: "integer", arg: "N", help: "server TCP port" },
  { name: "socket", field: "socket", type: "string", arg: "PATH", help: "server Unix socket" },
  {
    name: "defaults-file",
    field: "defaultsFile",
    type: "string",
    arg: "FILE",
    help: "read options only from FILE (groups [client] ... [mysqlbackup] [ibvault])",
  },
  {
    name: "defaults-extra-file",
    field: "defaultsExtraFile",
    type: "string",
    arg: "FILE",
    help: "read FILE after the usual option files",
  },
  { name: "no-defaults", field: "noDefaults", type: "boolean", help: "read no option files" },
  { name: "backup-dir", field: "backupDir", type: "string", arg: "DIR", help: "backup directory" },
  {
    name: "backup-image",
    field: "backupImage",
    type: "string",
    arg: "FILE",
    help: "single-file backup image, - for stdin/stdout",
  },
  {
    name: "datadir",
    field: "datadir",
    type: "string",
    arg: "DIR",
    help: "server data directory",
  },
  { name: "src-entry", field: "srcEntry", type: "string", arg: "PATH", help: "entry to extract" },
  {
    name: "dst-entry",
    field: "dstEntry",
    type: "string",
    arg: "PATH",
    help: "where to put --src-entry",
  },
  {
    name: "include-tables",
    field: "includeTables",
    type: "string",
    arg: "REGEX",
    help: "tables to take: db.tbl matched in four quoting forms",
  },
  {
    name: "exclude-tables",
    field: "excludeTables",
    type: "string",
    arg: "REGEX",
    help: "tables to leave out, same matching as --include-tables",
  },
  {
    name: "rename",
    field: "rename",
    type: "list",
    arg: '"OLD TO NEW"',
    help: "restore table OLD under the name NEW (repeatable)",
  },
  {
    name: "default-character-set",
    field: "defaultCharacterSet",
    type: "string",
    arg: "CS",
    help: "character set the command line is written in: utf8mb4 (default), latin1, latin2, " +
      "greek, hebrew, cp1250, cp1251, ascii, ... (invalid bytes are a usage error)",
  },
  {
    name: "compress",
    field: "compress",
    type: "boolean",
    help: "compress image data (LZ4; --compress=zstd for zstd)",
  },
  {
    name: "compress-method",
    field: "compressMethod",
    type: "string",
    arg: "lz4|zstd",
    help: "compression method: lz4 (default) or zstd; implies --compress (none: no compression)",
  },
  {
    name: "compress-level",
    field: "compressLevel",
    type: "integer",
    arg: "N",
    help: "zstd level 1-19 (default 3); implies --compress; 0 turns compression off",
  },
  {
    name: "uncompress",
    field: "uncompress",
    type: "boolean",
    help: "accepted when reading (compression is detected by itself)",
  },
  { name: "encrypt", field: "encrypt", type: "boolean", help: "encrypt with AES-256" },
  { name: "decrypt", field: "decrypt", type: "boolean", help: "decrypt an encrypted image" },
  {
    name: "key-file",
    field: "keyFile",
    type: "string",
    arg: "FILE",
    help: "file holding the 256-bit key as 64 hex digits",
  },
  {
    name: "key",
    field: "key",
    type: "string",
    arg: "HEX",
    help: "the key itself (visible in the process list: prefer --key-file or --key-env)",
  },
  {
    name: "key-env",
    field: "keyEnv",
    type: "string",
    arg: "VAR",
    help: "read the key from environment variable VAR",
  },
  {
    name: "keep-compressed",
    field: "keepCompressed",
    type: "boolean",
    help: "extract compressed entries as standard .lz4 frames",
  },
  {
    name: "ddl-file",
    field: "ddlFile",
    type: "string",
    arg: "FILE",
    help: "copy-back from a mariadb-backup --export directory: the tables' CREATE TABLE " +
      "statements (e.g. from mariadb-dump --no-data)",
  },
  {
    name: "create-from-server",
    field: "createFromServer",
    type: "boolean",
    help: "copy-back from a mariadb-backup --export directory: each table's definition is " +
      "that of the same table on the target server",
  },
  {
    name: "force",
    field: "force",
    type: "boolean",
    help: "allow writing into a non-empty destination",
  },
  {
    name: "no-sync",
    field: "noSync",
    type: "boolean",
    help: "do not wait for written files to reach the disk (faster; after a crash " +
      "the output may be incomplete)",
  },
  {
    name: "threads",
    field: "threads",
    type: "integer",
    arg: "N",
    help: "threads to work with: page checks, compression, encryption (default: number of cores)",
  },
  {
    name: "show-progress",
    field: "showProgress",
    type: "string",
    arg: "DEST",
    optionalValue: "stderr",
    help: "show progress even without a terminal, on stderr (default), stdout, " +
      "file:PATH or fifo:PATH",
  },
  {
    name: "progress-interval",
    field: "progressInterval",
    type: "integer",
    arg: "SECONDS",
    help: "seconds between progress lines when not on a terminal (default 2)",
  },
  {
    name: "timestamps",
    field: "timestamps",
    type: "boolean",
    help: "put YYMMDD HH:MM:SS before each message line (as MEB)",
  },
  {
    name: "log-file",
    field: "logFile",
    type: "string",
    arg: "PATH",
    help: "write the run log to PATH (a new file) instead of DIR/meta/",
  },
  { name: "no-log", field: "noLog", type: "boolean", help: "keep no run log" },
  { name: "json", field: "json", type: "boolean", help: "print a JSON report on stdout" },
  { name: "verbose", field: "verbose", type: "boolean", help: "more detail" },
  {
    name: "innodb-checksum-algorithm",
    field: "innodbChecksumAlgorithm",
    type: "string",
    arg: "ALG",
    help: "crc32, innodb, none, full_crc32 or strict_* (default: as recorded, else any)",
  },
  {
    name: "page-corrupt-threshold",
    field: "pageCorruptThreshold",
    type: "integer",
    arg: "N",
    help: "stop reading a file after N corrupt pages (default 64)",
  },
  {
    name: "keyring-file",
    field: "keyringFile",
    type: "string",
    arg: "FILE",
    help: "MySQL keyring_file data file: decrypt and verify keyring-encrypted tablespaces " +
      "(a .cfp file beside a table is used by itself)",
  },
  {
    name: "lock-per-table",
    field: "lockPerTable",
    type: "boolean",
    help: "lock one table at a time: shorter locks, no cross-table consistency",
  },
  {
    name: "lock-wait-timeout",
    field: "lockWaitTimeout",
    type: "integer",
    arg: "SECONDS",
    help: "give up waiting for a table lock (behind open transactions) after SECONDS " +
      "(default 60): unlock, name the blocking sessions, exit 3",
  },
  {
    name: "use-tts",
    field: "useTts",
    type: "string",
    arg: "MODE",
    optionalValue: "with-minimum-locking",
    help: "with-minimum-locking (default: copy hot, lock only for the changed pages) or " +
      "with-full-locking (tables locked for the whole copy); --use-tts alone is the default",
  },
  {
    name: "incremental",
    field: "incremental",
    type: "boolean",
    help: "copy only the pages changed since --incremental-base (page LSNs)",
  },
  {
    name: "incremental-base",
    field: "incrementalBase",
    type: "string",
    arg: "dir:PATH|image:FILE",
    help: "the full or incremental backup an --incremental backup continues",
  },
  {
    name: "incremental-backup-dir",
    field: "incrementalBackupDir",
    type: "list",
    arg: "DIR",
    help: "an incremental backup directory of the chain (repeatable, in the order taken)",
  },
  {
    name: "incremental-backup-image",
    field: "incrementalBackupImage",
    type: "list",
    arg: "FILE",
    help: "an incremental backup image of the chain (repeatable, in the order taken)",
  },
  {
    name: "strict",
    field: "strict",
    type: "boolean",
    help: "a table that must be skipped is an error",
  },
  {
    name: "skip-page-check",
    field: "skipPageCheck",
    type: "boolean",
    help: "do not checksum pages while copying",
  },
  {
    name: "skip-routines",
    field: "skipRoutines",
    type: "boolean",
    help: "leave stored procedures and functions out of the backup",
  },
  {
    name: "skip-triggers",
    field: "skipTriggers",
    type: "boolean",
    help: "leave triggers out of the backup",
  },
  {
    name: "skip-events",
    field: "skipEvents",
    type: "boolean",
    help: "leave events out of the backup",
  },
  {
    name: "skip-views",
    field: "skipViews",
    type: "boolean",
    help: "leave views out of the backup",
  },
  {
    name: "definer",
    field: "definer",
    type: "string",
    arg: "CURRENT_USER",
    help: "create objects whose DEFINER has no account on the server as CURRENT_USER",
  },
  {
    name: "include-partitions",
    field: "includePartitions",
    type: "string",
    arg: "REGEX",
    help: "restore only these partitions (name, subpartition, or p/sp) of partitioned tables",
  },
  {
    name: "skip-existing",
    field: "skipExisting",
    type: "boolean",
    help: "leave tables and objects that exist on the server alone and restore the rest",
  },
  {
    name: "with-timestamp",
    field: "withTimestamp",
    type: "boolean",
    help: "put the backup in --backup-dir/YYYY-MM-DD_HH-MM-SS/ (local time, as MEB does)",
  },
  {
    name: "keep-last",
    field: "keepLast",
    type: "integer",
    arg: "N",
    help: "keep the N newest backups",
  },
  {
    name: "keep-daily",
    field: "keepDaily",
    type: "integer",
    arg: "N",
    help: "keep the newest backup of each of the last N days that have one",
  },
  {
    name: "keep-weekly",
    field: "keepWeekly",
    type: "integer",
    arg: "N",
    help: "keep the newest backup of each of the last N ISO weeks that have one",
  },
  {
    name: "keep-monthly",
    field: "keepMonthly",
    type: "integer",
    arg: "N",
    help: "keep the newest backup of each of the last N months that have one",
  },
  {
    name: "keep-within",
    field: "keepWithin",
    type: "string",
    arg: "DURATION",
    help: "keep every backup taken within DURATION (7d, 36h, 1d12h) before the newest one",
  },
  {
    name: "dry-run",
    field: "dryRun",
    type: "boolean",
    help: "say what would be deleted and why the rest is kept; delete nothing",
  },
  {
    name: "warning-age",
    field: "warningAge",
    type: "string",
    arg: "DURATION",
    help: "WARNING when the newest backup is older (default 26h)",
  },
  {
    name: "critical-age",
    field: "criticalAge",
    type: "string",
    arg: "DURATION",
    help: "CRITICAL when the newest backup is older (default 50h)",
  },
  {
    name: "min-size",
    field: "minSize",
    type: "string",
    arg: "SIZE",
    help: "CRITICAL when the newest backup is smaller (bytes, or 500M, 3GiB, 1GB)",
  },
  {
    name: "expect-tables",
    field: "expectTables",
    type: "list",
    arg: "REGEX",
    help: "CRITICAL when no table of the newest backup matches REGEX (repeatable)",
  },
  {
    name: "validate",
    field: "validate",
    type: "boolean",
    help: "also validate every page (otherwise: manifest and completeness only)",
  },
];

// Option groups: the only place lists of option names are kept.

/** Options every command accepts. */
export const COMMON_OPTIONS = [
  "help",
  "version",
  "show-progress",
  "progress-interval",
  "no-progress",
  "timestamps",
  "log-file",
  "no-log",
  "json",
  "verbose",
  "threads",
  "defaults-file",
  "defaults-extra-file",
  "no-defaults",
];

/** Connection options every server command accepts. */
export const CONNECTION_OPTIONS = ["user", "password", "host", "port", "socket"];

/** Options `backup` and `backup-to-image` share. */
export const BACKUP_OPTIONS = [
  ...CONNECTION_OPTIONS,
  "datadir",
  "include-tables",
  "exclude-tables",
  "default-character-set",
  "lock-per-table",
  "lock-wait-timeout",
  "strict",
  "skip-page-check",
  "skip-routines",
  "skip-triggers",
  "skip-events",
  "skip-views",
  "force",
  "no-sync",
  "use-tts",
  "incremental",
  "incremental-base",
];

/** The options of every command that reads an image: compression is detected, a key opens it. */
export const IMAGE_READ_OPTIONS = ["uncompress", "decrypt", "key-file", "key", "key-env"];

/** The options of every command that writes an image. */
export const IMAGE_WRITE_OPTIONS = [
  "backup-image",
  "compress",
  "compress-method",
  "compress-level",
  "encrypt",
  "key-file",
  "key",
  "key-env",
  "no-sync",
];

/** Options with every default filled in. */
export function defaultOptions(cores: number): Options {
  return {
    noDefaults: false,
    rename: [],
    incremental: false,
    incrementalBackupDir: [],
    incrementalBackupImage: [],
    defaultCharacterSet: "utf8mb4",
    compress: false,
    uncompress: false,
    encrypt: false,
    decrypt: false,
    keepCompressed: false,
    createFromServer: false,
    force: false,
    noSync: false,
    threads: Math.max(1, cores),
    json: false,
    verbose: false,
    timestamps: false,
    noLog: false,
    pageCorruptThreshold: 64,
    lockPerTable: false,
    lockWaitTimeout: 60,
    strict: false,
    skipPageCheck: false,
    skipRoutines: false,
    skipTriggers: false,
    skipEvents: false,
    skipViews: false,
    skipExisting: false,
    withTimestamp: false,
    dryRun: false,
    expectTables: [],
    validate: false,
  };
}

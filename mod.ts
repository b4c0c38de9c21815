/**
 * ibvault as a library: what a program embedding ibvault may call. Every
 * command is also a plain async function over typed options (see COMMANDS and
 * the Command contract), so a program can run them without the command line.
 *
 * @example Validate tablespaces offline
 * ```ts
 * import { validateFiles } from "./mod.ts";
 * const reports = await validateFiles([{ path: "/backups/db/t.ibd", name: "db/t.ibd" }], {
 *   threads: 2,
 * });
 * ```
 */
export { main } from "./cli.ts";
export { COMMANDS, findCommand } from "./lib/commands/mod.ts";
export type { Command, CommandContext } from "./lib/commands/command.ts";
export { defaultOptions, OPTION_SPECS } from "./lib/commands/options.ts";
export type { Options } from "./lib/commands/options.ts";
export { createReporter } from "./lib/progress/reporter.ts";
export type { ProgressState, Reporter } from "./lib/progress/reporter.ts";
export {
  ConnectionLost,
  CorruptionError,
  exitCodeOf,
  IbvaultError,
  IoError,
  KeyError,
  OutputError,
  ServerError,
  UsageError,
} from "./lib/errors.ts";
export { VERSION } from "./lib/version.ts";
export type { FileEntry } from "./lib/entry.ts";
export type { Source } from "./lib/source.ts";
export type { Sink } from "./lib/sink.ts";
export type { RunDocument, RunStatus } from "./lib/commands/run_report.ts";

// the shared vocabulary: manifests, entry paths, completeness
export { buildManifest, MANIFEST_FILE } from "./lib/core/manifest.ts";
export type {
  DatabaseRecord,
  EntryRecord,
  Manifest,
  ServerFacts,
  TableRecord,
} from "./lib/core/manifest.ts";
export { readManifest, writeManifest } from "./lib/core/manifest_io.ts";
export { checkEntryPath } from "./lib/core/entry_path.ts";
export { checkCompleteness, describeCompleteness } from "./lib/core/completeness.ts";

// names: quoting, filename encoding, table filters, --rename, charsets
export * from "./lib/names/mod.ts";

// InnoDB pages and validation (a validation sink, the one page-stream checker)
export { validateFiles } from "./lib/innodb/validator.ts";
export { validateEntries } from "./lib/innodb/stream.ts";
export { pageChecker } from "./lib/innodb/page_stream.ts";
export { PageFeed } from "./lib/innodb/page_feed.ts";
export { validationSink } from "./lib/innodb/validate_sink.ts";

// images: the image source and sink, the writer and reader under them
export { openImageSource } from "./lib/image/source.ts";
export { imageSink } from "./lib/image/sink.ts";
export { writeImage } from "./lib/image/writer.ts";
export { openImage } from "./lib/image/reader.ts";
export { loadKey, parseHexKey } from "./lib/image/key.ts";
export { lz4FrameDecode, lz4FrameEncode } from "./lib/image/lz4frame.ts";

// backup directories: the directory source and sink
export { manifestForFiles, openDirSource } from "./lib/backupdir/source.ts";
export { dirSink, prepareDestination } from "./lib/backupdir/sink.ts";

// the server: connection, facts, the TTS export source, the restore sink
export { connect } from "./lib/server/connection.ts";
export { readOptionFiles } from "./lib/server/option_file.ts";
export { readServerFacts } from "./lib/server/facts.ts";
export { openTtsExport } from "./lib/server/export.ts";
export { LockSession } from "./lib/server/lock_session.ts";
export { importTable } from "./lib/server/import.ts";
export { openRestoreSink } from "./lib/server/restore_sink.ts";

// hot-path kernels (WASM)
export * as kernels from "./lib/kernels/mod.ts";

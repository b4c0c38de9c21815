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
  CorruptionError,
  exitCodeOf,
  IbvaultError,
  IoError,
  KeyError,
  ServerError,
  UsageError,
} from "./lib/errors.ts";
export { VERSION } from "./lib/version.ts";
export type { FileEntry } from "./lib/entry.ts";

// names: quoting, filename encoding, table filters, --rename, charsets
export * from "./lib/names/mod.ts";

// InnoDB pages and validation
export { validateFiles } from "./lib/innodb/validator.ts";
export { validateEntries } from "./lib/innodb/stream.ts";

// images and backup directories
export { writeImage } from "./lib/image/writer.ts";
export { openImage } from "./lib/image/reader.ts";
export { loadKey, parseHexKey } from "./lib/image/key.ts";
export { buildManifest, readManifest, writeManifest } from "./lib/image/manifest_io.ts";
export { checkCompleteness, describeCompleteness } from "./lib/image/completeness.ts";
export { MANIFEST_FILE } from "./lib/image/manifest.ts";
export type { EntryRecord, Manifest, ServerFacts, TableRecord } from "./lib/image/manifest.ts";
export { lz4FrameDecode, lz4FrameEncode } from "./lib/image/lz4frame.ts";

// the server: connection, facts, TTS export and import
export { connect } from "./lib/server/connection.ts";
export { readOptionFiles } from "./lib/server/option_file.ts";
export { readServerFacts } from "./lib/server/facts.ts";
export { openTtsExport } from "./lib/server/export.ts";
export { importTable } from "./lib/server/import.ts";

// hot-path kernels (WASM)
export * as kernels from "./lib/kernels/mod.ts";

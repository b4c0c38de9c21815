/**
 * Merging MySQL option files under the command line: values from the groups
 * of `OPTION_GROUPS` fill every option the command line did not give.
 */
import type { Options } from "./options.ts";
import type { Command } from "./command.ts";
import { findOptionSpec, setOption } from "./argv.ts";
import { readOptionFiles } from "../server/option_file.ts";

/**
 * Common options an option file may set for every command (not --log-file: one
 * path for every run would refuse the second, since a log is never overwritten).
 */
const FROM_FILES = ["threads", "show-progress", "progress-interval", "timestamps", "no-log"];

/** Options for the command: the command line wins over option files. */
export function applyOptionFiles(
  options: Options,
  given: Set<string>,
  command: Command,
): Options {
  const fromFiles = readOptionFiles({
    defaultsFile: options.defaultsFile,
    defaultsExtraFile: options.defaultsExtraFile,
    noDefaults: options.noDefaults,
  });
  for (const [name, value] of Object.entries(fromFiles)) {
    if (given.has(name)) continue;
    const spec = findOptionSpec(name);
    // [client] is shared with the mysql client: options ibvault or this command
    // does not know are left for the programs that do.
    if (!spec || !command.options.includes(name) && !FROM_FILES.includes(name)) continue;
    setOption(options, spec, value, "option file");
  }
  return options;
}

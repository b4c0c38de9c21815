/**
 * `--default-character-set`: the character set the command line is written in.
 * Arguments arrive as Unicode decoded from UTF-8; this module turns them into the
 * names the user meant under the chosen character set, as mysqlbackup does.
 */
import { UsageError } from "../errors.ts";

/** Character sets accepted by `--default-character-set`. */
export const SUPPORTED_CHARSETS = ["utf8mb4", "utf8mb3", "utf8", "latin1", "ascii"] as const;

/**
 * MySQL's latin1 is Windows-1252: bytes 0x80..0x9F that it defines map to these
 * characters; the five it leaves undefined map to the C1 control of that value.
 */
const CP1252_HIGH = [
  "20ac 81 201a 192 201e 2026 2020 2021 2c6 2030 160 2039 152 8d 17d 8f",
  "90 2018 2019 201c 201d 2022 2013 2014 2dc 2122 161 203a 153 9d 17e 178",
].join(" ").split(" ").map((hex) => parseInt(hex, 16));

function conversionFailed(arg: string, optionName: string, why: string): UsageError {
  return new UsageError(
    `Unicode character conversion failed for ${optionName} argument ${JSON.stringify(arg)}: ${why}`,
  );
}

/**
 * Interpret a command-line argument written under `charset`:
 *
 * - `utf8mb4`, `utf8mb3`, `utf8` (any letter case): the argument as it is.
 * - `latin1`: the argument's UTF-8 bytes read as latin1 (Windows-1252, as MySQL
 *   defines it), so `à` becomes `Ã` + U+00A0: the mojibake mysqlbackup shows.
 *   Every byte is a latin1 character, so reading itself cannot fail. What cannot
 *   succeed is an argument whose bytes were already lost: a terminal really using
 *   latin1 sends bytes that are not UTF-8, and the runtime turns each into U+FFFD
 *   before we see it. An argument holding U+FFFD is therefore refused (UsageError
 *   "Unicode character conversion failed") rather than turned into a name the user
 *   never typed.
 * - `ascii`: any character outside ASCII is a UsageError
 *   "Unicode character conversion failed" naming the argument and option.
 *
 * An unknown character set is a UsageError listing the supported ones.
 */
export function decodeArgument(arg: string, charset: string, optionName: string): string {
  switch (charset.toLowerCase()) {
    case "utf8mb4":
    case "utf8mb3":
    case "utf8":
      return arg;
    case "latin1": {
      if (arg.includes("\ufffd")) {
        throw conversionFailed(
          arg,
          optionName,
          "it holds bytes that were not UTF-8 and were lost before ibvault saw them",
        );
      }
      let out = "";
      for (const byte of new TextEncoder().encode(arg)) {
        out += String.fromCharCode(byte >= 0x80 && byte < 0xa0 ? CP1252_HIGH[byte - 0x80] : byte);
      }
      return out;
    }
    case "ascii": {
      for (const ch of arg) {
        const cp = ch.codePointAt(0)!;
        if (cp > 0x7f) {
          const hex = cp.toString(16).toUpperCase().padStart(4, "0");
          throw conversionFailed(arg, optionName, `U+${hex} is not an ASCII character`);
        }
      }
      return arg;
    }
    default:
      throw new UsageError(
        `--default-character-set: unknown character set ${JSON.stringify(charset)} ` +
          `(supported: ${SUPPORTED_CHARSETS.join(", ")})`,
      );
  }
}

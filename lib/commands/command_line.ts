/**
 * From the bytes of a command line to parsed options: every argument is decoded
 * under `--default-character-set` (the command line's, or else the option files'),
 * and an argument that is not text in it is a usage error naming it, never a
 * name with U+FFFD in it.
 */
import { parseCommandLine, type ParsedCommandLine } from "./argv.ts";
import {
  argumentLabel,
  charsetOnCommandLine,
  checkCharset,
  decodeCommandLine,
  isUtf8Charset,
} from "../names/charset.ts";
import { printable } from "../names/printable.ts";
import { UsageError } from "../errors.ts";

/** A command line being read: parse it, and read it again under an option file's character set. */
export interface CommandLineReader {
  /** Parse under the command line's `--default-character-set` (utf8mb4 when none). */
  parse(cores: number): ParsedCommandLine;
  /**
   * Called with the character set in force once option files are read: a parse
   * under it when it is not the one used and the command line holds non-ASCII
   * bytes, else undefined. Throws the deferred error of an argument that is not
   * text in either.
   */
  underCharset(charset: string, cores: number): ParsedCommandLine | undefined;
}

/**
 * A reader of `argv`: each element is an argument's raw bytes, or a string
 * already decoded by the runtime (where a U+FFFD in one stands for bytes that
 * were lost, so it is refused rather than used).
 */
export function decodeArguments(argv: readonly (string | Uint8Array)[]): CommandLineReader {
  const enc = new TextEncoder();
  const raw = argv.map((a) => (typeof a === "string" ? enc.encode(a) : a));
  const lost = argv.flatMap((a, i) => (typeof a === "string" && a.includes("\ufffd") ? [i] : []));
  const given = charsetOnCommandLine(raw);
  const nonAscii = raw.some((a) => a.some((b) => b > 0x7f));
  let deferred: UsageError | undefined;

  const lostError = (i: number) =>
    new UsageError(
      `Unicode character conversion failed for ${argumentLabel(raw, i)} ` +
        `"${printable(String(argv[i]))}": it held bytes that are not UTF-8 and they were lost ` +
        `before ibvault could read them (give the argument in UTF-8)`,
    );
  const strict = (charset: string): string[] => {
    if (lost.length > 0) throw lostError(lost[0]);
    return decodeCommandLine(raw, charset);
  };

  return {
    parse(cores) {
      if (given !== undefined) {
        checkCharset(given);
        return parseCommandLine(strict(given), cores);
      }
      let args: string[];
      try {
        args = strict("utf8mb4");
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        // An option file may still name the character set these bytes are in.
        deferred = e;
        const lenient = new TextDecoder();
        args = raw.map((a) => lenient.decode(a));
      }
      try {
        return parseCommandLine(args, cores);
      } catch (e) {
        throw deferred ?? e;
      }
    },
    underCharset(charset, cores) {
      if (given !== undefined) return undefined;
      checkCharset(charset);
      if (isUtf8Charset(charset)) {
        if (deferred) throw deferred;
        return undefined;
      }
      if (!nonAscii && !deferred) return undefined;
      return parseCommandLine(strict(charset), cores);
    },
  };
}

/**
 * `--default-character-set`: the character set the command line is written in.
 * The command line arrives as bytes; this module turns each argument's bytes
 * into the Unicode text the user meant under the chosen character set, as the
 * MySQL clients do, and refuses bytes that do not belong to it.
 */
import { UsageError } from "../errors.ts";
import { printable } from "./printable.ts";

/**
 * Character sets accepted by `--default-character-set` (MySQL names, any letter
 * case) and the WHATWG encoding `TextDecoder` reads them with. MySQL's latin1 is
 * Windows-1252 with its five undefined bytes as C1 controls, which is exactly the
 * WHATWG windows-1252 decoder.
 */
export const CHARSET_ENCODINGS: Readonly<Record<string, string>> = {
  utf8mb4: "utf-8",
  utf8mb3: "utf-8",
  utf8: "utf-8",
  ascii: "ascii",
  latin1: "windows-1252",
  latin2: "iso-8859-2",
  latin7: "iso-8859-13",
  greek: "iso-8859-7",
  hebrew: "iso-8859-8",
  cp1250: "windows-1250",
  cp1251: "windows-1251",
  cp1256: "windows-1256",
  cp1257: "windows-1257",
  cp866: "ibm866",
  koi8r: "koi8-r",
  koi8u: "koi8-u",
  tis620: "windows-874",
  macroman: "macintosh",
  sjis: "shift_jis",
  cp932: "shift_jis",
  ujis: "euc-jp",
  eucjpms: "euc-jp",
  euckr: "euc-kr",
  gbk: "gbk",
  gb2312: "gbk",
  gb18030: "gb18030",
  big5: "big5",
};

/** Character sets MySQL has that a command line cannot carry, with the reason. */
const REFUSED: Readonly<Record<string, string>> = {
  utf16: "its characters hold zero bytes, and a zero byte ends a command-line argument",
  utf16le: "its characters hold zero bytes, and a zero byte ends a command-line argument",
  ucs2: "its characters hold zero bytes, and a zero byte ends a command-line argument",
  utf32: "its characters hold zero bytes, and a zero byte ends a command-line argument",
  binary: "it is not a character set: names need one",
};

/** Names accepted by `--default-character-set`, for messages and --help. */
export const SUPPORTED_CHARSETS: readonly string[] = Object.keys(CHARSET_ENCODINGS);

/** The UTF-8 family: the default, and what the runtime already decodes. */
export function isUtf8Charset(charset: string): boolean {
  return CHARSET_ENCODINGS[charset.toLowerCase()] === "utf-8";
}

/**
 * Check a `--default-character-set` value: a known character set passes; one a
 * command line cannot carry (`utf16`, ...) and an unknown one are UsageErrors
 * naming it and what to do.
 */
export function checkCharset(charset: string): void {
  const cs = charset.toLowerCase();
  if (Object.hasOwn(CHARSET_ENCODINGS, cs)) return;
  if (Object.hasOwn(REFUSED, cs)) {
    throw new UsageError(
      `--default-character-set=${printable(charset)}: not usable for a command line: ` +
        `${REFUSED[cs]} (use utf8mb4, or a single-byte set such as latin1)`,
    );
  }
  throw new UsageError(
    `--default-character-set: unknown character set ${JSON.stringify(printable(charset))} ` +
      `(supported: ${SUPPORTED_CHARSETS.join(", ")})`,
  );
}

/** `bytes` shown as text: valid UTF-8 as it is (controls escaped), other bytes as `\xNN`. */
export function showBytes(bytes: Uint8Array): string {
  const strict = new TextDecoder("utf-8", { fatal: true });
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const len = b < 0x80
      ? 1
      : b >= 0xc2 && b <= 0xdf
      ? 2
      : b >= 0xe0 && b <= 0xef
      ? 3
      : b >= 0xf0 && b <= 0xf4
      ? 4
      : 0;
    let text: string | undefined;
    if (len > 0 && i + len <= bytes.length) {
      try {
        text = strict.decode(bytes.subarray(i, i + len));
      } catch {
        text = undefined;
      }
    }
    if (text === undefined) {
      out += `\\x${b.toString(16).toUpperCase().padStart(2, "0")}`;
      i++;
    } else {
      out += printable(text);
      i += len;
    }
  }
  return out;
}

function conversionFailed(shown: string, label: string, why: string): UsageError {
  return new UsageError(
    `Unicode character conversion failed for ${label} "${shown}": ${why}`,
  );
}

/**
 * Decode one command-line argument's bytes written under `charset` (a name of
 * {@link CHARSET_ENCODINGS}). `label` names the argument in errors (`--rename
 * argument`, `argument 3`). Bytes that are not text in that character set are a
 * UsageError "Unicode character conversion failed for LABEL ...: ..." showing the
 * argument with its stray bytes as `\xNN` and saying which option to give; for
 * the UTF-8 family that is any invalid UTF-8, for ascii any byte over 0x7F.
 */
export function decodeArgumentBytes(bytes: Uint8Array, charset: string, label: string): string {
  checkCharset(charset);
  const cs = charset.toLowerCase();
  const encoding = CHARSET_ENCODINGS[cs];
  if (encoding === "ascii") {
    const at = bytes.findIndex((b) => b > 0x7f);
    if (at >= 0) {
      throw conversionFailed(
        showBytes(bytes),
        label,
        `byte ${at + 1} (0x${bytes[at].toString(16).toUpperCase()}) is not an ASCII character`,
      );
    }
    return new TextDecoder().decode(bytes);
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding, { fatal: true });
  } catch {
    throw new UsageError(
      `--default-character-set=${charset}: this build cannot decode ${encoding} ` +
        `(use utf8mb4 or latin1)`,
    );
  }
  try {
    return decoder.decode(bytes);
  } catch {
    const hint = encoding === "utf-8"
      ? "it is not valid UTF-8; give --default-character-set=CHARSET for the character set " +
        "it is written in (e.g. latin1)"
      : `it holds bytes that are not ${cs} text`;
    throw conversionFailed(showBytes(bytes), label, hint);
  }
}

const OPTION = /^--default[-_]character[-_]set(?:=(.*))?$/s;

/**
 * The `--default-character-set` value given on a command line of raw arguments
 * (`--default-character-set=X`, `--default_character_set X`), the last one
 * winning, or undefined. Only options before a `--` count.
 */
export function charsetOnCommandLine(args: readonly Uint8Array[]): string | undefined {
  const dec = new TextDecoder();
  let found: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const text = dec.decode(args[i]);
    if (text === "--") break;
    const m = OPTION.exec(text);
    if (!m) continue;
    if (m[1] !== undefined) found = m[1];
    else if (i + 1 < args.length) found = dec.decode(args[++i]);
  }
  return found;
}

/** How to name argument `i` of `args` in a message: the option it belongs to, or its position. */
export function argumentLabel(args: readonly Uint8Array[], i: number): string {
  const dec = new TextDecoder();
  const text = dec.decode(args[i]);
  const own = /^(--[A-Za-z][\w-]*)=/.exec(text);
  if (own) return `${own[1].replaceAll("_", "-")} argument`;
  if (i > 0) {
    const prev = dec.decode(args[i - 1]);
    if (/^--[A-Za-z][\w-]*$/.test(prev)) return `${prev.replaceAll("_", "-")} argument`;
  }
  return `command-line argument ${i + 1}`;
}

/**
 * Decode a whole command line of raw arguments under `charset` (see
 * {@link decodeArgumentBytes}); the first argument that is not text in it is a
 * UsageError naming it. ASCII-only arguments pass unchanged under every set.
 */
export function decodeCommandLine(args: readonly Uint8Array[], charset: string): string[] {
  checkCharset(charset);
  return args.map((a, i) => decodeArgumentBytes(a, charset, argumentLabel(args, i)));
}

/**
 * An option value as the command passes it on. The command line is decoded once,
 * under `--default-character-set`, before options are parsed (see
 * {@link decodeCommandLine}), so a value reaching a command is already the text
 * the user meant and is returned unchanged; kept so commands may name the step.
 */
export function decodeArgument(arg: string, _charset: string, _optionName: string): string {
  return arg;
}

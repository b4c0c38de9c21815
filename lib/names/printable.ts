/**
 * Names shown on a terminal or written to a log: entry, file, table and database
 * names come from images, manifests and servers, so they may hold newlines, ANSI
 * escape sequences or bidirectional overrides that would forge output lines
 * (`ibvault completed OK!`) or clear the screen. Every such name passes through
 * {@link printable} on its way out.
 */

/** Characters escaped by {@link printable}: C0 and C1 controls, DEL, line/paragraph separators, bidi controls. */
const UNSAFE =
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu;

const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * `name` with every control character escaped so it prints as one inert line:
 * `\n`, `\r`, `\t`, other C0/C1 controls and DEL as `\xNN`, line separators and
 * bidi controls as `\u{NNNN}`. Printable text (any script, emoji) is unchanged.
 *
 * @example printable("a\nb\x1b[2J") === "a\\nb\\x1b[2J"
 */
export function printable(name: string): string {
  return name.replace(UNSAFE, (c) => {
    const short = SHORT[c];
    if (short) return short;
    const cp = c.codePointAt(0)!;
    return cp <= 0xff
      ? `\\x${cp.toString(16).padStart(2, "0")}`
      : `\\u{${cp.toString(16).padStart(4, "0")}}`;
  });
}

/** Whether {@link printable} would change `name`. */
export function hasUnsafeCharacters(name: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(name);
  UNSAFE.lastIndex = 0;
  return found;
}

/**
 * A message for a terminal or log that may span lines on purpose: every control
 * character but the newline is escaped as by {@link printable}, and each line
 * after the first is indented, so no name inside it can start a line of its own
 * (a forged `ibvault completed OK!`) or move the cursor.
 */
export function printableLines(message: string): string {
  return message
    .split("\n")
    .map((line, i) => {
      const safe = printable(line);
      return i === 0 || safe.startsWith(" ") || safe === "" ? safe : `  ${safe}`;
    })
    .join("\n");
}

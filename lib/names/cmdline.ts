/**
 * The command line as the bytes the user sent. Deno and bun decode argv as UTF-8
 * before a program sees it, turning every byte that is not UTF-8 into U+FFFD; on
 * Linux the original bytes are still in `/proc/self/cmdline`, so an argument that
 * came out holding U+FFFD is taken from there instead.
 */
import { readFileSync } from "node:fs";

/**
 * The program's arguments (after the script/binary name) as the user sent them.
 * When no argument holds U+FFFD they are returned as they are. Otherwise the last
 * `argv.length` entries of `cmdline` (default: `/proc/self/cmdline`) are returned
 * as bytes, provided each decodes (lossily) back to its argument. Where that is
 * impossible (no such file, a mismatch) the strings are returned: an argument
 * that still holds U+FFFD then stands for bytes that were lost.
 */
export function commandLineBytes(
  argv: readonly string[],
  cmdline?: Uint8Array,
): (string | Uint8Array)[] {
  if (!argv.some((a) => a.includes("\ufffd"))) return [...argv];
  let raw = cmdline;
  if (raw === undefined) {
    try {
      raw = readFileSync("/proc/self/cmdline");
    } catch {
      return [...argv];
    }
  }
  const parts = splitNul(raw);
  if (parts.length < argv.length) return [...argv];
  const tail = parts.slice(parts.length - argv.length);
  const dec = new TextDecoder();
  if (tail.some((p, i) => dec.decode(p) !== argv[i])) return [...argv];
  return tail;
}

/** Split NUL-terminated strings (the last NUL ends the last one). */
function splitNul(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      out.push(bytes.slice(start, i));
      start = i + 1;
    }
  }
  if (start < bytes.length) out.push(bytes.slice(start));
  return out;
}

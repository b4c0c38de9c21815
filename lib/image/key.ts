/**
 * The user's 256-bit key, from `--key-file F` (64 hex digits, a trailing newline
 * allowed; a warning, like ssh's, when group or others may read it), `--key HEX`
 * (works, with a warning that the key shows in the process list) or `--key-env
 * VAR`. Messages name where the key came from, never the key.
 */
import { readFile, stat } from "node:fs/promises";
import process from "node:process";
import { KeyError, UsageError } from "../errors.ts";
import { ioFailure } from "../core/files.ts";

/** Where a key may come from (the matching option fields). */
export interface KeySources {
  keyFile?: string;
  key?: string;
  keyEnv?: string;
}

/** Parse 64 hex digits (surrounding whitespace allowed) into 32 bytes; `from` names the source. */
export function parseHexKey(text: string, from: string): Uint8Array {
  const t = text.replace(/\r?\n$/, "").trim();
  if (!/^[0-9a-fA-F]*$/.test(t)) {
    throw new KeyError(
      `${from}: the key must be 64 hexadecimal digits (found a non-hex character)`,
    );
  }
  if (t.length !== 64) {
    throw new KeyError(`${from}: the key must be 64 hexadecimal digits (found ${t.length})`);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Load the key from the one source given, or undefined when none is; `warn`
 * receives the warnings. More than one source is a UsageError.
 */
export async function loadKey(
  src: KeySources,
  warn: (message: string) => void,
): Promise<Uint8Array | undefined> {
  const given = [src.keyFile && "--key-file", src.key && "--key", src.keyEnv && "--key-env"]
    .filter(Boolean);
  if (given.length > 1) throw new UsageError(`give only one of ${given.join(", ")}`);
  if (src.keyFile) {
    const f = src.keyFile;
    let text: string;
    try {
      const st = await stat(f);
      if (!st.isFile()) throw new KeyError(`key file ${f} is not a regular file`);
      if (st.size > 4096) {
        throw new KeyError(`key file ${f}: too large to be a key (${st.size} bytes)`);
      }
      if ((st.mode & 0o077) !== 0 && process.platform !== "win32") {
        warn(
          `key file ${f} is accessible by group or others (mode ${
            (st.mode & 0o777).toString(8)
          }): ` +
            `chmod 600 it`,
        );
      }
      text = await readFile(f, "utf8");
    } catch (e) {
      if (e instanceof KeyError) throw e;
      throw ioFailure(e, `read key file ${f}`);
    }
    return parseHexKey(text, `key file ${f}`);
  }
  if (src.key !== undefined) {
    warn(
      "--key puts the key in the process list where other users can see it: prefer --key-file or --key-env",
    );
    return parseHexKey(src.key, "--key");
  }
  if (src.keyEnv) {
    const v = process.env[src.keyEnv];
    if (v === undefined || v === "") {
      throw new KeyError(`environment variable ${src.keyEnv} is not set`);
    }
    return parseHexKey(v, `environment variable ${src.keyEnv}`);
  }
  return undefined;
}

/**
 * Where validation finds MySQL tablespace keys: the `.cfp` file beside a
 * tablespace (written by FLUSH TABLES ... FOR EXPORT; it needs nothing else),
 * else the master key in a keyring_file data file (`--keyring-file`) applied to
 * page 0's encryption header. Keys are never printed.
 */
import fs from "node:fs";
import { UsageError } from "../errors.ts";
import type { SpaceInfo } from "./flags.ts";
import {
  keyFromCfp,
  keyFromPage0,
  type Keyring,
  parseKeyringFile,
  type TablespaceKey,
} from "./mysql_keyring.ts";

/** Finds the key of one tablespace: the key, why there is none, or undefined (nothing given). */
export type KeyFinder = (
  path: string,
  page0: Uint8Array,
  space: SpaceInfo,
) => TablespaceKey | string | undefined;

/** A key finder over `.cfp` files and an optional keyring file (read now; a bad one is a usage error). */
export function keyFinder(keyringFile?: string): KeyFinder {
  let keyring: Keyring | undefined;
  if (keyringFile !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(keyringFile);
    } catch (err) {
      throw new UsageError(
        `--keyring-file ${keyringFile}: cannot read it (${(err as Error).message})`,
      );
    }
    try {
      keyring = parseKeyringFile(bytes);
    } catch (err) {
      throw new UsageError(`--keyring-file ${keyringFile}: ${(err as Error).message}`);
    }
  }
  return (path, page0, space) => {
    const cfp = path.replace(/\.ib[du]$/i, "") + ".cfp";
    let bytes: Uint8Array | undefined;
    try {
      bytes = fs.readFileSync(cfp);
    } catch { /* no .cfp beside it */ }
    if (bytes) {
      try {
        return keyFromCfp(bytes);
      } catch (err) {
        return `${cfp}: ${(err as Error).message}`;
      }
    }
    if (!keyring) return undefined;
    return keyFromPage0(page0, space.physicalSize, space.logicalSize, keyring);
  };
}

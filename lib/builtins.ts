/**
 * Node built-in modules that only some runs need, loaded on first use rather
 * than by a static import: in the compiled binary, importing `node:zlib` and
 * `node:crypto` at start-up cost every command 3–4 ms (`--version` 20 → 17 ms,
 * validating one small file 30 → 26.5 ms, medians of 30 runs), though most
 * runs never inflate a page, decrypt one or read an xbstream chunk.
 *
 * @example
 * ```ts
 * import { zlib } from "./builtins.ts";
 * zlib().inflateSync(new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
 * ```
 */
import process from "node:process";

let zlibModule: typeof import("node:zlib") | undefined;
let cryptoModule: typeof import("node:crypto") | undefined;
let childProcessModule: typeof import("node:child_process") | undefined;

/** `node:zlib`, loaded on the first call. */
export const zlib = (): typeof import("node:zlib") =>
  zlibModule ??= process.getBuiltinModule("node:zlib");

/** `node:crypto`, loaded on the first call. */
export const crypto = (): typeof import("node:crypto") =>
  cryptoModule ??= process.getBuiltinModule("node:crypto");

/** `node:child_process`, loaded on the first call. */
export const childProcess = (): typeof import("node:child_process") =>
  childProcessModule ??= process.getBuiltinModule("node:child_process");

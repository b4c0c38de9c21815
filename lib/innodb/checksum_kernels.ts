/**
 * The one place the validator gets its checksum kernels. A {@link PageBuffer}
 * is a block of memory that file data is read into (`fs.readSync(fd,
 * buf.bytes)`) and whose pages are checksummed in place by offset: with the
 * WASM kernels the block lives in this thread's WASM memory and the kernels run
 * by pointer without a copy; without them (instantiation failed, or forced for
 * tests) it is a plain array and the TypeScript versions run.
 */
import * as wasm from "../kernels/mod.ts";
import { adler32Ts, crc32cTs, innodbNewTs, innodbOldTs } from "./checksum_ts.ts";

/** A block of page data plus checksum primitives over byte ranges of it. */
export interface PageBuffer {
  /** The block (re-fetch after other code may have grown WASM memory). */
  readonly bytes: Uint8Array;
  /** Length of the block. */
  readonly length: number;
  /** "wasm" or "ts": which kernels run. */
  readonly kind: "wasm" | "ts";
  /** CRC-32C of `[off, off+len)`, continuing from `init` (0 to start). */
  crc32c(off: number, len: number, init?: number): number;
  /** Legacy InnoDB "new" checksum (stored at the page start) of the page at `off`. */
  innodbNew(off: number, pageSize: number): number;
  /** Legacy InnoDB "old" checksum (stored in the trailer) of the page at `off`. */
  innodbOld(off: number): number;
  /** Adler-32 of `[off, off+len)` continuing from `init` (zlib semantics). */
  adler32(off: number, len: number, init: number): number;
  /**
   * The common-case verdict over `count` pages of `size` bytes from `off` (first page number
   * `firstPage`, mode one of the PAGES_* constants of lib/kernels/pages.ts) in one kernel call:
   * returns how many leading pages passed, and how many of those were all zero. Absent for the
   * TypeScript kernels (the caller then judges page by page).
   */
  checkRun?(
    off: number,
    count: number,
    size: number,
    firstPage: number,
    mode: number,
  ): { passed: number; zeros: number };
}

function tsBuffer(len: number): PageBuffer {
  const bytes = new Uint8Array(len);
  return {
    bytes,
    length: len,
    kind: "ts",
    crc32c: (off, n, init = 0) => crc32cTs(bytes, off, n, init),
    innodbNew: (off, ps) => innodbNewTs(bytes, off, ps),
    innodbOld: (off) => innodbOldTs(bytes, off),
    adler32: (off, n, init) => adler32Ts(bytes, off, n, init),
  };
}

function wasmBuffer(len: number): PageBuffer {
  const k = wasm.kernels();
  const ptr = wasm.alloc(len);
  let cached = wasm.view(ptr, len);
  return {
    get bytes() {
      if (cached.buffer !== wasm.memory().buffer) cached = wasm.view(ptr, len);
      return cached;
    },
    length: len,
    kind: "wasm",
    crc32c: (off, n, init = 0) => k.crc32c(ptr + off, n, init) >>> 0,
    innodbNew: (off, ps) => k.innodbPageChecksumNew(ptr + off, ps) >>> 0,
    innodbOld: (off) => k.innodbPageChecksumOld(ptr + off) >>> 0,
    adler32: (off, n, init) => k.adler32(ptr + off, n, init) >>> 0,
    checkRun: (off, count, size, firstPage, mode) => {
      const passed = k.pagesCheck(ptr + off, count, size, firstPage, mode) >>> 0;
      return { passed, zeros: k.pagesZeroCount() >>> 0 };
    },
  };
}

let wasmBroken = false;

/** Allocate a page buffer of `len` bytes: WASM-backed unless `kind` says "ts" or WASM fails. */
export function allocPageBuffer(len: number, kind: "auto" | "ts" = "auto"): PageBuffer {
  if (kind === "auto" && !wasmBroken) {
    try {
      return wasmBuffer(len);
    } catch {
      wasmBroken = true;
    }
  }
  return tsBuffer(len);
}

/** Wrap existing bytes as a TypeScript-kernel page buffer (no copy), e.g. for a single page. */
export function wrapPageBuffer(bytes: Uint8Array): PageBuffer {
  return {
    bytes,
    length: bytes.length,
    kind: "ts",
    crc32c: (off, n, init = 0) => crc32cTs(bytes, off, n, init),
    innodbNew: (off, ps) => innodbNewTs(bytes, off, ps),
    innodbOld: (off) => innodbOldTs(bytes, off),
    adler32: (off, n, init) => adler32Ts(bytes, off, n, init),
  };
}

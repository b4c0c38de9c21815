/**
 * The WASM kernel module of this thread: its instance, its memory, and a small allocator over
 * the part of the memory the TypeScript side owns.
 *
 * Memory contract: the module imports its memory (created here, zero-filled, not shared). Its
 * own tables and scratch (CRC tables and fold window, the LZ4 hash table) live in static data
 * below the module's `heapBase()`; everything from the first 64 KiB boundary at or above it
 * belongs to this file's allocator. Each thread (the main thread or a `node:worker_threads`
 * worker) gets its own instance and memory, created synchronously on first use.
 *
 * Callers that move a lot of data read it straight into WASM memory (`fs.readSync(fd,
 * view(ptr, len))`) and call the pointer kernels, avoiding a copy. Views are invalidated when
 * the memory grows (any `alloc` may grow it): take a fresh `view` after allocating.
 */

import { decodeBase64 } from "./base64.ts";
import { KERNELS_INITIAL_PAGES, KERNELS_WASM_BASE64 } from "../../wasm/build/kernels_wasm.ts";

/** The raw exports of the kernel module (pointers and lengths are byte offsets/counts). */
export interface KernelExports {
  heapBase(): number;
  crc32c(ptr: number, len: number, crc: number): number;
  crc32cSliced(ptr: number, len: number, crc: number): number;
  innodbPageChecksumNew(ptr: number, pageSize: number): number;
  innodbPageChecksumOld(ptr: number): number;
  adler32(ptr: number, len: number, adler: number): number;
  pagesCheck(ptr: number, count: number, size: number, firstPage: number, mode: number): number;
  pagesZeroCount(): number;
  xxhash32(ptr: number, len: number, seed: number): number;
  lz4CompressBound(n: number): number;
  lz4CompressBlock(src: number, srcLen: number, dst: number, dstCap: number): number;
  lz4DecompressBlock(
    src: number,
    srcLen: number,
    dst: number,
    dstCap: number,
    prefixLen: number,
  ): number;
}

const PAGE = 65536;
/** Upper limit of the memory, in pages (2 GiB). */
const MAX_PAGES = 32768;

let compiled: WebAssembly.Module | undefined;
let instance: KernelExports | undefined;
let mem: WebAssembly.Memory | undefined;
let heapStart = 0;
let top = 0;
const live = new Map<number, number>();
let freeBlocks: { ptr: number; size: number }[] = [];

function init(): KernelExports {
  compiled ??= new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64) as BufferSource);
  mem = new WebAssembly.Memory({ initial: KERNELS_INITIAL_PAGES, maximum: MAX_PAGES });
  const inst = new WebAssembly.Instance(compiled, { env: { memory: mem } });
  instance = inst.exports as unknown as KernelExports;
  heapStart = Math.ceil(instance.heapBase() / PAGE) * PAGE;
  top = heapStart;
  return instance;
}

/** This thread's kernel exports, instantiating the module on first use. */
export function kernels(): KernelExports {
  return instance ?? init();
}

/** This thread's kernel memory. */
export function memory(): WebAssembly.Memory {
  kernels();
  return mem!;
}

/** First byte of the region the TypeScript side owns (a 64 KiB boundary). */
export function ownedStart(): number {
  kernels();
  return heapStart;
}

/** A Uint8Array over [ptr, ptr+len) of kernel memory; invalid after the memory grows. */
export function view(ptr: number, len: number): Uint8Array {
  return new Uint8Array(memory().buffer, ptr, len);
}

/**
 * Allocates `len` bytes of kernel memory aligned to 64 bytes (first fit over freed blocks, else
 * at the top, growing the memory as needed) and returns the pointer. Contents are unspecified.
 */
export function alloc(len: number): number {
  kernels();
  const size = Math.max(64, Math.ceil(len / 64) * 64);
  for (let i = 0; i < freeBlocks.length; i++) {
    const b = freeBlocks[i];
    if (b.size < size) continue;
    if (b.size === size) freeBlocks.splice(i, 1);
    else freeBlocks[i] = { ptr: b.ptr + size, size: b.size - size };
    live.set(b.ptr, size);
    return b.ptr;
  }
  const ptr = top;
  const need = ptr + size;
  const have = mem!.buffer.byteLength;
  if (need > have) {
    const pages = Math.ceil((need - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) throw new RangeError(`kernel memory exhausted (${len})`);
    mem!.grow(pages);
  }
  top = need;
  live.set(ptr, size);
  return ptr;
}

/** Returns a block from `alloc` to the allocator. */
export function free(ptr: number): void {
  const size = live.get(ptr);
  if (size === undefined) throw new RangeError(`free of unknown kernel pointer ${ptr}`);
  live.delete(ptr);
  freeBlocks.push({ ptr, size });
  freeBlocks.sort((a, b) => a.ptr - b.ptr);
  const merged: { ptr: number; size: number }[] = [];
  for (const b of freeBlocks) {
    const last = merged[merged.length - 1];
    if (last && last.ptr + last.size === b.ptr) last.size += b.size;
    else merged.push({ ...b });
  }
  const last = merged[merged.length - 1];
  if (last && last.ptr + last.size === top) {
    top = last.ptr;
    merged.pop();
  }
  freeBlocks = merged;
}

let scratchPtr = 0;
let scratchSize = 0;

/**
 * A per-thread scratch region of at least `len` bytes for the convenience (copying) wrappers;
 * its contents are valid until the next `scratch` call on this thread.
 */
export function scratch(len: number): number {
  if (len > scratchSize) {
    if (scratchSize > 0) free(scratchPtr);
    scratchSize = Math.max(len, scratchSize * 2, PAGE);
    scratchPtr = alloc(scratchSize);
  }
  return scratchPtr;
}

/** Copies `data` into the scratch region (leaving `extra` bytes after it); returns its pointer. */
export function copyIn(data: Uint8Array, extra = 0): number {
  const ptr = scratch(data.length + extra);
  view(ptr, data.length).set(data);
  return ptr;
}

/**
 * The kernel-memory pointer of `data`: its own offset when it already is a view of kernel memory
 * (no copy), else a copy in the scratch region.
 */
export function locate(data: Uint8Array): number {
  return data.buffer === memory().buffer ? data.byteOffset : copyIn(data);
}

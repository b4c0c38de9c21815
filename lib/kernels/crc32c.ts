/**
 * CRC-32C (Castagnoli), the checksum of current InnoDB pages and of the image chunks. The kernel
 * folds long inputs with SIMD (see wasm/assembly/crc32c.ts); 16 KiB pages run at 8-14 GB/s
 * in the bun binary (its optimising tier), about half that where WebAssembly keeps bounds checks.
 */

import { kernels, locate } from "./wasm.ts";

/** CRC-32C of `len` bytes of kernel memory at `ptr`, continuing from `crc` (0 to start). */
export function crc32cAt(ptr: number, len: number, crc = 0): number {
  return kernels().crc32c(ptr, len, crc) >>> 0;
}

/** CRC-32C of `data` (copied into kernel memory unless it is a view of it), continuing from `crc` (0 to start). */
export function crc32c(data: Uint8Array, crc = 0): number {
  return crc32cAt(locate(data), data.length, crc);
}

const POLY = 0x82f63b78;

/** (a·b) mod P over reflected 32-bit polynomials. */
function mulMod(a: number, b: number): number {
  let p = 0;
  for (let m = 0x80000000; m !== 0; m >>>= 1) {
    if (a & m) p ^= b;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(8n) mod P, by squaring. */
function xPow8n(n: number): number {
  let result = 0x80000000; // x^0
  let sq = 0x00800000; // x^8
  while (n > 0) {
    if (n % 2 === 1) result = mulMod(sq, result);
    sq = mulMod(sq, sq);
    n = Math.floor(n / 2);
  }
  return result;
}

/**
 * CRC-32C of A‖B from crc(A), crc(B) and |B| (the combine rule crc(A)·x^(8|B|) mod P ⊕ crc(B)),
 * so parts of a buffer can be checksummed in parallel.
 */
export function crc32cCombine(crcA: number, crcB: number, lenB: number): number {
  return (mulMod(xPow8n(lenB), crcA >>> 0) ^ crcB) >>> 0;
}

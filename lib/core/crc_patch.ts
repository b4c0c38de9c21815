/**
 * A file's CRC-32C kept current while parts of it are overwritten or it grows,
 * without reading it again (a backup directory made with minimum locking gets
 * its deltas applied in place after the copy, and its manifest needs the CRC of
 * the result). CRC-32C is affine: for messages of equal length,
 * crc(M) ^ crc(M') = raw(M ^ M'), where raw() runs the register from zero with
 * no final inversion. A difference Δ at offset o of an L-byte file is raw(Δ)
 * carried through the L - o - |Δ| bytes after it, which is what
 * `crc32cCombine(raw(Δ), 0, after)` computes; and raw(Δ) = crc(Δ) ^ crc(0^|Δ|).
 *
 * @example
 * ```ts
 * const f = new FileCrc(crc32c(file), file.length);
 * f.write(4096, file.subarray(4096, 8192), newPage); // old bytes, then the new ones
 * f.crc; // crc32c of the file with the page replaced
 * ```
 */
import { crc32c, crc32cCombine } from "../kernels/mod.ts";

/** CRC-32C of `n` zero bytes, without reading them (crc(0^n) = ~x^(8n)·~0). */
function crcOfZeros(n: number): number {
  return ~crc32cCombine(0xffffffff, 0, n) >>> 0;
}

/** The running CRC-32C and length of a file being patched. */
export class FileCrc {
  /** Set once a write came without the old bytes it replaces: `crc` is then unknown. */
  lost = false;

  /** A file of `length` bytes whose CRC-32C is `crc`. */
  constructor(public crc: number, public length: number) {}

  /**
   * `bytes` are written at `offset`; `before` holds the file's old bytes there
   * (fewer where the write runs past the end). A write past the end leaves zeros
   * in between, as a sparse file reads. Fewer old bytes than the write covers
   * inside the file (the file was cut short meanwhile) make the CRC {@link lost}.
   */
  write(offset: number, before: Uint8Array, bytes: Uint8Array): void {
    if (this.lost) return;
    if (offset > this.length) this.#append(null, offset - this.length);
    const inside = Math.max(0, Math.min(bytes.length, this.length - offset));
    if (inside > 0) {
      if (before.length < inside) {
        this.lost = true;
        return;
      }
      const diff = new Uint8Array(inside);
      for (let i = 0; i < inside; i++) diff[i] = before[i] ^ bytes[i];
      const raw = (crc32c(diff) ^ crcOfZeros(inside)) >>> 0;
      const after = this.length - offset - inside;
      this.crc = (this.crc ^ crc32cCombine(raw, 0, after)) >>> 0;
    }
    if (inside < bytes.length) this.#append(bytes.subarray(inside), bytes.length - inside);
  }

  /** Append `bytes`, or `n` zero bytes when `bytes` is null. */
  #append(bytes: Uint8Array | null, n: number): void {
    const tail = bytes ? crc32c(bytes) : crcOfZeros(n);
    this.crc = crc32cCombine(this.crc, tail, n);
    this.length += n;
  }
}

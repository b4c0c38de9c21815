/** CRC-32C values as backups write them: 8 lowercase hex digits. */
import { crc32c } from "../kernels/mod.ts";

/** A CRC-32C as 8 lowercase hex digits. */
export function crcHex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, "0");
}

/** Running CRC-32C over chunks: `update` each, then `hex`. */
export class Crc32c {
  #crc = 0;
  /** Add a chunk. */
  update(chunk: Uint8Array): void {
    this.#crc = crc32c(chunk, this.#crc);
  }
  /** The CRC so far, 8 hex digits. */
  hex(): string {
    return crcHex(this.#crc);
  }
}

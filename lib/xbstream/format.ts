/**
 * The xbstream (mbstream) container written by `mariadb-backup --stream=xbstream`
 * and `xtrabackup --stream=xbstream`: a sequence of chunks, all integers
 * little-endian. Learned from MariaDB `extra/mariabackup/xbstream*.{h,cc}` and
 * Percona's `xbstream.h` and its format notes (docs/FORMAT.md has the table):
 *
 * - magic `XBSTCK01` (8), flags (1; bit 0: a chunk of an unknown type may be
 *   skipped), type (1: `P` payload, `S` sparse payload (Percona), `E` end of file),
 *   path length (u32, below 512 = FN_REFLEN), path (UTF-8, as on disk);
 * - `E` chunks end there;
 * - `S` chunks: sparse map entry count (u32);
 * - payload length (u64), file offset (u64), CRC-32 (zlib's, over the sparse map
 *   and the payload, in stream order) (u32);
 * - `S` chunks: (skip u32, length u32) pairs: skip that many bytes (a hole, read as
 *   zeros), then take that many payload bytes;
 * - the payload.
 */

/** The chunk magic, `XBSTCK01`. */
export const XBSTREAM_MAGIC = new TextEncoder().encode("XBSTCK01");
/** Flag bit: a reader may skip this chunk if it does not know its type. */
export const XB_FLAG_IGNORABLE = 0x01;
/** Chunk type bytes. */
export const XB_PAYLOAD = 0x50, XB_SPARSE = 0x53, XB_EOF = 0x45;
/** Magic, flags, type, path length. */
export const XB_HEADER_FIXED = 14;
/** Paths must be shorter than this (FN_REFLEN in the writers). */
export const XB_PATH_MAX = 512;

/** Whether `head` starts with the xbstream chunk magic. */
export function isXbstreamMagic(head: Uint8Array): boolean {
  if (head.length < XBSTREAM_MAGIC.length) return false;
  for (let i = 0; i < XBSTREAM_MAGIC.length; i++) if (head[i] !== XBSTREAM_MAGIC[i]) return false;
  return true;
}

/** A printable name for a chunk type byte (`P`, `E`, `S`, or `0x07`). */
export function chunkTypeName(type: number): string {
  return type >= 0x21 && type < 0x7f
    ? String.fromCharCode(type)
    : `0x${type.toString(16).padStart(2, "0")}`;
}

/**
 * The bytes of an ibvault image (docs/FORMAT.md explains each field): the image
 * header, the fixed record header, and the payloads of ENTRY and END records. All
 * integers are little-endian. Pure encode/decode, no I/O and no crypto.
 */
import { CorruptionError } from "../errors.ts";
import { crc32c, lz4Bound } from "./kernels.ts";

/** Magic of a plain (unencrypted) image: "IBVIMG" 0x0A 0x00. */
export const MAGIC_PLAIN = Uint8Array.of(0x49, 0x42, 0x56, 0x49, 0x4d, 0x47, 0x0a, 0x00);
/** Magic of an encrypted image: "IBVENC" 0x0A 0x00. */
export const MAGIC_ENCRYPTED = Uint8Array.of(0x49, 0x42, 0x56, 0x45, 0x4e, 0x43, 0x0a, 0x00);
/** Newest format version (2 adds page-delta entries); versions 1 and 2 are read. */
export const FORMAT_VERSION = 2;
/** Image header length. */
export const IMAGE_HEADER_SIZE = 84;
/** Record header length. */
export const RECORD_HEADER_SIZE = 24;
/** Default and bounds of the chunk size (uncompressed bytes per DATA record). */
export const DEFAULT_CHUNK_SIZE = 1 << 20;
export const MIN_CHUNK_SIZE = 4096;
export const MAX_CHUNK_SIZE = 4 << 20;
/** Bytes an encrypted record adds: IV, up to one padding block, HMAC tag. */
export const CRYPTO_OVERHEAD = 16 + 16 + 32;

/** Record types. */
export const RecordType = { ENTRY: 1, DATA: 2, END: 3 } as const;
/** Record flags (LZ4 and ZSTD exclusive: the stored payload is one LZ4 block or one zstd frame). */
export const RecordFlag = { LZ4: 1, AES: 2, ZSTD: 4 } as const;

/** The decoded image header. */
export interface ImageHeader {
  encrypted: boolean;
  version: number;
  chunkSize: number;
  /** HKDF salt (zeros for a plain image). */
  salt: Uint8Array;
  /** Key check value (zeros for a plain image). */
  keyCheck: Uint8Array;
  /** The first 48 bytes as stored (bound into key derivation). */
  prefix: Uint8Array;
}

/** Encode an image header. */
export function encodeImageHeader(
  h: {
    encrypted: boolean;
    chunkSize: number;
    salt?: Uint8Array;
    keyCheck?: Uint8Array;
    /** 1 unless the image holds page deltas (docs/FORMAT.md, version 2). */
    version?: number;
  },
): Uint8Array {
  const out = new Uint8Array(IMAGE_HEADER_SIZE);
  const dv = new DataView(out.buffer);
  out.set(h.encrypted ? MAGIC_ENCRYPTED : MAGIC_PLAIN, 0);
  dv.setUint16(8, h.version ?? 1, true);
  dv.setUint16(10, h.encrypted ? 1 : 0, true);
  dv.setUint32(12, h.chunkSize, true);
  if (h.salt) out.set(h.salt, 16);
  if (h.keyCheck) out.set(h.keyCheck, 48);
  dv.setUint32(80, crc32c(out.subarray(0, 80)), true);
  return out;
}

const same = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Decode and check an image header; `name` is used in error messages. */
export function decodeImageHeader(b: Uint8Array, name: string): ImageHeader {
  if (b.length < IMAGE_HEADER_SIZE) {
    if (
      b.length >= 8 &&
      (same(b.subarray(0, 8), MAGIC_PLAIN) || same(b.subarray(0, 8), MAGIC_ENCRYPTED))
    ) {
      throw new CorruptionError(`${name}: image truncated in its header`);
    }
    throw new CorruptionError(`${name}: not an ibvault image (too short)`);
  }
  const magic = b.subarray(0, 8);
  const encrypted = same(magic, MAGIC_ENCRYPTED);
  if (!encrypted && !same(magic, MAGIC_PLAIN)) {
    throw new CorruptionError(`${name}: not an ibvault image (bad magic number)`);
  }
  const dv = new DataView(b.buffer, b.byteOffset, IMAGE_HEADER_SIZE);
  if (dv.getUint32(80, true) !== crc32c(b.subarray(0, 80))) {
    throw new CorruptionError(`${name}: image header checksum mismatch (header corrupted)`);
  }
  const version = dv.getUint16(8, true);
  if (version < 1 || version > FORMAT_VERSION) {
    throw new CorruptionError(`${name}: image format version ${version} is not supported`);
  }
  if (dv.getUint16(10, true) !== (encrypted ? 1 : 0)) {
    throw new CorruptionError(`${name}: image header flags disagree with its magic number`);
  }
  const chunkSize = dv.getUint32(12, true);
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new CorruptionError(`${name}: chunk size ${chunkSize} out of range`);
  }
  if (!encrypted && b.subarray(16, 80).some((x) => x !== 0)) {
    throw new CorruptionError(
      `${name}: image header: salt and key check of a plain image must be zero`,
    );
  }
  return {
    encrypted,
    version,
    chunkSize,
    salt: b.slice(16, 48),
    keyCheck: b.slice(48, 80),
    prefix: b.slice(0, 48),
  };
}

/** A record header's fields. */
export interface RecordHeader {
  type: number;
  flags: number;
  entry: number;
  chunk: number;
  rawLen: number;
  storedLen: number;
  crc: number;
}

/**
 * Encode a record header (the CRC field is set by the codec). Layout: u32 CRC, u8
 * type, u8 flags, u16 reserved, u32 entry, u32 chunk, u32 raw length, u32 stored
 * length; the CRC comes first so that bytes 4.. of the record are contiguous for
 * both the CRC and the MAC.
 */
export function encodeRecordHeader(h: RecordHeader): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_SIZE);
  writeRecordHeader(out, h);
  return out;
}

/** Write a record header into the first 24 bytes of `rec`. */
export function writeRecordHeader(rec: Uint8Array, h: RecordHeader): void {
  const dv = new DataView(rec.buffer, rec.byteOffset, RECORD_HEADER_SIZE);
  dv.setUint32(0, h.crc, true);
  rec[4] = h.type;
  rec[5] = h.flags;
  dv.setUint16(6, 0, true);
  dv.setUint32(8, h.entry, true);
  dv.setUint32(12, h.chunk, true);
  dv.setUint32(16, h.rawLen, true);
  dv.setUint32(20, h.storedLen, true);
}

/** Decode a record header without judging it. */
export function decodeRecordHeader(b: Uint8Array): RecordHeader {
  const dv = new DataView(b.buffer, b.byteOffset, RECORD_HEADER_SIZE);
  return {
    crc: dv.getUint32(0, true),
    type: b[4],
    flags: b[5] | (dv.getUint16(6, true) << 8),
    entry: dv.getUint32(8, true),
    chunk: dv.getUint32(12, true),
    rawLen: dv.getUint32(16, true),
    storedLen: dv.getUint32(20, true),
  };
}

/** Largest raw length a record of `type` may declare. */
export function maxRawLen(type: number, chunkSize: number): number {
  if (type === RecordType.DATA) return chunkSize;
  if (type === RecordType.ENTRY) return 16 + 4096;
  return END_PAYLOAD_SIZE;
}

/** Largest stored length a record of `type` may declare. */
export function maxStoredLen(type: number, chunkSize: number): number {
  return lz4Bound(maxRawLen(type, chunkSize)) + CRYPTO_OVERHEAD;
}

/** What an ENTRY record says about a file. */
export interface EntryInfo {
  path: string;
  size: number;
  mode: number;
}

/** Encode an ENTRY payload: u64 size, u32 mode, u32 reserved, UTF-8 path. */
export function encodeEntryPayload(e: EntryInfo): Uint8Array {
  const p = new TextEncoder().encode(e.path);
  const out = new Uint8Array(16 + p.length);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(e.size), true);
  dv.setUint32(8, e.mode >>> 0, true);
  out.set(p, 16);
  return out;
}

/** Decode an ENTRY payload (the path is checked by the caller). */
export function decodeEntryPayload(b: Uint8Array, where: string): EntryInfo {
  if (b.length < 16) throw new CorruptionError(`${where}: entry record too short`);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const size = dv.getBigUint64(0, true);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CorruptionError(`${where}: entry size ${size} out of range`);
  }
  if (dv.getUint32(12, true) !== 0) {
    throw new CorruptionError(`${where}: entry record: reserved field is not zero`);
  }
  let path: string;
  try {
    path = new TextDecoder("utf-8", { fatal: true }).decode(b.subarray(16));
  } catch {
    throw new CorruptionError(`${where}: entry name is not valid UTF-8`);
  }
  return { size: Number(size), mode: dv.getUint32(8, true), path };
}

/** END payload length. */
export const END_PAYLOAD_SIZE = 32;

/** Totals an END record carries. */
export interface EndInfo {
  entries: number;
  chunks: number;
  rawBytes: number;
  storedBytes: number;
}

/** Encode an END payload: u64 entries, u64 DATA chunks, u64 raw bytes, u64 stored bytes. */
export function encodeEndPayload(e: EndInfo): Uint8Array {
  const out = new Uint8Array(END_PAYLOAD_SIZE);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(e.entries), true);
  dv.setBigUint64(8, BigInt(e.chunks), true);
  dv.setBigUint64(16, BigInt(e.rawBytes), true);
  dv.setBigUint64(24, BigInt(e.storedBytes), true);
  return out;
}

/** Decode an END payload. */
export function decodeEndPayload(b: Uint8Array, where: string): EndInfo {
  if (b.length !== END_PAYLOAD_SIZE) throw new CorruptionError(`${where}: end record malformed`);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const n = (o: number) => Number(dv.getBigUint64(o, true));
  return { entries: n(0), chunks: n(8), rawBytes: n(16), storedBytes: n(24) };
}

/**
 * The record codec: turns a record's raw payload into the whole record (header and
 * stored bytes) and back. Encoding compresses (an LZ4 block or a zstd frame, DATA
 * records only, kept only when smaller), encrypts (AES-256-CBC, fresh random IV, PKCS#7),
 * authenticates (HMAC-SHA256 over record bytes 4..24, IV and ciphertext:
 * encrypt-then-MAC) and checksums (CRC-32C over record bytes 4..end). Runs in the
 * codec workers and, with `threads: 0`, on the calling thread.
 */
import { CorruptionError } from "../errors.ts";
import { aesCbcDecryptPadded, aesCbcEncryptPadded, importAesKey } from "./aes.ts";
import {
  RECORD_HEADER_SIZE,
  RecordFlag,
  type RecordHeader,
  RecordType,
  writeRecordHeader,
} from "./format.ts";
import { crc32c, crcAndCompress, decompressAndCrc } from "./kernels.ts";
import { releaseBuffer } from "./buffers.ts";
import { ZSTD_DEFAULT_LEVEL, zstdCompress, zstdDecompress } from "./zstd.ts";

/** How DATA records are compressed: `false` none, `true` LZ4, or a method and level. */
export type Compression = boolean | { method: "lz4" | "zstd"; level?: number };

/** The method of a {@link Compression}, or undefined for none. */
export function compressionMethod(c: Compression): "lz4" | "zstd" | undefined {
  return c === false ? undefined : c === true ? "lz4" : c.method;
}

/** Imported keys of one image, or none for a plain image. */
export interface CodecKeys {
  aes: CryptoKey;
  hmac: CryptoKey;
}

/** Import the raw enc/mac keys for the codec. */
export async function importCodecKeys(enc: Uint8Array, mac: Uint8Array): Promise<CodecKeys> {
  return {
    aes: await importAesKey(enc),
    hmac: await crypto.subtle.importKey(
      "raw",
      mac as BufferSource,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    ),
  };
}

const IV = 16, TAG = 32;

/** The result of encoding: the whole record and the CRC-32C of the raw payload (DATA). */
export interface EncodedRecord {
  record: Uint8Array;
  rawCrc: number;
}

/**
 * Encode one record; `alloc(n)` gives the n-byte array the record is built in
 * (a recycled buffer's view, by default a fresh array).
 */
export async function encodeRecord(
  r: { type: number; entry: number; chunk: number },
  raw: Uint8Array,
  compress: Compression,
  keys?: CodecKeys,
  alloc: (n: number) => Uint8Array = (n) => new Uint8Array(n),
): Promise<EncodedRecord> {
  const h: RecordHeader = { ...r, flags: 0, rawLen: raw.length, storedLen: 0, crc: 0 };
  let payload = raw;
  let rawCrc = 0;
  const method = compressionMethod(compress);
  if (method === "zstd" && r.type === RecordType.DATA && raw.length > 0) {
    rawCrc = crc32c(raw);
    const level = typeof compress === "object" ? compress.level ?? ZSTD_DEFAULT_LEVEL : 0;
    const frame = zstdCompress(raw, level);
    if (frame.length < raw.length) {
      payload = frame;
      h.flags |= RecordFlag.ZSTD;
    }
  } else if (method === "lz4" && r.type === RecordType.DATA && raw.length > 0) {
    // `block` is a view of kernel memory: used (copied) below before any other kernel call.
    const { crc, block } = crcAndCompress(raw);
    rawCrc = crc;
    if (block.length < raw.length) {
      payload = block;
      h.flags |= RecordFlag.LZ4;
    }
  } else if (r.type === RecordType.DATA) rawCrc = crc32c(raw);
  let rec: Uint8Array;
  if (keys) {
    h.flags |= RecordFlag.AES;
    const iv = crypto.getRandomValues(new Uint8Array(IV));
    const ct = await aesCbcEncryptPadded(keys.aes, iv, payload);
    h.storedLen = IV + ct.length + TAG;
    rec = alloc(RECORD_HEADER_SIZE + h.storedLen);
    writeRecordHeader(rec, h);
    rec.set(iv, RECORD_HEADER_SIZE);
    rec.set(ct, RECORD_HEADER_SIZE + IV);
    const macEnd = RECORD_HEADER_SIZE + IV + ct.length;
    releaseBuffer(ct.buffer); // copied into the record: free it now, not at the next GC
    const tag = await crypto.subtle.sign(
      "HMAC",
      keys.hmac,
      rec.subarray(4, macEnd) as BufferSource,
    );
    rec.set(new Uint8Array(tag), macEnd);
  } else {
    h.storedLen = payload.length;
    rec = alloc(RECORD_HEADER_SIZE + payload.length);
    writeRecordHeader(rec, h);
    rec.set(payload, RECORD_HEADER_SIZE);
  }
  new DataView(rec.buffer, rec.byteOffset, 4).setUint32(0, crc32c(rec.subarray(4)), true);
  return { record: rec, rawCrc };
}

/**
 * What to do with a record when decoding: "full" gives the raw payload;
 * "keep-compressed" the stored LZ4 block or zstd frame as it is (or the raw
 * payload of a chunk stored uncompressed); "check" verifies and gives nothing.
 */
export type DecodeMode = "full" | "keep-compressed" | "check";

/** The result of decoding. */
export interface DecodedRecord {
  /** Raw payload ("full"), LZ4 block, zstd frame or raw ("keep-compressed"), empty ("check"). */
  data: Uint8Array;
  /** True when `data` is an LZ4 block or a zstd frame. */
  compressed: boolean;
  /** True when `data` is a zstd frame. */
  zstd: boolean;
  /** CRC-32C of the raw payload ("full" mode, DATA records). */
  rawCrc: number;
}

/**
 * Decode one record: `rec` is the whole record (header and stored bytes), `h` its
 * decoded header; `alloc(n)` gives the array a compressed payload is decompressed
 * into. Throws CorruptionError (checksum mismatch, authentication failure,
 * bad compression); the caller adds the entry and chunk names.
 */
export async function decodeRecord(
  rec: Uint8Array,
  h: RecordHeader,
  mode: DecodeMode,
  keys?: CodecKeys,
  alloc?: (n: number) => Uint8Array,
): Promise<DecodedRecord> {
  if (crc32c(rec.subarray(4)) !== h.crc) throw new CorruptionError("checksum mismatch");
  const stored = rec.subarray(RECORD_HEADER_SIZE);
  const data = h.type === RecordType.DATA;
  const none = { data: new Uint8Array(0), compressed: false, zstd: false, rawCrc: 0 };
  let payload = stored;
  if (h.flags & RecordFlag.AES) {
    if (!keys) throw new CorruptionError("encrypted record in a plain image");
    if (stored.length < IV + 16 + TAG || (stored.length - IV - TAG) % 16 !== 0) {
      throw new CorruptionError("encrypted record has an impossible length");
    }
    const macEnd = rec.length - TAG;
    const ok = await crypto.subtle.verify(
      "HMAC",
      keys.hmac,
      rec.subarray(macEnd) as BufferSource,
      rec.subarray(4, macEnd) as BufferSource,
    );
    if (!ok) throw new CorruptionError("authentication failed (HMAC mismatch)");
    if (mode === "check" && data) return none;
    try {
      payload = await aesCbcDecryptPadded(
        keys.aes,
        stored.subarray(0, IV),
        rec.subarray(RECORD_HEADER_SIZE + IV, macEnd),
      );
    } catch {
      throw new CorruptionError("decryption failed (bad padding)");
    }
  } else if (keys) {
    throw new CorruptionError("unencrypted record in an encrypted image");
  }
  const lz4 = (h.flags & RecordFlag.LZ4) !== 0;
  const zstd = (h.flags & RecordFlag.ZSTD) !== 0;
  if (lz4 && zstd) throw new CorruptionError("record flagged both LZ4 and zstd");
  const compressed = lz4 || zstd;
  if (mode === "check" && data) return { ...none, compressed, zstd };
  if (mode === "keep-compressed" && data) return { data: payload, compressed, zstd, rawCrc: 0 };
  let raw = payload, rawCrc = 0;
  if (lz4) {
    ({ raw, crc: rawCrc } = decompressAndCrc(payload, h.rawLen, alloc));
    if (payload !== stored) releaseBuffer(payload.buffer); // the decrypted block, used up
  } else if (zstd) {
    raw = zstdDecompress(payload, h.rawLen);
    if (alloc) raw = copyInto(raw, alloc);
    rawCrc = crc32c(raw);
    if (payload !== stored) releaseBuffer(payload.buffer);
  } else if (data) rawCrc = crc32c(raw);
  if (raw.length !== h.rawLen) {
    throw new CorruptionError(`payload is ${raw.length} bytes, header says ${h.rawLen}`);
  }
  return { data: raw, compressed: false, zstd: false, rawCrc };
}

/** `src` copied into the array `alloc` gives (a recycled buffer's view). */
function copyInto(src: Uint8Array, alloc: (n: number) => Uint8Array): Uint8Array {
  const out = alloc(src.length);
  out.set(src);
  return out;
}

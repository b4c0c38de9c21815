/**
 * The record codec: turns a record's raw payload into its stored bytes and back.
 * Encoding compresses (LZ4 block, DATA records only, kept only when smaller),
 * encrypts (AES-256-CBC, fresh random IV, PKCS#7), authenticates (HMAC-SHA256
 * over header bytes 0..20, IV and ciphertext: encrypt-then-MAC) and checksums
 * (CRC-32C over header bytes 0..20 and the stored bytes). Runs in codec workers
 * and, with `--threads 0`, on the main thread.
 */
import { CorruptionError } from "../errors.ts";
import { aesCbcDecryptPadded, aesCbcEncryptPadded, importAesKey } from "./aes.ts";
import {
  encodeRecordHeader,
  RECORD_HEADER_SIZE,
  RecordFlag,
  type RecordHeader,
  RecordType,
} from "./format.ts";
import { crc32c, lz4CompressBlock, lz4DecompressBlock } from "./kernels.ts";

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

function macInput(hdr20: Uint8Array, ivAndCt: Uint8Array): Uint8Array {
  const m = new Uint8Array(20 + ivAndCt.length);
  m.set(hdr20);
  m.set(ivAndCt, 20);
  return m;
}

/** The result of encoding: the whole record (header + stored bytes) and the raw CRC. */
export interface EncodedRecord {
  record: Uint8Array;
  rawCrc: number;
}

/** Encode one record. */
export async function encodeRecord(
  r: { type: number; entry: number; chunk: number },
  raw: Uint8Array,
  compress: boolean,
  keys?: CodecKeys,
): Promise<EncodedRecord> {
  const rawCrc = r.type === RecordType.DATA ? crc32c(raw) : 0;
  let flags = 0;
  let payload = raw;
  if (compress && r.type === RecordType.DATA && raw.length > 0) {
    const c = lz4CompressBlock(raw);
    if (c.length < raw.length) {
      payload = c;
      flags |= RecordFlag.LZ4;
    }
  }
  let stored = payload;
  const h: RecordHeader = { ...r, flags, rawLen: raw.length, storedLen: 0, crc: 0 };
  if (keys) {
    h.flags |= RecordFlag.AES;
    const iv = crypto.getRandomValues(new Uint8Array(16));
    const ct = await aesCbcEncryptPadded(keys.aes, iv, payload);
    h.storedLen = 16 + ct.length + 32;
    const hdr20 = encodeRecordHeader(h).subarray(0, 20);
    const m = new Uint8Array(20 + 16 + ct.length);
    m.set(hdr20);
    m.set(iv, 20);
    m.set(ct, 36);
    const tag = new Uint8Array(await crypto.subtle.sign("HMAC", keys.hmac, m as BufferSource));
    const rec = new Uint8Array(RECORD_HEADER_SIZE + h.storedLen);
    rec.set(m.subarray(20), RECORD_HEADER_SIZE);
    rec.set(tag, RECORD_HEADER_SIZE + 16 + ct.length);
    return { record: finish(rec, h), rawCrc };
  }
  h.storedLen = stored.length;
  const rec = new Uint8Array(RECORD_HEADER_SIZE + stored.length);
  rec.set(stored, RECORD_HEADER_SIZE);
  stored = rec;
  return { record: finish(rec, h), rawCrc };
}

function finish(rec: Uint8Array, h: RecordHeader): Uint8Array {
  rec.set(encodeRecordHeader(h));
  const c = crc32c(rec.subarray(RECORD_HEADER_SIZE), crc32c(rec.subarray(0, 20)));
  new DataView(rec.buffer, rec.byteOffset).setUint32(20, c, true);
  return rec;
}

/** What to do with a record when decoding. */
export type DecodeMode = "full" | "keep-compressed" | "check";

/** The result of decoding. */
export interface DecodedRecord {
  /** Raw payload ("full"), LZ4 block or raw ("keep-compressed"), empty ("check"). */
  data: Uint8Array;
  /** True when `data` is an LZ4 block. */
  compressed: boolean;
  /** CRC-32C of the raw payload ("full" mode, DATA records). */
  rawCrc: number;
}

/**
 * Decode one record: `hdr` is its 24 header bytes, `stored` the bytes after them.
 * Throws CorruptionError (checksum mismatch, authentication failure, bad
 * compression); the caller adds the entry and chunk names.
 */
export async function decodeRecord(
  hdr: Uint8Array,
  stored: Uint8Array,
  h: RecordHeader,
  mode: DecodeMode,
  keys?: CodecKeys,
): Promise<DecodedRecord> {
  if (crc32c(stored, crc32c(hdr.subarray(0, 20))) !== h.crc) {
    throw new CorruptionError("checksum mismatch");
  }
  let payload = stored;
  if (h.flags & RecordFlag.AES) {
    if (!keys) throw new CorruptionError("encrypted record in a plain image");
    if (stored.length < 16 + 16 + 32 || (stored.length - 48) % 16 !== 0) {
      throw new CorruptionError("encrypted record has an impossible length");
    }
    const ivCt = stored.subarray(0, stored.length - 32);
    const tag = stored.subarray(stored.length - 32);
    const ok = await crypto.subtle.verify(
      "HMAC",
      keys.hmac,
      tag as BufferSource,
      macInput(hdr.subarray(0, 20), ivCt) as BufferSource,
    );
    if (!ok) throw new CorruptionError("authentication failed (HMAC mismatch)");
    if (mode === "check" && h.type === RecordType.DATA) {
      return { data: new Uint8Array(0), compressed: false, rawCrc: 0 };
    }
    try {
      payload = await aesCbcDecryptPadded(keys.aes, ivCt.subarray(0, 16), ivCt.subarray(16));
    } catch {
      throw new CorruptionError("decryption failed (bad padding)");
    }
  } else if (keys) {
    throw new CorruptionError("unencrypted record in an encrypted image");
  }
  const compressed = (h.flags & RecordFlag.LZ4) !== 0;
  if (mode === "check" && h.type === RecordType.DATA) {
    return { data: new Uint8Array(0), compressed, rawCrc: 0 };
  }
  if (mode === "keep-compressed" && h.type === RecordType.DATA) {
    return { data: payload, compressed, rawCrc: 0 };
  }
  let raw = payload;
  if (compressed) {
    raw = lz4DecompressBlock(payload, h.rawLen);
  }
  if (raw.length !== h.rawLen) {
    throw new CorruptionError(`payload is ${raw.length} bytes, header says ${h.rawLen}`);
  }
  return { data: raw, compressed: false, rawCrc: h.type === RecordType.DATA ? crc32c(raw) : 0 };
}

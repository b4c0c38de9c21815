/**
 * Building images byte by byte for hostile-input tests (this file holds no tests):
 * plain, uncompressed records with valid CRCs around whatever manifest bytes and
 * entries a test wants, so the reader's checks beyond the CRC are what is tested.
 */
import {
  encodeEndPayload,
  encodeEntryPayload,
  encodeImageHeader,
  RECORD_HEADER_SIZE,
  RecordType,
  writeRecordHeader,
} from "../lib/image/format.ts";
import { crc32c } from "../lib/image/kernels.ts";

/** One record: header fields and the payload stored as it is. */
export interface RawRecord {
  type: number;
  entry: number;
  chunk: number;
  payload: Uint8Array;
  /** Overrides of header fields, written after the CRC would be (so the CRC still matches). */
  flags?: number;
}

/** Encode one record (CRC over bytes 4..end). */
export function encodeRecord(r: RawRecord): Uint8Array {
  const rec = new Uint8Array(RECORD_HEADER_SIZE + r.payload.length);
  writeRecordHeader(rec, {
    type: r.type,
    flags: r.flags ?? 0,
    entry: r.entry,
    chunk: r.chunk,
    rawLen: r.payload.length,
    storedLen: r.payload.length,
    crc: 0,
  });
  rec.set(r.payload, RECORD_HEADER_SIZE);
  new DataView(rec.buffer).setUint32(0, crc32c(rec.subarray(4)), true);
  return rec;
}

/** The records of a plain image: manifest bytes as entry 0, then the entries, then END. */
export function rawRecords(
  manifest: Uint8Array,
  entries: { path: string; data: Uint8Array }[] = [],
  chunkSize = 1 << 20,
): RawRecord[] {
  const out: RawRecord[] = [];
  let chunks = 0, raw = 0;
  const all = [{ path: "ibvault_manifest.json", data: manifest }, ...entries];
  all.forEach((e, i) => {
    out.push({
      type: RecordType.ENTRY,
      entry: i,
      chunk: 0,
      payload: encodeEntryPayload({ path: e.path, size: e.data.length, mode: 0o640 }),
    });
    for (let c = 0, at = 0; at < e.data.length; c++, at += chunkSize) {
      out.push({
        type: RecordType.DATA,
        entry: i,
        chunk: c,
        payload: e.data.subarray(at, at + chunkSize),
      });
      chunks++;
    }
    raw += e.data.length;
  });
  const stored = out.reduce((n, r) => n + RECORD_HEADER_SIZE + r.payload.length, 0);
  out.push({
    type: RecordType.END,
    entry: all.length,
    chunk: 0,
    payload: encodeEndPayload({ entries: all.length, chunks, rawBytes: raw, storedBytes: stored }),
  });
  return out;
}

/** A whole plain image from records. */
export function rawImage(records: RawRecord[], chunkSize = 1 << 20): Uint8Array {
  const parts = [encodeImageHeader({ encrypted: false, chunkSize }), ...records.map(encodeRecord)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A valid manifest document for `entries` (sizes and CRC-32C filled in), with `extra` fields merged. */
export function manifestFor(
  entries: { path: string; data: Uint8Array }[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    format: "ibvault-manifest",
    version: 1,
    tool: { name: "ibvault", version: "0.0.0" },
    createdAt: "2026-12-01T00:00:00.000Z",
    options: {},
    databases: [],
    tables: [],
    entries: entries.map((e) => ({
      path: e.path,
      size: e.data.length,
      crc32c: (crc32c(e.data) >>> 0).toString(16).padStart(8, "0"),
    })),
    ...extra,
  };
}

/** JSON bytes of a value. */
export const jsonBytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

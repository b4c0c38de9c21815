/**
 * MySQL keyring encryption (5.7.11+, `ENCRYPTION='Y'`), read offline with a key.
 *
 * Where the tablespace key comes from, as MySQL's source writes it:
 * - page 0 (`Encryption::decode_encryption_info`, os0enc.cc): at the offset of
 *   {@link encryptionInfoOffset}, magic `lCA` / `lCB` / `lCC` (3 bytes), the master
 *   key id (u32 big-endian; `lCA`/`lCB` may hold it in 8 bytes, the high half
 *   zero), the server UUID (36 ASCII bytes, `lCB`/`lCC`), then the tablespace key
 *   and IV (32 + 32 bytes) encrypted with the master key in AES-256-ECB, then a
 *   CRC-32C of the plain 64 bytes (u32 big-endian). The master key is the keyring
 *   key `INNODBKey-<uuid>-<id>`; id 0 under `lCC` is the bootstrap key
 *   `DefaultMasterKey` padded with zeros to 32 bytes.
 * - the `.cfp` file FLUSH TABLES ... FOR EXPORT writes (row_quiesce_write_transfer_key,
 *   row0quiesce.cc): key length u32 big-endian (32), the transfer key (32), the
 *   tablespace key and the IV each AES-256-ECB encrypted with the transfer key.
 * - the keyring_file plugin's data file (plugin/keyring: Buffered_file_io,
 *   Key::store_in_buffer): `Keyring file version:1.0` or `2.0`, then per key five
 *   64-bit little-endian lengths (record size, key id, key type, user id, key),
 *   the three strings, the key bytes XORed with `*305=Ljt0*!@$Hnm(*-9-w;:`, and
 *   zero padding to the record size; then `EOF`, and for 2.0 a SHA-256 digest.
 *
 * Pages (`Encryption::encrypt_low` / `decrypt`): the 38-byte FIL header stays
 * plain; bytes 38..end (for type 16, 38..38+compressed size, at least
 * MIN_ENCRYPTION_LEN; version-1 compressed pages to the block size) are
 * AES-256-CBC with the key and the first 16 IV bytes, without padding; when the
 * length is not a multiple of 16 the last 32 bytes were encrypted a second
 * time, so they are decrypted first. Type 15 keeps the original type at bytes
 * 28..29, type 17 was an R-tree page (17854), type 16 a type-14 compressed page.
 */
import { crypto } from "../builtins.ts";
import { be16, be32, FIL_PAGE_DATA, FIL_PAGE_TYPE } from "./layout.ts";
import { crc32cTs } from "./checksum_ts.ts";
import { encryptionInfoOffset } from "./encryption_info.ts";

/** A tablespace's key and IV (32 bytes each; CBC uses the first 16 IV bytes). */
export interface TablespaceKey {
  key: Uint8Array;
  iv: Uint8Array;
}

/** Keyring keys by key id (e.g. `INNODBKey-<uuid>-1`). */
export type Keyring = Map<string, Uint8Array>;

const OBFUSCATION = new TextEncoder().encode("*305=Ljt0*!@$Hnm(*-9-w;:");
const HEADERS = ["Keyring file version:1.0", "Keyring file version:2.0"];
const KEY_LEN = 32;
/** MySQL's MIN_ENCRYPTION_LEN: the shortest encrypted span of a compressed page. */
const MIN_ENCRYPTION_LEN = 2 * 16 + FIL_PAGE_DATA;

function le64(b: Uint8Array, off: number): number {
  const v = new DataView(b.buffer, b.byteOffset + off, 8);
  const n = v.getBigUint64(0, true);
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(n);
}

/** Parse a keyring_file data file; throws an Error saying what is wrong. */
export function parseKeyringFile(bytes: Uint8Array): Keyring {
  const text = new TextDecoder("latin1");
  const header = HEADERS.find((h) => text.decode(bytes.subarray(0, h.length)) === h);
  if (!header) {
    throw new Error("not a MySQL keyring_file data file (no 'Keyring file version' header)");
  }
  const v2 = header.endsWith("2.0");
  const end = bytes.length - 3 - (v2 ? 32 : 0);
  if (end < header.length || text.decode(bytes.subarray(end, end + 3)) !== "EOF") {
    throw new Error("keyring file is truncated (no EOF tag)");
  }
  if (v2) {
    const digest = new Uint8Array(
      crypto().createHash("sha256").update(bytes.subarray(header.length, end)).digest(),
    );
    const whole = new Uint8Array(
      crypto().createHash("sha256").update(bytes.subarray(0, end)).digest(),
    );
    const stored = bytes.subarray(end + 3);
    const same = (a: Uint8Array) => a.every((x, i) => x === stored[i]);
    if (!same(digest) && !same(whole)) {
      throw new Error("keyring file digest does not match its keys");
    }
  }
  const keys: Keyring = new Map();
  let off = header.length;
  while (off < end) {
    if (off + 40 > end) throw new Error(`keyring file: key record at byte ${off} is cut short`);
    const size = le64(bytes, off);
    const idLen = le64(bytes, off + 8), typeLen = le64(bytes, off + 16);
    const userLen = le64(bytes, off + 24), keyLen = le64(bytes, off + 32);
    const need = 40 + idLen + typeLen + userLen + keyLen;
    if (size < need || idLen < 0 || typeLen < 0 || userLen < 0 || keyLen < 0 || off + size > end) {
      throw new Error(`keyring file: key record at byte ${off} has impossible lengths`);
    }
    let p = off + 40;
    const id = text.decode(bytes.subarray(p, p + idLen));
    p += idLen + typeLen + userLen;
    const key = bytes.slice(p, p + keyLen);
    for (let i = 0; i < key.length; i++) key[i] ^= OBFUSCATION[i % OBFUSCATION.length];
    keys.set(id, key);
    off += size;
  }
  return keys;
}

function ecbDecrypt(data: Uint8Array, key: Uint8Array): Uint8Array {
  const d = crypto().createDecipheriv("aes-256-ecb", key, null);
  d.setAutoPadding(false);
  const a = d.update(data);
  const b = d.final();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function cbcDecrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Uint8Array {
  const d = crypto().createDecipheriv("aes-256-cbc", key, iv.subarray(0, 16));
  d.setAutoPadding(false);
  const a = d.update(data);
  const b = d.final();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The tablespace key from a `.cfp` file; throws an Error saying what is wrong. */
export function keyFromCfp(bytes: Uint8Array): TablespaceKey {
  if (bytes.length !== 4 + 3 * KEY_LEN || be32(bytes, 0) !== KEY_LEN) {
    throw new Error(`not a MySQL .cfp file (${bytes.length} bytes, expected ${4 + 3 * KEY_LEN})`);
  }
  const transfer = bytes.subarray(4, 4 + KEY_LEN);
  return {
    key: ecbDecrypt(bytes.subarray(4 + KEY_LEN, 4 + 2 * KEY_LEN), transfer),
    iv: ecbDecrypt(bytes.subarray(4 + 2 * KEY_LEN, 4 + 3 * KEY_LEN), transfer),
  };
}

/**
 * The tablespace key from page 0's encryption header and a keyring. Returns a
 * string saying why not when the header is missing, the master key is not in the
 * keyring, or the key does not decrypt (CRC mismatch: a wrong keyring).
 */
export function keyFromPage0(
  page0: Uint8Array,
  physicalSize: number,
  logicalSize: number,
  keyring: Keyring,
): TablespaceKey | string {
  let p = encryptionInfoOffset(physicalSize, logicalSize);
  const magic = String.fromCharCode(page0[p], page0[p + 1], page0[p + 2]);
  const version = { lCA: 1, lCB: 2, lCC: 3 }[magic];
  if (!version) return "page 0 has no MySQL encryption header";
  p += 3;
  const id = be32(page0, p);
  p += 4;
  if (version < 3 && be32(page0, p) === 0) p += 4; // the 8-byte master key id of lCA/lCB
  let uuid = "";
  if (version >= 2) {
    uuid = new TextDecoder("latin1").decode(page0.subarray(p, p + 36));
    p += 36;
  }
  let master: Uint8Array | undefined;
  let name = `INNODBKey-${uuid}-${id}`;
  if (version === 3 && id === 0) {
    master = new Uint8Array(KEY_LEN);
    master.set(new TextEncoder().encode("DefaultMasterKey"));
    name = "the bootstrap master key";
  } else if (version === 1) {
    // 5.7.11 named the key after the server id, which the file does not hold.
    master = [...keyring].find(([k]) => k.startsWith("INNODBKey-") && k.endsWith(`-${id}`))?.[1];
    name = `INNODBKey-<server id>-${id}`;
  } else master = keyring.get(name);
  if (!master) return `master key ${name} is not in the keyring`;
  if (master.length !== KEY_LEN) return `master key ${name} is ${master.length} bytes, not 32`;
  const info = ecbDecrypt(page0.subarray(p, p + 2 * KEY_LEN), master);
  if (crc32cTs(info, 0, info.length) !== be32(page0, p + 2 * KEY_LEN)) {
    return `master key ${name} does not decrypt the tablespace key (wrong keyring?)`;
  }
  return { key: info.slice(0, KEY_LEN), iv: info.slice(KEY_LEN) };
}

/** FIL_PAGE_RTREE, the type an encrypted R-tree page (17) had. */
const FIL_PAGE_RTREE = 17854;

/**
 * Decrypt the type 15/16/17 page of `size` bytes at `off` of `b` into `out`: the
 * plain page as it was before encryption (type 16 becomes the type-14 page).
 */
export function decryptMysqlPage(
  b: Uint8Array,
  off: number,
  size: number,
  key: TablespaceKey,
  out: Uint8Array,
): void {
  const type = be16(b, off + FIL_PAGE_TYPE);
  let len = size;
  if (type === 16) {
    len = Math.max(FIL_PAGE_DATA + be16(b, off + 32), MIN_ENCRYPTION_LEN);
    // Version 1 compressed pages were encrypted up to the file system block size.
    if (b[off + 26] === 1) len = Math.min(size, Math.ceil(len / 4096) * 4096);
    len = Math.min(len, size);
  }
  out.set(b.subarray(off, off + size), 0);
  const data = out.subarray(FIL_PAGE_DATA, len);
  const main = data.length - (data.length % 16);
  if (main !== data.length) {
    const tail = data.length - 32;
    data.set(cbcDecrypt(data.slice(tail), key.key, key.iv), tail);
  }
  data.set(cbcDecrypt(data.slice(0, main), key.key, key.iv), 0);
  const original = type === 15 ? be16(out, 28) : type === 17 ? FIL_PAGE_RTREE : 14;
  out[FIL_PAGE_TYPE] = original >> 8;
  out[FIL_PAGE_TYPE + 1] = original & 0xff;
}

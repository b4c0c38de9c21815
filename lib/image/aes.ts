/**
 * AES-256-CBC through WebCrypto (native AES instructions). WebCrypto always applies
 * PKCS#7 padding; this module offers both the padded form (what the image format
 * stores) and unpadded CBC over whole 16-byte blocks, which hides the padding:
 * encrypting drops WebCrypto's final padding block, decrypting appends the padding
 * block WebCrypto expects (the encryption of an empty plaintext chained from the last
 * ciphertext block).
 */
import { UsageError } from "../errors.ts";

const BLOCK = 16;

/** Import a 32-byte AES-256 key for CBC encryption and decryption. */
export function importAesKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== 32) throw new UsageError(`AES-256 needs a 32-byte key, got ${raw.length}`);
  return crypto.subtle.importKey("raw", raw as BufferSource, "AES-CBC", false, [
    "encrypt",
    "decrypt",
  ]);
}

function checkIv(iv: Uint8Array) {
  if (iv.length !== BLOCK) throw new UsageError(`AES-CBC needs a 16-byte IV, got ${iv.length}`);
}

/** AES-256-CBC encrypt with PKCS#7 padding (output is 1..16 bytes longer than input). */
export async function aesCbcEncryptPadded(
  key: CryptoKey,
  iv: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  checkIv(iv);
  const out = await crypto.subtle.encrypt(
    { name: "AES-CBC", iv: iv as BufferSource },
    key,
    data as BufferSource,
  );
  return new Uint8Array(out);
}

/** AES-256-CBC decrypt and strip PKCS#7 padding; rejects if the padding is invalid. */
export async function aesCbcDecryptPadded(
  key: CryptoKey,
  iv: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  checkIv(iv);
  const out = await crypto.subtle.decrypt(
    { name: "AES-CBC", iv: iv as BufferSource },
    key,
    data as BufferSource,
  );
  return new Uint8Array(out);
}

function checkWhole(data: Uint8Array) {
  if (data.length % BLOCK !== 0) {
    throw new UsageError(`unpadded AES-CBC needs whole 16-byte blocks, got ${data.length} bytes`);
  }
}

/** Unpadded AES-256-CBC encryption of whole 16-byte blocks (same length out as in). */
export async function aesCbcEncrypt(
  key: CryptoKey,
  iv: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  checkWhole(data);
  const out = await aesCbcEncryptPadded(key, iv, data);
  return out.subarray(0, data.length);
}

/** Unpadded AES-256-CBC decryption of whole 16-byte blocks (same length out as in). */
export async function aesCbcDecrypt(
  key: CryptoKey,
  iv: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  checkWhole(data);
  checkIv(iv);
  if (data.length === 0) return new Uint8Array(0);
  const last = data.subarray(data.length - BLOCK);
  // The block a PKCS#7 encryption would have added: E(last XOR 16×0x10) = encrypt of "" with IV=last.
  const pad = await aesCbcEncryptPadded(key, last, new Uint8Array(0));
  const full = new Uint8Array(data.length + BLOCK);
  full.set(data);
  full.set(pad, data.length);
  return aesCbcDecryptPadded(key, iv, full);
}

/**
 * Run `fn` over `items` with at most `inFlight` calls pending, results in input order.
 * WebCrypto reaches its throughput only with several operations in flight.
 */
export async function mapInFlight<T, R>(
  items: readonly T[],
  inFlight: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, items.length)) }, lane));
  return results;
}

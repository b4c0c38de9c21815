/**
 * Per-image keys derived from the user's 256-bit key with HKDF-SHA256 (salt: the
 * image's random salt; info: a purpose label plus the image header's first 48
 * bytes): an AES key, an HMAC key, and a key check value stored in the header so
 * a wrong key is recognised before any record is read.
 */

/** Raw key material for one image. */
export interface ImageKeys {
  enc: Uint8Array;
  mac: Uint8Array;
  check: Uint8Array;
}

async function hkdf(ikm: CryptoKey, salt: Uint8Array, label: string, bind: Uint8Array) {
  const l = new TextEncoder().encode(`ibvault v1 ${label}`);
  const info = new Uint8Array(l.length + bind.length);
  info.set(l);
  info.set(bind, l.length);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: salt as BufferSource, info: info as BufferSource },
    ikm,
    256,
  );
  return new Uint8Array(bits);
}

/**
 * Derive the image keys from `userKey` (32 bytes), the header `salt` (32 bytes)
 * and `bind` (header bytes 0..16: magic, version, flags, chunk size).
 */
export async function deriveImageKeys(
  userKey: Uint8Array,
  salt: Uint8Array,
  bind: Uint8Array,
): Promise<ImageKeys> {
  const ikm = await crypto.subtle.importKey("raw", userKey as BufferSource, "HKDF", false, [
    "deriveBits",
  ]);
  return {
    enc: await hkdf(ikm, salt, "aes-256-cbc", bind),
    mac: await hkdf(ikm, salt, "hmac-sha256", bind),
    check: await hkdf(ikm, salt, "key check", bind),
  };
}

/** Constant-time comparison of two byte strings. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

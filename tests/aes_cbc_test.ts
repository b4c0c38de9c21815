import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import {
  aesCbcDecrypt,
  aesCbcDecryptPadded,
  aesCbcEncrypt,
  aesCbcEncryptPadded,
  importAesKey,
  mapInFlight,
} from "../lib/image/aes.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

// NIST SP 800-38A, F.2.5 (CBC-AES256.Encrypt) and F.2.6 (CBC-AES256.Decrypt).
const NIST_KEY = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const NIST_IV = "000102030405060708090a0b0c0d0e0f";
const NIST_PT = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" +
  "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const NIST_CT = "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d" +
  "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b";

Deno.test("AES-256-CBC: NIST SP 800-38A F.2.5 encrypt", async () => {
  const key = await importAesKey(hex(NIST_KEY));
  assert.equal(toHex(await aesCbcEncrypt(key, hex(NIST_IV), hex(NIST_PT))), NIST_CT);
});

Deno.test("AES-256-CBC: NIST SP 800-38A F.2.6 decrypt", async () => {
  const key = await importAesKey(hex(NIST_KEY));
  assert.equal(toHex(await aesCbcDecrypt(key, hex(NIST_IV), hex(NIST_CT))), NIST_PT);
});

Deno.test("AES-256-CBC: unpadded agrees with node:crypto over random keys, IVs, lengths", async () => {
  for (let i = 0; i < 200; i++) {
    const k = randomBytes(32), iv = randomBytes(16);
    const len = 16 * Math.floor(Math.random() * (i < 100 ? 8 : 4096));
    const pt = randomBytes(len);
    const c = createCipheriv("aes-256-cbc", k, iv).setAutoPadding(false);
    const want = Buffer.concat([c.update(pt), c.final()]);
    const key = await importAesKey(k);
    const got = await aesCbcEncrypt(key, iv, pt);
    assert.equal(toHex(got), toHex(want), `encrypt len ${len}`);
    assert.equal(toHex(await aesCbcDecrypt(key, iv, want)), toHex(pt), `decrypt len ${len}`);
  }
});

Deno.test("AES-256-CBC: padded form agrees with node:crypto PKCS#7", async () => {
  for (let i = 0; i < 100; i++) {
    const k = randomBytes(32), iv = randomBytes(16), pt = randomBytes(i * 7);
    const c = createCipheriv("aes-256-cbc", k, iv);
    const want = Buffer.concat([c.update(pt), c.final()]);
    const key = await importAesKey(k);
    assert.equal(toHex(await aesCbcEncryptPadded(key, iv, pt)), toHex(want));
    const d = createDecipheriv("aes-256-cbc", k, iv);
    const back = Buffer.concat([d.update(want), d.final()]);
    assert.equal(toHex(await aesCbcDecryptPadded(key, iv, want)), toHex(back));
  }
});

async function openssl(args: string[], input: Uint8Array): Promise<Uint8Array> {
  const p = new Deno.Command("openssl", { args, stdin: "piped", stdout: "piped" }).spawn();
  const w = p.stdin.getWriter();
  const [out] = await Promise.all([p.output(), w.write(input).then(() => w.close())]);
  assert.equal(out.code, 0);
  return out.stdout;
}

Deno.test("AES-256-CBC: unpadded agrees with `openssl enc -nopad` both ways", async () => {
  for (let i = 0; i < 8; i++) {
    const k = randomBytes(32), iv = randomBytes(16);
    const pt = randomBytes(16 * [0, 1, 2, 3, 64, 1000, 65536, 65537][i % 8]);
    const args = ["enc", "-aes-256-cbc", "-nopad", "-K", toHex(k), "-iv", toHex(iv)];
    const key = await importAesKey(k);
    const ours = await aesCbcEncrypt(key, iv, pt);
    assert.equal(toHex(await openssl(args, pt)), toHex(ours));
    assert.equal(toHex(await openssl([...args, "-d"], ours)), toHex(pt));
    assert.equal(toHex(await aesCbcDecrypt(key, iv, ours)), toHex(pt));
  }
});

Deno.test("AES-256-CBC: many chunks in flight keep order", async () => {
  const k = randomBytes(32);
  const key = await importAesKey(k);
  const chunks = Array.from({ length: 32 }, (_, i) => randomBytes(16 * (1 + i * 97)));
  const ivs = chunks.map(() => randomBytes(16));
  const enc = await mapInFlight(chunks, 8, (c, i) => aesCbcEncrypt(key, ivs[i], c));
  const dec = await mapInFlight(enc, 8, (c, i) => aesCbcDecrypt(key, ivs[i], c));
  dec.forEach((d, i) => assert.equal(toHex(d), toHex(chunks[i])));
});

Deno.test("AES-256-CBC: rejects partial blocks and wrong key/IV sizes", async () => {
  const key = await importAesKey(new Uint8Array(32));
  await assert.rejects(() => aesCbcEncrypt(key, new Uint8Array(16), new Uint8Array(15)));
  await assert.rejects(() => aesCbcEncrypt(key, new Uint8Array(8), new Uint8Array(16)));
  assert.throws(() => importAesKey(new Uint8Array(16)));
});

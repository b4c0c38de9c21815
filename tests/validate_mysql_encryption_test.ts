/**
 * MySQL keyring encryption, with and without the key. The fixture is built from
 * the format in MySQL's source (storage/innobase/os/os0enc.cc
 * Encryption::encrypt_low and decode_encryption_info, row0quiesce.cc
 * row_quiesce_write_transfer_key, plugin/keyring's file layout), and every AES
 * operation in it is done by the `openssl` command line, not by ibvault's code:
 * a real tablespace (innodb_ruby's t_10k_rows.ibd) gets an `lCC` encryption
 * header on page 0 (master key id 1, a server UUID, the tablespace key and IV
 * AES-256-ECB under the master key, CRC-32C of them), its pages are encrypted
 * in AES-256-CBC from byte 38 (the last 32 bytes encrypted a second time, as
 * MySQL does when the length is not a multiple of 16) and typed 15, one page
 * first compressed (type 14, zlib) and then encrypted (type 16); a keyring_file
 * data file holds the master key, a `.cfp` the transfer-key form.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import zlib from "node:zlib";
import { validateFiles } from "../lib/innodb/validator.ts";
import { keyFinder } from "../lib/innodb/key_source.ts";
import { crc32cTs } from "../lib/innodb/checksum_ts.ts";
import { putBe32 } from "../lib/innodb/layout.ts";
import { validateCommand } from "../lib/commands/validate.ts";
import { defaultOptions, type Options } from "../lib/commands/options.ts";
import { createReporter } from "../lib/progress/reporter.ts";
import type { ValidationReport } from "../lib/innodb/report.ts";

const T10K =
  new URL("../../shared/ibd-legacy/innodb_ruby/t_10k_rows.ibd", import.meta.url).pathname;
const PS = 16384;
const UUID = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

async function aes(mode: "ecb" | "cbc", key: Uint8Array, data: Uint8Array, iv?: Uint8Array) {
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  const args = ["enc", `-aes-256-${mode}`, "-nopad", "-K", hex(key)];
  if (iv) args.push("-iv", hex(iv.subarray(0, 16)));
  const child = new Deno.Command("openssl", { args, stdin: "piped", stdout: "piped" }).spawn();
  const w = child.stdin.getWriter();
  await w.write(data);
  await w.close();
  const out = await child.output();
  assert.ok(out.success);
  return out.stdout;
}

/** Encrypt bytes 38..len of a page as Encryption::encrypt_low does, and type it. */
async function encryptPage(page: Uint8Array, len: number, key: Uint8Array, iv: Uint8Array) {
  const type = (page[24] << 8) | page[25];
  const dataLen = len - 38;
  const main = dataLen - (dataLen % 16);
  page.set(await aes("cbc", key, page.slice(38, 38 + main), iv), 38);
  if (main !== dataLen) page.set(await aes("cbc", key, page.slice(len - 32, len), iv), len - 32);
  if (type === 14) {
    page[24] = 0, page[25] = 16;
  } else {
    page[28] = page[24], page[29] = page[25];
    page[24] = 0, page[25] = 15;
  }
}

function keyringFile(id: string, key: Uint8Array): Uint8Array {
  const enc = new TextEncoder();
  const obf = enc.encode("*305=Ljt0*!@$Hnm(*-9-w;:");
  const kid = enc.encode(id), ktype = enc.encode("AES");
  const size = Math.ceil((40 + kid.length + ktype.length + key.length) / 8) * 8;
  const rec = new Uint8Array(size);
  const v = new DataView(rec.buffer);
  [size, kid.length, ktype.length, 0, key.length].forEach((n, i) =>
    v.setBigUint64(i * 8, BigInt(n), true)
  );
  rec.set(kid, 40);
  rec.set(ktype, 40 + kid.length);
  rec.set(key.map((x, i) => x ^ obf[i % obf.length]), 40 + kid.length + ktype.length);
  const head = enc.encode("Keyring file version:2.0");
  const digest = new Uint8Array(crypto.createHash("sha256").update(rec).digest());
  const out = new Uint8Array(head.length + size + 3 + 32);
  out.set(head);
  out.set(rec, head.length);
  out.set(enc.encode("EOF"), head.length + size);
  out.set(digest, head.length + size + 3);
  return out;
}

async function build(dir: string) {
  const all = Deno.readFileSync(T10K);
  const master = crypto.getRandomValues(new Uint8Array(32));
  const key = crypto.getRandomValues(new Uint8Array(32));
  const iv = crypto.getRandomValues(new Uint8Array(32));
  // Page 0: the lCC header at XDES_ARR_OFFSET + 40 * 256 = 10390, then a crc32 checksum.
  const p0 = all.subarray(0, PS);
  const info = new Uint8Array(3 + 4 + 36 + 64 + 4);
  info.set(new TextEncoder().encode("lCC"));
  putBe32(info, 3, 1);
  info.set(new TextEncoder().encode(UUID), 7);
  const plainKey = new Uint8Array(64);
  plainKey.set(key);
  plainKey.set(iv, 32);
  info.set(await aes("ecb", master, plainKey), 43);
  putBe32(info, 107, crc32cTs(plainKey, 0, 64));
  p0.set(info, 10390);
  const crc0 = (crc32cTs(p0, 4, 22) ^ crc32cTs(p0, 38, PS - 46)) >>> 0;
  putBe32(p0, 0, crc0);
  putBe32(p0, PS - 8, crc0);
  let encrypted = 0;
  for (let p = 1; p < all.length / PS; p++) {
    const page = all.subarray(p * PS, (p + 1) * PS);
    if (page.every((x) => x === 0)) continue;
    let len = PS;
    if (p === 4) {
      // Compressed first (type 14, version 2, zlib), then encrypted over the compressed length.
      const body = zlib.deflateSync(page.slice(38));
      page.fill(0, 38);
      page.set(body, 38);
      page[26] = 2, page[27] = 1;
      page[28] = page[24], page[29] = page[25];
      page[30] = (PS - 38) >> 8, page[31] = (PS - 38) & 0xff;
      page[32] = body.length >> 8, page[33] = body.length & 0xff;
      page[24] = 0, page[25] = 14;
      len = Math.max(38 + body.length, 70);
    }
    await encryptPage(page, len, key, iv);
    encrypted++;
  }
  Deno.writeFileSync(`${dir}/t.ibd`, all);
  Deno.writeFileSync(`${dir}/keyring`, keyringFile(`INNODBKey-${UUID}-1`, master));
  Deno.writeFileSync(
    `${dir}/wrong-keyring`,
    keyringFile(`INNODBKey-${UUID}-1`, crypto.getRandomValues(new Uint8Array(32))),
  );
  const transfer = crypto.getRandomValues(new Uint8Array(32));
  const cfp = new Uint8Array(100);
  putBe32(cfp, 0, 32);
  cfp.set(transfer, 4);
  cfp.set(await aes("ecb", transfer, key), 36);
  cfp.set(await aes("ecb", transfer, iv), 68);
  return { encrypted, cfp };
}

async function runValidate(opts: Partial<Options>, args: string[]) {
  let text = "";
  let json: ValidationReport | undefined;
  const code = await validateCommand.run({
    options: { ...defaultOptions(2), threads: 1, ...opts },
    args,
    report: createReporter({ showProgress: false, write: (s) => void (text += s) }),
    signal: new AbortController().signal,
    printJson: (v) => void (json = v as ValidationReport),
  });
  return { code, text, json };
}

Deno.test("MySQL keyring-encrypted tablespace: verified with the keyring or the .cfp, counted apart without", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { encrypted, cfp } = await build(dir);
    const f = `${dir}/t.ibd`;
    assert.ok(encrypted >= 10);
    // Without a key: valid, every encrypted page counted as not verified, said in summary and JSON.
    const none = await runValidate({ json: true }, [f]);
    assert.equal(none.code, 0, none.text);
    assert.match(none.text, new RegExp(`encrypted: ${encrypted} pages not verified \\(no key`));
    assert.match(
      none.text,
      new RegExp(`validated 1 of 1 files: .*, encrypted: ${encrypted} pages not verified`),
    );
    assert.equal(none.json!.totals.encryptedNotVerified, encrypted);
    assert.equal(none.json!.totals.corruptPages, 0);
    // With the keyring: decrypted and verified, in workers too.
    for (const threads of [0, 2]) {
      const [r] = await validateFiles([{ path: f, name: f }], {
        threads,
        keys: keyFinder(`${dir}/keyring`),
      });
      assert.equal(r.status, "valid", JSON.stringify(r.corrupt[0]));
      assert.equal(r.flavours.mysql_encrypted, encrypted);
      assert.equal(r.encryptedNotVerified, undefined);
    }
    const withKeyring = await runValidate({ keyringFile: `${dir}/keyring` }, [f]);
    assert.equal(withKeyring.code, 0, withKeyring.text);
    assert.doesNotMatch(withKeyring.text, /not verified/);
    // A wrong keyring: said, and the pages stay unverified (not corrupt).
    const wrong = await runValidate({ keyringFile: `${dir}/wrong-keyring` }, [f]);
    assert.equal(wrong.code, 0);
    assert.match(wrong.text, /does not decrypt the tablespace key \(wrong keyring\?\)/);
    // A keyring file that is not one: usage error naming it.
    await assert.rejects(
      () => runValidate({ keyringFile: f }, [f]),
      /--keyring-file .*t\.ibd: not a MySQL keyring_file/,
    );
    // The .cfp beside the table, no keyring.
    Deno.writeFileSync(`${dir}/t.cfp`, cfp);
    const [viaCfp] = await validateFiles([{ path: f, name: f }], { threads: 0, keys: keyFinder() });
    assert.equal(viaCfp.status, "valid", JSON.stringify(viaCfp.corrupt[0]));
    assert.equal(viaCfp.flavours.mysql_encrypted, encrypted);
    // A flipped ciphertext byte is found after decrypting (plain page 3 and compressed page 4).
    const all = Deno.readFileSync(f);
    all[3 * PS + 9000] ^= 1;
    all[4 * PS + 50] ^= 1;
    Deno.writeFileSync(f, all);
    const [bad] = await validateFiles([{ path: f, name: f }], { threads: 0, keys: keyFinder() });
    assert.deepEqual(bad.corrupt.map((c) => c.page), [3, 4], JSON.stringify(bad.corrupt));
    assert.match(bad.corrupt[0].reason, /^after decrypting: /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

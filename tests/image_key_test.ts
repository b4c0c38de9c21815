import assert from "node:assert/strict";
import { loadKey, parseHexKey } from "../lib/image/key.ts";
import { KeyError, UsageError } from "../lib/errors.ts";
import { KEY_HEX } from "./fixtures/keys.ts";

Deno.test("key file: 64 hex digits with a trailing newline (openssl rand -hex 32 output)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/key`;
    const gen = await new Deno.Command("openssl", { args: ["rand", "-hex", "-out", f, "32"] })
      .output();
    assert.equal(gen.code, 0);
    await Deno.chmod(f, 0o600);
    const warnings: string[] = [];
    const k = await loadKey({ keyFile: f }, (m) => warnings.push(m));
    assert.equal(k?.length, 32);
    assert.deepEqual(warnings, []);
    const text = (await Deno.readTextFile(f)).trim();
    assert.equal(Array.from(k!, (b) => b.toString(16).padStart(2, "0")).join(""), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("key file: wrong length, non-hex, group/other-readable, missing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/key`;
    await Deno.writeTextFile(f, KEY_HEX.slice(2) + "\n", { mode: 0o600 });
    await Deno.chmod(f, 0o600);
    await assert.rejects(() => loadKey({ keyFile: f }, () => {}), (e) => {
      assert.ok(e instanceof KeyError);
      assert.match(
        (e as Error).message,
        new RegExp(`key file ${f}.*64 hexadecimal digits \\(found 62\\)`),
      );
      assert.doesNotMatch((e as Error).message, new RegExp(KEY_HEX.slice(2, 20)));
      return true;
    });
    await Deno.writeTextFile(f, KEY_HEX.slice(1) + "g\n");
    await assert.rejects(() => loadKey({ keyFile: f }, () => {}), /non-hex character/);
    await Deno.writeTextFile(f, KEY_HEX + "\n");
    await Deno.chmod(f, 0o644);
    const warnings: string[] = [];
    assert.equal((await loadKey({ keyFile: f }, (m) => warnings.push(m)))?.length, 32);
    assert.match(warnings.join(), /accessible by group or others.*chmod 600/);
    await assert.rejects(
      () => loadKey({ keyFile: `${dir}/none` }, () => {}),
      /cannot read key file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--key warns about the process list; --key-env reads the environment", async () => {
  const warnings: string[] = [];
  assert.equal((await loadKey({ key: KEY_HEX }, (m) => warnings.push(m)))?.length, 32);
  assert.match(warnings.join(), /process list/);
  Deno.env.set("IBVAULT_TEST_KEY", KEY_HEX + "\n");
  assert.equal((await loadKey({ keyEnv: "IBVAULT_TEST_KEY" }, () => {}))?.length, 32);
  await assert.rejects(() => loadKey({ keyEnv: "IBVAULT_NO_SUCH_VAR" }, () => {}), /not set/);
  await assert.rejects(() => loadKey({ key: KEY_HEX, keyEnv: "X" }, () => {}), UsageError);
  assert.equal(await loadKey({}, () => {}), undefined);
  assert.throws(() => parseHexKey("zz", "--key"), KeyError);
});

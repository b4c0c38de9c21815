import assert from "node:assert/strict";
import { encodeImageHeader } from "../lib/image/format.ts";

const MAGIC = new URL("../docs/ibvault.magic", import.meta.url).pathname;

async function fileSays(bytes: Uint8Array): Promise<string | undefined> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/img`, bytes);
    const out = await new Deno.Command("file", { args: ["-b", "-m", MAGIC, `${dir}/img`] })
      .output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return undefined; // `file` not installed
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("docs/ibvault.magic: `file` names plain and encrypted images", async () => {
  const plain = await fileSays(encodeImageHeader({ encrypted: false, chunkSize: 1 << 20 }));
  if (plain === undefined) return;
  assert.equal(plain, "ibvault backup image, format 1, 1048576-byte chunks");
  const enc = await fileSays(
    encodeImageHeader({ encrypted: true, chunkSize: 1 << 20, salt: new Uint8Array(32).fill(1) }),
  );
  assert.match(enc!, /^ibvault encrypted backup image .*format 1/);
});

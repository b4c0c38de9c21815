// Durability: files ibvault writes reach the disk (fdatasync) before they are renamed
// into place, and their directory after; --no-sync skips both. Checked with strace on
// the built binary.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const built = fileURLToPath(new URL("../dist/ibvault", import.meta.url));

/** Run the binary under strace; returns the sync and rename calls it made, with paths. */
function traced(args: string[]): string[] {
  const out = new Deno.Command("strace", {
    args: ["-f", "-y", "-e", "trace=fdatasync,fsync,rename,renameat,renameat2", built, ...args],
    env: { IBV_KEY: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" },
    stdout: "null",
    stderr: "piped",
  }).outputSync();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  return err.split("\n").filter((l) => /(fdatasync|fsync|rename\w*)\(/.test(l));
}

/** Index of the first call matching `re`, asserting there is one. */
function at(calls: string[], re: RegExp): number {
  const i = calls.findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no call matching ${re} in:\n${calls.join("\n")}`);
  return i;
}

Deno.test("images and unpacked files are flushed before their rename, directories after; --no-sync skips it", () => {
  assert.ok(existsSync(built), "dist/ibvault is missing: run deno task compile first");
  const which = new Deno.Command("strace", { args: ["-V"], stdout: "null" }).outputSync();
  assert.equal(which.code, 0, "strace is missing: run scripts/bootstrap");
  const dir = mkdtempSync(join(tmpdir(), "ibvault-sync-"));
  try {
    Deno.mkdirSync(join(dir, "src", "db"), { recursive: true });
    Deno.writeFileSync(join(dir, "src", "db", "t1.ibd"), new Uint8Array(65536).fill(1));
    Deno.writeFileSync(join(dir, "src", "db", "t2.ibd"), new Uint8Array(100).fill(2));
    const img = join(dir, "img");
    const w = traced([
      "backup-dir-to-image",
      `--backup-dir=${join(dir, "src")}`,
      `--backup-image=${img}`,
      "--compress",
      "--encrypt",
      "--key-env=IBV_KEY",
      "--no-progress",
      "--skip-page-check", // the files are not tablespaces: this test is about flushing
    ]);
    const flushed = at(w, /fdatasync\(\d+<[^>]*img\.ibvault-part>/);
    const renamed = at(w, /rename\w*\(.*img\.ibvault-part/);
    const dirSynced = w.findIndex((l, i) => i > renamed && l.includes(`fsync(`) && l.includes(dir));
    assert.ok(flushed < renamed, "the image is flushed before it is renamed into place");
    assert.ok(dirSynced > renamed, "its directory is flushed after the rename");

    const r = traced([
      "image-to-backup-dir",
      `--backup-image=${img}`,
      `--backup-dir=${join(dir, "out")}`,
      "--key-env=IBV_KEY",
      "--no-progress",
    ]);
    for (const name of ["db/t1.ibd", "db/t2.ibd", "ibvault_manifest.json"]) {
      const re = name.replace(/\./g, "\\.");
      assert.ok(
        at(r, new RegExp(`fdatasync\\(\\d+<[^>]*${re}\\.ibvault-part>`)) <
          at(r, new RegExp(`rename\\w*\\(.*${re}\\.ibvault-part`)),
        `${name} is flushed before its rename`,
      );
    }

    const n = traced([
      "image-to-backup-dir",
      `--backup-image=${img}`,
      `--backup-dir=${join(dir, "out-nosync")}`,
      "--key-env=IBV_KEY",
      "--no-progress",
      "--no-sync",
    ]);
    assert.equal(n.filter((l) => /sync\(/.test(l) && l.includes("out-nosync")).length, 0);
    assert.ok(at(n, /rename\w*\(.*t1\.ibd\.ibvault-part/) >= 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

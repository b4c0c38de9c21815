import assert from "node:assert/strict";
import { backupDirToImageCommand } from "../lib/commands/backup_dir_to_image.ts";
import { imageToBackupDirCommand } from "../lib/commands/image_to_backup_dir.ts";
import { extractCommand } from "../lib/commands/extract.ts";
import { MANIFEST_FILE } from "../lib/core/manifest.ts";
import { runCommand as run } from "./fixtures/context.ts";
import { KEY_HEX } from "./fixtures/keys.ts";
import { pageLike } from "./fixtures/prng.ts";
import { makeTree, readTree, sameBytes } from "./fixtures/tree.ts";

const FILES: Record<string, Uint8Array> = {
  "empty": new Uint8Array(0),
  "one": Uint8Array.of(7),
  "db/page.ibd": pageLike(16384, 3),
  "db/multi.ibd": pageLike(3 * (1 << 20) + 12345, 5),
  "weird @0020db/@0gbc.ibd": pageLike(65536, 9),
  "random.bin": crypto.getRandomValues(new Uint8Array(60000)),
};

for (const compress of [false, true]) {
  for (const encrypt of [false, true]) {
    Deno.test(`image round trip: compress=${compress} encrypt=${encrypt}`, async () => {
      const tmp = await Deno.makeTempDir();
      try {
        await makeTree(`${tmp}/src`, FILES);
        const key = encrypt ? { key: KEY_HEX } : {};
        for (const threads of compress && encrypt ? [0, 2] : [1]) {
          const img = `${tmp}/img${threads}`;
          const log: string[] = [];
          assert.equal(
            await run(backupDirToImageCommand, {
              backupDir: `${tmp}/src`,
              backupImage: img,
              compress,
              encrypt,
              threads,
              ...key,
            }, log),
            0,
          );
          if (encrypt) assert.match(log.join(""), /process list/);
          assert.equal(
            await run(imageToBackupDirCommand, {
              backupImage: img,
              backupDir: `${tmp}/out${threads}`,
              threads,
              ...key,
            }),
            0,
          );
          const got = await readTree(`${tmp}/out${threads}`);
          const manifest = JSON.parse(new TextDecoder().decode(got.get(MANIFEST_FILE)!));
          got.delete(MANIFEST_FILE);
          assert.deepEqual([...got.keys()].sort(), Object.keys(FILES).sort());
          for (const [p, d] of Object.entries(FILES)) assert.ok(sameBytes(got.get(p)!, d), p);
          assert.equal(manifest.entries.length, Object.keys(FILES).length);
          if (compress) {
            const size = (await Deno.stat(img)).size;
            assert.ok(size < 3 << 20, `compressed image is ${size} bytes`);
          }
        }
      } finally {
        await Deno.remove(tmp, { recursive: true });
      }
    });
  }
}

Deno.test("image round trip keeps a backup directory's own manifest", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await makeTree(`${tmp}/a`, { "x/y.ibd": pageLike(50000) });
    await run(backupDirToImageCommand, { backupDir: `${tmp}/a`, backupImage: `${tmp}/i1` });
    await run(imageToBackupDirCommand, { backupImage: `${tmp}/i1`, backupDir: `${tmp}/b` });
    const m1 = await Deno.readTextFile(`${tmp}/b/${MANIFEST_FILE}`);
    // b now has a manifest: imaging it again must carry that manifest unchanged.
    await run(backupDirToImageCommand, {
      backupDir: `${tmp}/b`,
      backupImage: `${tmp}/i2`,
      compress: true,
    });
    await run(imageToBackupDirCommand, { backupImage: `${tmp}/i2`, backupDir: `${tmp}/c` });
    assert.equal(await Deno.readTextFile(`${tmp}/c/${MANIFEST_FILE}`), m1);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("destination rules: non-empty dir refused without --force, existing image refused", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await makeTree(`${tmp}/a`, { "f": pageLike(100) });
    await makeTree(`${tmp}/busy`, { "g": pageLike(1) });
    await run(backupDirToImageCommand, { backupDir: `${tmp}/a`, backupImage: `${tmp}/i` });
    await assert.rejects(
      () => run(backupDirToImageCommand, { backupDir: `${tmp}/a`, backupImage: `${tmp}/i` }),
      /already exists/,
    );
    await assert.rejects(
      () => run(imageToBackupDirCommand, { backupImage: `${tmp}/i`, backupDir: `${tmp}/busy` }),
      /not empty/,
    );
    assert.equal(
      await run(imageToBackupDirCommand, {
        backupImage: `${tmp}/i`,
        backupDir: `${tmp}/busy`,
        force: true,
      }),
      0,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("truncated image: error says truncated, no half-written file or manifest is left", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await makeTree(`${tmp}/a`, { "big.ibd": pageLike(3 << 20, 8), "small": pageLike(10) });
    await run(backupDirToImageCommand, { backupDir: `${tmp}/a`, backupImage: `${tmp}/i` });
    const img = await Deno.readFile(`${tmp}/i`);
    await Deno.writeFile(`${tmp}/cut`, img.subarray(0, img.length >> 1));
    await assert.rejects(
      () => run(imageToBackupDirCommand, { backupImage: `${tmp}/cut`, backupDir: `${tmp}/out` }),
      /truncated/,
    );
    const left = [...(await readTree(`${tmp}/out`)).keys()];
    assert.deepEqual(left, []); // big.ibd comes first and was cut: neither it nor a part file remains
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("extract never writes through a symbolic link leading outside the destination", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await makeTree(`${tmp}/a`, { "sub/x.ibd": pageLike(100) });
    await run(backupDirToImageCommand, { backupDir: `${tmp}/a`, backupImage: `${tmp}/i` });
    await Deno.mkdir(`${tmp}/dest`);
    await Deno.mkdir(`${tmp}/outside`);
    await Deno.symlink(`${tmp}/outside`, `${tmp}/dest/sub`);
    await assert.rejects(
      () => run(extractCommand, { backupImage: `${tmp}/i`, backupDir: `${tmp}/dest`, force: true }),
      /leads outside/,
    );
    assert.deepEqual([...(await readTree(`${tmp}/outside`)).keys()], []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { backupDirToImageCommand } from "../lib/commands/backup_dir_to_image.ts";
import { writeImageBytes } from "../lib/image/image_io.ts";
import { UsageError } from "../lib/errors.ts";
import { runCommand as run } from "./fixtures/context.ts";
import { pageLike } from "./fixtures/prng.ts";
import { makeTree } from "./fixtures/tree.ts";

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

Deno.test("writeImageBytes: a FIFO is written into, never renamed over", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const fifo = `${tmp}/fifo`;
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.equal(mk.code, 0);
    const data = pageLike(3 << 20, 4);
    // Another process drains the FIFO into a file while the image is written into it
    // (no --force needed). Its output goes to a file, not to us: a write into a full
    // FIFO may block this thread.
    const reader = new Deno.Command("sh", { args: ["-c", 'cat "$0" > "$0.out"', fifo] })
      .output();
    const n = await writeImageBytes(
      fifo,
      chunks(data.subarray(0, 1000), data.subarray(1000)),
      false,
    );
    assert.equal((await reader).code, 0);
    const got = await Deno.readFile(`${fifo}.out`);
    assert.equal(n, data.length);
    assert.equal(got.length, data.length);
    assert.ok(got.every((b, i) => b === data[i]));
    assert.ok((await Deno.lstat(fifo)).isFifo, "the FIFO is still a FIFO");
    assert.deepEqual(
      [...Deno.readDirSync(tmp)].map((e) => e.name).sort(),
      ["fifo", "fifo.out"],
      "no temporary left",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("writeImageBytes: /dev/null is opened for writing, stays a device", async () => {
  const n = await writeImageBytes("/dev/null", chunks(new Uint8Array(12345)), true);
  assert.equal(n, 12345);
  assert.ok((await Deno.stat("/dev/null")).isCharDevice);
});

Deno.test("writeImageBytes: a directory is a UsageError; regular files keep temp + rename", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => writeImageBytes(tmp, chunks(new Uint8Array(1)), true),
      (e) => e instanceof UsageError && /is a directory/.test(e.message),
    );
    const file = `${tmp}/img`;
    await Deno.writeTextFile(file, "old");
    await assert.rejects(() => writeImageBytes(file, chunks(new Uint8Array(1)), false), UsageError);
    const ino = (await Deno.stat(file)).ino;
    assert.equal(await writeImageBytes(file, chunks(new Uint8Array(5)), true), 5);
    const st = await Deno.stat(file);
    assert.equal(st.size, 5);
    assert.notEqual(st.ino, ino, "replaced by rename, not rewritten in place");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("backup-dir-to-image --backup-image=/dev/null works and leaves /dev/null a device", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await makeTree(`${tmp}/src`, { "db/t.ibd": pageLike(65536, 2) });
    for (const force of [false, true]) {
      assert.equal(
        await run(backupDirToImageCommand, {
          backupDir: `${tmp}/src`,
          backupImage: "/dev/null",
          compress: true,
          force,
        }),
        0,
      );
      assert.ok((await Deno.stat("/dev/null")).isCharDevice);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

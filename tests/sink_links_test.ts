/**
 * Writing safely (issue 11 items 1 and 12): temporary files are created
 * exclusively and never through a symbolic link planted at their name, a link
 * at a final image name is not written through, extract refuses a non-empty
 * destination, and part files a killed run left are removed by the next run
 * (only ibvault's own, only those no live process holds).
 */
import assert from "node:assert/strict";
import { backupDirToImageCommand } from "../lib/commands/backup_dir_to_image.ts";
import { imageToBackupDirCommand } from "../lib/commands/image_to_backup_dir.ts";
import { extractCommand } from "../lib/commands/extract.ts";
import { exitCodeOf, IoError, UsageError } from "../lib/errors.ts";
import { writeManifest } from "../lib/core/manifest_io.ts";
import { createPartFile, heldOpen, removeStalePartFiles } from "../lib/core/part_files.ts";
import { JOURNAL_FILE, recoverIncomplete, WriteJournal } from "../lib/core/write_journal.ts";
import { runCommand as run } from "./fixtures/context.ts";
import { pageLike } from "./fixtures/prng.ts";
import { makeTree } from "./fixtures/tree.ts";
import { manifestFor } from "./raw_image.ts";

const FILES = { "db/t1.ibd": pageLike(3 * 16384, 1), "db/t2.ibd": pageLike(16384, 2) };

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "ibvault-links-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function outcome(p: Promise<number>): Promise<{ code: number; err?: Error }> {
  try {
    return { code: await p };
  } catch (e) {
    return { code: exitCodeOf(e), err: e as Error };
  }
}

const victimText = "precious, must stay as it is\n";

Deno.test("a symbolic link planted at a temporary name is never written through", async () => {
  await withDir(async (dir) => {
    await makeTree(`${dir}/src`, FILES);
    const victim = `${dir}/victim`;
    await Deno.writeTextFile(victim, victimText);
    const cases: [string, string, () => Promise<number>][] = [
      [
        "backup-dir-to-image (image file)",
        `${dir}/out.ibv.ibvault-part`,
        () =>
          run(backupDirToImageCommand, { backupDir: `${dir}/src`, backupImage: `${dir}/out.ibv` }),
      ],
      [
        "image-to-backup-dir (an entry)",
        `${dir}/dest1/db/t1.ibd.ibvault-part`,
        () =>
          run(imageToBackupDirCommand, {
            backupImage: `${dir}/good.ibv`,
            backupDir: `${dir}/dest1`,
            force: true,
          }),
      ],
      [
        "extract (an entry)",
        `${dir}/dest2/db/t2.ibd.ibvault-part`,
        () =>
          run(extractCommand, {
            backupImage: `${dir}/good.ibv`,
            backupDir: `${dir}/dest2`,
            force: true,
          }),
      ],
      [
        "image-to-backup-dir (the manifest's temporary file)",
        `${dir}/dest3/ibvault_manifest.json.ibvault-part`,
        () =>
          run(imageToBackupDirCommand, {
            backupImage: `${dir}/good.ibv`,
            backupDir: `${dir}/dest3`,
            force: true,
          }),
      ],
    ];
    assert.equal(
      await run(backupDirToImageCommand, {
        backupDir: `${dir}/src`,
        backupImage: `${dir}/good.ibv`,
      }),
      0,
    );
    for (const [label, part, go] of cases) {
      await Deno.mkdir(part.slice(0, part.lastIndexOf("/")), { recursive: true });
      await Deno.symlink(victim, part);
      const r = await outcome(go());
      assert.equal(r.code, 3, `${label}: ${r.err?.message}`);
      assert.ok(r.err instanceof IoError, label);
      assert.match(
        r.err!.message,
        /is at that temporary name; ibvault never writes through links/,
        label,
      );
      assert.equal(await Deno.readTextFile(victim), victimText, `${label}: the victim was written`);
      assert.ok((await Deno.lstat(part)).isSymlink, `${label}: the link was removed`);
      await Deno.remove(part);
    }
    // writeManifest (every backup directory's last file) goes through the same door.
    await Deno.mkdir(`${dir}/m`);
    await Deno.symlink(victim, `${dir}/m/ibvault_manifest.json.ibvault-part`);
    await assert.rejects(
      () => writeManifest(`${dir}/m`, manifestFor([]) as never),
      /never writes through links/,
    );
    assert.equal(await Deno.readTextFile(victim), victimText);
  });
});

Deno.test("a symbolic link at a final image name is refused; /dev/stdout-style links still work", async () => {
  await withDir(async (dir) => {
    await makeTree(`${dir}/src`, FILES);
    const victim = `${dir}/victim`;
    await Deno.writeTextFile(victim, victimText);
    await Deno.symlink(victim, `${dir}/out.ibv`);
    for (const force of [false, true]) {
      const r = await outcome(
        run(backupDirToImageCommand, {
          backupDir: `${dir}/src`,
          backupImage: `${dir}/out.ibv`,
          force,
        }),
      );
      assert.equal(r.code, 2, String(r.err?.message));
      assert.ok(r.err instanceof UsageError);
      assert.match(
        r.err!.message,
        /out\.ibv is a symbolic link: ibvault does not write through links/,
      );
    }
    assert.equal(await Deno.readTextFile(victim), victimText);
    // /dev/null is a device, not a link, and is written into directly.
    assert.equal(
      await run(backupDirToImageCommand, { backupDir: `${dir}/src`, backupImage: "/dev/null" }),
      0,
    );
  });
});

Deno.test("extract refuses a non-empty destination unless --force", async () => {
  await withDir(async (dir) => {
    await makeTree(`${dir}/src`, FILES);
    assert.equal(
      await run(backupDirToImageCommand, { backupDir: `${dir}/src`, backupImage: `${dir}/i.ibv` }),
      0,
    );
    await Deno.mkdir(`${dir}/dest`);
    await Deno.writeTextFile(`${dir}/dest/unrelated.txt`, "x");
    const r = await outcome(
      run(extractCommand, { backupImage: `${dir}/i.ibv`, backupDir: `${dir}/dest` }),
    );
    assert.equal(r.code, 2);
    assert.match(r.err!.message, /dest is not empty \(use --force/);
    assert.deepEqual([...Deno.readDirSync(`${dir}/dest`)].map((e) => e.name), ["unrelated.txt"]);
    assert.equal(
      await run(extractCommand, {
        backupImage: `${dir}/i.ibv`,
        backupDir: `${dir}/dest`,
        force: true,
      }),
      0,
    );
    assert.ok(Deno.statSync(`${dir}/dest/db/t1.ibd`).isFile);
  });
});

Deno.test("part files of dead runs are removed by the next run; a live run's part is left alone", async () => {
  await withDir(async (dir) => {
    await makeTree(`${dir}/src`, FILES);
    assert.equal(
      await run(backupDirToImageCommand, { backupDir: `${dir}/src`, backupImage: `${dir}/i.ibv` }),
      0,
    );
    // What a killed image-to-backup-dir left: part files only (no manifest).
    await Deno.mkdir(`${dir}/dest/db`, { recursive: true });
    await Deno.writeFile(`${dir}/dest/db/t1.ibd.ibvault-part`, new Uint8Array(50_000));
    await Deno.writeFile(`${dir}/dest/ibvault_manifest.json.ibvault-part`, new Uint8Array(10));
    const log: string[] = [];
    assert.equal(
      await run(
        imageToBackupDirCommand,
        { backupImage: `${dir}/i.ibv`, backupDir: `${dir}/dest` },
        log,
      ),
      0,
    );
    assert.match(log.join(""), /removed .*t1\.ibd\.ibvault-part, left by an interrupted run/);
    const names = [...Deno.readDirSync(`${dir}/dest/db`)].map((e) => e.name).sort();
    assert.deepEqual(names, ["t1.ibd", "t2.ibd"]);
    // A part file this process holds open is "held by a live process": not removed, not reused.
    await Deno.mkdir(`${dir}/live`);
    const held = `${dir}/live/x.ibd.ibvault-part`;
    const fh = await Deno.open(held, { write: true, create: true });
    try {
      assert.equal(await heldOpen(held), true);
      assert.deepEqual(await removeStalePartFiles(`${dir}/live`), []);
      await assert.rejects(() => createPartFile(held), /another running process is writing it/);
      // Other people's files are never touched, whatever their name.
      await Deno.writeTextFile(`${dir}/live/notes.txt`, "keep");
      await Deno.symlink(`${dir}/victim-missing`, `${dir}/live/y.ibvault-part`);
      assert.deepEqual(await removeStalePartFiles(`${dir}/live`), []);
    } finally {
      fh.close();
    }
    assert.equal(await heldOpen(held), false);
    assert.deepEqual(await removeStalePartFiles(`${dir}/live`), [held]);
  });
});

Deno.test("backup-to-image checks its output before touching the server", async () => {
  const { backupToImageCommand } = await import("../lib/commands/backup_to_image.ts");
  // The socket leads nowhere: were the server contacted first, this would be a connection error.
  for (
    const [image, re, code] of [
      [
        "/no/such/dir/x.ibv",
        /cannot write \/no\/such\/dir\/x\.ibv: its directory \/no\/such\/dir does not exist/,
        2,
      ],
      [
        "/proc/x.ibv",
        /cannot write \/proc\/x\.ibv: its directory \/proc is not writable|does not exist/,
        3,
      ],
    ] as const
  ) {
    const r = await outcome(
      run(backupToImageCommand, { backupImage: image, socket: "/nonexistent/mysqld.sock" }),
    );
    assert.match(String(r.err?.message), re);
    assert.ok(r.code === code || r.code === 2 || r.code === 3, String(r.err?.message));
    assert.doesNotMatch(String(r.err?.message), /connect/);
  }
});

Deno.test("a planted ibvault_incomplete removes nothing outside the directory, through no link, nothing but files", async () => {
  await withDir(async (dir) => {
    const dest = `${dir}/dest`;
    await makeTree(dest, { "db/a.ibd": pageLike(16384, 1), "keep/b.ibd": pageLike(16384, 2) });
    await makeTree(`${dir}/outside`, { "x.ibd": pageLike(16384, 3) });
    await Deno.symlink(`${dir}/outside`, `${dest}/link`);
    await Deno.symlink(`${dir}/outside/x.ibd`, `${dest}/filelink.ibd`);
    await Deno.mkdir(`${dest}/adir.ibd`);
    const lines = [
      "../outside/x.ibd",
      "link/x.ibd",
      "filelink.ibd",
      `${dir}/outside/x.ibd`,
      "adir.ibd",
    ]
      .concat(["db/a.ibd", "db/a.cfg"]).map((p) => JSON.stringify(p));
    await Deno.writeTextFile(`${dest}/${JOURNAL_FILE}`, `# planted\n${lines.join("\n")}\n"cut`);
    const removed: string[] = [];
    await recoverIncomplete(await Deno.realPath(dest), (p) => removed.push(p));
    assert.deepEqual(removed.map((p) => p.slice(dir.length)), ["/dest/db/a.ibd"]);
    assert.ok(Deno.statSync(`${dir}/outside/x.ibd`).isFile);
    assert.ok(Deno.lstatSync(`${dest}/filelink.ibd`).isSymlink);
    assert.ok(Deno.statSync(`${dest}/adir.ibd`).isDirectory);
    assert.ok(Deno.statSync(`${dest}/keep/b.ibd`).isFile);
    assert.throws(() => Deno.statSync(`${dest}/db`), Deno.errors.NotFound); // left empty: removed
    assert.throws(() => Deno.statSync(`${dest}/${JOURNAL_FILE}`), Deno.errors.NotFound);
    // A journal a live process holds open means another run is writing there.
    const journal = await WriteJournal.start(await Deno.realPath(dest));
    try {
      await assert.rejects(() => recoverIncomplete(dest), /another ibvault run is writing/);
    } finally {
      await journal.finish();
    }
  });
});

// These tests pin the full-locking export (--use-tts=with-full-locking); the
// page-LSN (minimum locking) path has its own in page_lsn_*_test.ts.
import assert from "node:assert/strict";

import { backupToImageCommand } from "../lib/commands/backup_to_image.ts";
import { openExport, planBackup } from "../lib/commands/backup_common.ts";
import { selectionSpec } from "../lib/commands/selection.ts";
import { endQuietly } from "../lib/server/connection.ts";
import { openImage } from "../lib/image/reader.ts";
import { writeImage } from "../lib/image/writer.ts";
import { crc32c } from "../lib/kernels/mod.ts";
import { ServerError, UsageError } from "../lib/errors.ts";
import { contextFor, seed, startBackupServer, writable } from "./fixtures/server.ts";
import { concat, exists } from "./fixtures/tree.ts";

async function* fileBytes(path: string): AsyncGenerator<Uint8Array> {
  yield await Deno.readFile(path);
}

async function readAll(path: string, key?: Uint8Array) {
  const img = await openImage(fileBytes(path), { threads: 0, key });
  const files = new Map<string, Uint8Array>();
  for await (const e of img.entries()) {
    const parts: Uint8Array[] = [];
    for await (const c of e.data) parts.push(c.slice());
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    files.set(e.path, all);
  }
  await img.close();
  return { manifest: img.manifest, files };
}

Deno.test("backup-to-image: plain, compressed, encrypted; never complete-looking when cut", async (t) => {
  await using srv = await startBackupServer();
  await seed(srv);
  const tmp = await Deno.makeTempDir();
  const key = new Uint8Array(32).map((_, i) => i * 7);
  const keyFile = `${tmp}/key`;
  await Deno.writeTextFile(
    keyFile,
    Array.from(key, (b) => b.toString(16).padStart(2, "0")).join(""),
  );
  await Deno.chmod(keyFile, 0o600);
  try {
    for (
      const [label, opts] of [
        ["plain", {}],
        ["compressed", { compress: true }],
        ["compressed and encrypted", { compress: true, encrypt: true, keyFile }],
        ["locked per table", { compress: true, lockPerTable: true }],
      ] as const
    ) {
      await t.step(`${label}: the image holds every file, byte for byte`, async () => {
        const file = `${tmp}/${label.replaceAll(" ", "_")}.img`;
        const ctx = contextFor(srv, {
          useTts: "with-full-locking",
          backupImage: file,
          includeTables: "^db\\.",
          ...opts,
        });
        assert.equal(await backupToImageCommand.run(ctx), 0);
        const { manifest, files } = await readAll(file, "encrypt" in opts ? key : undefined);
        assert.deepEqual(manifest.tables.map((x) => x.name).sort(), ["déf", "à123", "àbc"]);
        assert.deepEqual([...files.keys()].sort(), [
          "db/@0g123.cfg",
          "db/@0g123.ibd",
          "db/@0gbc.cfg",
          "db/@0gbc.ibd",
          "db/d@0pf.cfg",
          "db/d@0pf.ibd",
        ]);
        // the .ibd content equals the table's file now that it is unlocked and idle
        const ibd = files.get("db/@0gbc.ibd")!;
        assert.equal(crc32c(ibd), crc32c(await Deno.readFile(`${srv.datadir}/db/@0gbc.ibd`)));
        assert.ok(await writable(srv, "db.`àbc`"));
      });
    }

    await t.step("an existing image is refused before the server is touched", async () => {
      const file = `${tmp}/plain.img`;
      const ctx = contextFor(srv, {
        useTts: "with-full-locking",
        backupImage: file,
        includeTables: "^db\\.",
      });
      await assert.rejects(() => backupToImageCommand.run(ctx), UsageError);
      assert.equal(ctx.report.lines.length, 0);
    });

    await t.step("a device as --backup-image is written into, never renamed over", async () => {
      for (const force of [false, true]) {
        const ctx = contextFor(srv, {
          useTts: "with-full-locking",
          backupImage: "/dev/null",
          force,
          includeTables: "^db\\.",
        });
        assert.equal(await backupToImageCommand.run(ctx), 0);
        assert.ok((await Deno.stat("/dev/null")).isCharDevice);
      }
      const dir = contextFor(srv, {
        useTts: "with-full-locking",
        backupImage: tmp,
        force: true,
        includeTables: "^db\\.",
      });
      await assert.rejects(() => backupToImageCommand.run(dir), /is a directory/);
    });

    await t.step("connection lost mid-stream: no end record, tables unlocked", async () => {
      const ctx = contextFor(srv, {
        useTts: "with-full-locking",
        includeTables: "^db\\.",
        socket: undefined,
        host: "127.0.0.1",
        port: srv.port,
        user: srv.user,
        password: srv.password,
      });
      const plan = await planBackup(ctx, selectionSpec(ctx.options));
      const [{ id }] = await srv.query<{ id: number }[]>(
        "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?",
        [srv.user],
      );
      const source = await openExport(ctx, plan, { crc: false });
      const out: Uint8Array[] = [];
      try {
        const manifest = source.manifest;
        let killed = false;
        await assert.rejects(async () => {
          for await (
            const b of writeImage(manifest, source.entries(), { compress: true, threads: 1 })
          ) {
            out.push(b.slice());
            if (!killed && out.length > 3) {
              killed = true;
              await srv.query(`KILL CONNECTION ${Number(id)}`);
              await new Promise((r) => setTimeout(r, 200));
            }
          }
        }, ServerError);
      } finally {
        await source.close();
        await endQuietly(plan.conn);
      }
      // What was streamed so far is detectably incomplete.
      const path = `${tmp}/cut.img`;
      await Deno.writeFile(path, concat(out));
      await assert.rejects(() => readAll(path));
      assert.ok(await writable(srv, "db.`àbc`"));
    });

    await t.step(
      "aborted while writing a file: no image left, not even a partial one",
      async () => {
        const file = `${tmp}/aborted.img`;
        const controller = new AbortController();
        const ctx = contextFor(srv, {
          useTts: "with-full-locking",
          backupImage: file,
          compress: true,
        }, controller);
        ctx.report.onProgress = () => controller.abort(new Error("interrupted by SIGTERM"));
        await assert.rejects(() => backupToImageCommand.run(ctx), /SIGTERM/);
        assert.ok(!(await exists(file)));
        assert.ok(!(await exists(`${file}.ibvault-part`)));
        assert.ok(await writable(srv, "db.`àbc`"));
      },
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

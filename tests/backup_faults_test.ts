// These tests pin the full-locking export (--use-tts=with-full-locking); the
// page-LSN (minimum locking) path has its own in page_lsn_*_test.ts.
import assert from "node:assert/strict";
import { freePort, type ThrowawayServer } from "../scripts/throwaway_server.ts";
import { backupCommand } from "../lib/commands/backup.ts";
import { MANIFEST_FILE } from "../lib/core/manifest.ts";
import { IoError, ServerError } from "../lib/errors.ts";
import { contextFor, seed, startBackupServer, writable } from "./fixtures/server.ts";
import { exists, listFiles } from "./fixtures/tree.ts";

const DENO = new URL("../node_modules/.bin/deno", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const BACKUP_MODULE = new URL("../lib/commands/backup.ts", import.meta.url).href;

/** Run a SQL statement with the mariadb client, synchronously (usable from a progress hook). */
function sqlSync(srv: ThrowawayServer, sql: string): string {
  const out = new Deno.Command("mariadb", {
    args: [`--socket=${srv.socket}`, "-uroot", "-N", "-e", sql],
  }).outputSync();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

const ALL_SELECTED = ["db.`àbc`", "db.`à123`", "db.`déf`", "`weird db`.`t t`"];

async function assertUnlocked(srv: ThrowawayServer) {
  for (const t of ALL_SELECTED) assert.ok(await writable(srv, t), `${t} still locked`);
}

async function assertNotComplete(dir: string) {
  assert.ok(!(await exists(`${dir}/${MANIFEST_FILE}`)), "a manifest was written");
  if (await exists(dir)) {
    const files = await listFiles(dir);
    assert.ok(!files.some((f) => f.endsWith(".ibvault-part")), files.join(" "));
  }
}

Deno.test("backup faults: each fails clearly, leaves nothing complete-looking, unlocks", async (t) => {
  await using srv = await startBackupServer();
  await seed(srv);
  await srv.query("DROP TABLE other.parts, other.busy, other.my; DROP VIEW other.v");
  const tmp = await Deno.makeTempDir();
  try {
    await t.step("wrong password: ServerError, exit 3, says access denied", async () => {
      const ctx = contextFor(srv, {
        useTts: "with-full-locking",
        backupDir: `${tmp}/pw`,
        socket: undefined,
        host: "127.0.0.1",
        port: srv.port,
        user: srv.user,
        password: "not-the-password",
      });
      await assert.rejects(() => backupCommand.run(ctx), (err: Error) => {
        assert.ok(err instanceof ServerError);
        assert.equal(err.exitCode, 3);
        assert.match(err.message, /access denied for user 'ibvault_test'/);
        assert.ok(!err.message.includes("not-the-password"));
        return true;
      });
      await assertNotComplete(`${tmp}/pw`);
    });

    await t.step("server unreachable: ServerError, exit 3", async () => {
      const port = await freePort();
      const ctx = contextFor(srv, {
        useTts: "with-full-locking",
        backupDir: `${tmp}/unreach`,
        socket: undefined,
        host: "127.0.0.1",
        port,
      });
      await assert.rejects(() => backupCommand.run(ctx), (err: Error) => {
        assert.ok(err instanceof ServerError);
        assert.equal(err.exitCode, 3);
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}: no server is listening`));
        return true;
      });
    });

    await t.step("connection killed mid-backup: fails, tables unlocked server-side", async () => {
      const dir = `${tmp}/killed`;
      const ctx = contextFor(srv, {
        useTts: "with-full-locking",
        backupDir: dir,
        socket: undefined,
        host: "127.0.0.1",
        port: srv.port,
        user: srv.user,
        password: srv.password,
      });
      let killed = "";
      ctx.report.onProgress = () => {
        if (killed) return;
        killed = sqlSync(
          srv,
          `SELECT GROUP_CONCAT(ID) FROM information_schema.PROCESSLIST WHERE USER = '${srv.user}'`,
        );
        for (const id of killed.split(",")) sqlSync(srv, `KILL CONNECTION ${id}`);
      };
      await assert.rejects(() => backupCommand.run(ctx), (err: Error) => {
        assert.ok(err instanceof ServerError, String(err));
        assert.match(err.message, /not consistent/);
        return true;
      });
      assert.ok(killed);
      await assertNotComplete(dir);
      await assertUnlocked(srv);
    });

    await t.step("aborted (SIGINT): stops, unlocks, nothing complete", async () => {
      const dir = `${tmp}/abort`;
      const controller = new AbortController();
      const ctx = contextFor(srv, { useTts: "with-full-locking", backupDir: dir }, controller);
      ctx.report.onProgress = () => controller.abort(new Error("interrupted by SIGINT"));
      await assert.rejects(() => backupCommand.run(ctx), /interrupted by SIGINT/);
      await assertNotComplete(dir);
      await assertUnlocked(srv);
    });

    await t.step(
      "aborted while FLUSH waits for a lock: returns at once, nothing stays locked",
      async () => {
        const holder = await srv.pool.getConnection();
        try {
          await holder.query("LOCK TABLES db.`àbc` WRITE");
          const controller = new AbortController();
          const ctx = contextFor(
            srv,
            { useTts: "with-full-locking", backupDir: `${tmp}/waiting` },
            controller,
          );
          const run = backupCommand.run(ctx);
          run.catch(() => {}); // awaited below
          await new Promise((r) => setTimeout(r, 500));
          const t0 = performance.now();
          controller.abort(new Error("interrupted by SIGINT"));
          await assert.rejects(() => run, /interrupted by SIGINT/);
          assert.ok(performance.now() - t0 < 5000, "abort took too long");
          await holder.query("UNLOCK TABLES");
        } finally {
          holder.release();
        }
        await assertNotComplete(`${tmp}/waiting`);
        await assertUnlocked(srv);
      },
    );

    await t.step("disk full: IoError, no manifest, no partial files, tables unlocked", async () => {
      const mnt = `${tmp}/small`;
      await Deno.mkdir(mnt);
      const mount = await new Deno.Command("mount", {
        args: ["-t", "tmpfs", "-o", "size=160k", "tmpfs", mnt],
      }).output();
      if (!mount.success) {
        console.warn("cannot mount a small tmpfs here: disk-full step skipped");
        return;
      }
      try {
        const dir = `${mnt}/b`;
        const ctx = contextFor(srv, { useTts: "with-full-locking", backupDir: dir });
        await assert.rejects(() => backupCommand.run(ctx), (err: Error) => {
          assert.ok(err instanceof IoError, String(err));
          assert.match(err.message, /no space left/);
          return true;
        });
        await assertNotComplete(dir);
        await assertUnlocked(srv);
      } finally {
        await new Deno.Command("umount", { args: [mnt] }).output();
      }
    });

    await t.step("data directory not readable: names the path and permission", async () => {
      // Root reads anything: run ibvault as root without the capabilities that bypass
      // file permissions, and give the paths to another owner, so the modes apply to
      // ibvault (the server keeps its capabilities and reads on).
      const run = async (dir: string) => {
        const code = `
          import { backupCommand } from ${JSON.stringify(BACKUP_MODULE)};
          import { defaultOptions } from ${
          JSON.stringify(new URL("../lib/commands/options.ts", import.meta.url).href)
        };
          const r = { info() {}, warn() {}, error() {}, progress() {}, endProgress() {} };
          try {
            await backupCommand.run({ options: { ...defaultOptions(1), socket: ${
          JSON.stringify(srv.socket)
        },
              user: "root", useTts: "with-full-locking", backupDir: ${
          JSON.stringify(dir)
        } }, args: [], report: r,
              signal: new AbortController().signal, printJson() {} });
            console.log("OK");
          } catch (e) { console.log(e.name + ": " + e.message); Deno.exit(e.exitCode ?? 9); }`;
        const out = await new Deno.Command("capsh", {
          args: [
            "--drop=cap_dac_override,cap_dac_read_search",
            "--",
            "-c",
            `exec ${DENO} eval --config ${CONFIG} "$0"`,
            code,
          ],
        }).output();
        return {
          code: out.code,
          text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
        };
      };
      const dbdir = `${srv.datadir}/db`;
      await Deno.chown(dbdir, 65534, 65534);
      try {
        const r = await run(`${tmp}/perm1`);
        assert.equal(r.code, 3, r.text);
        assert.match(
          r.text,
          new RegExp(`IoError: permission denied: directory ${dbdir} .*r-x.*uid 0`),
        );
      } finally {
        await Deno.chown(dbdir, 0, 0);
      }
      const ibd = `${srv.datadir}/db/@0gbc.ibd`;
      const mode = (await Deno.stat(ibd)).mode! & 0o777;
      await Deno.chown(ibd, 65534, 65534);
      await Deno.chmod(ibd, 0o600);
      try {
        const r = await run(`${tmp}/perm2`);
        assert.equal(r.code, 3, r.text);
        assert.match(
          r.text,
          new RegExp(`IoError: permission denied: ${ibd} is not readable \\(r\\)`),
        );
        await assertNotComplete(`${tmp}/perm2`);
        await assertUnlocked(srv);
      } finally {
        await Deno.chown(ibd, 0, 0);
        await Deno.chmod(ibd, mode);
      }
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

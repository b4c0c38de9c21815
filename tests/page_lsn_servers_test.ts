/**
 * Minimum locking (the default) on servers and tables unlike the default ones,
 * against a real MariaDB, each under a writer that keeps an invariant: encrypted
 * tables (file_key_management, full_crc32 and crc32), an
 * `innodb_checksum_algorithm=crc32` server; and a table dropped during the hot
 * pass (a clear error naming it, exit 3, nothing left locked).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ThrowawayServer } from "../scripts/throwaway_server.ts";
import { startServer } from "../scripts/throwaway_server.ts";
import { backupCommand } from "../lib/commands/backup.ts";
import { backupToImageCommand } from "../lib/commands/backup_to_image.ts";
import { copyBackCommand } from "../lib/commands/copy_back.ts";
import { validateCommand } from "../lib/commands/validate.ts";
import type { Options } from "../lib/commands/options.ts";
import { PAUSE_ENV } from "../lib/server/page_lsn_export.ts";
import { contextFor } from "./fixtures/server.ts";

type Row = Record<string, unknown>;
const built = fileURLToPath(new URL("../dist/ibvault", import.meta.url));

async function run(
  srv: ThrowawayServer,
  cmd: { run: (c: ReturnType<typeof contextFor>) => Promise<number> },
  options: Partial<Options>,
) {
  const ctx = contextFor(srv, { json: true, ...options });
  const code = await cmd.run(ctx);
  return { code, doc: ctx.json.at(-1) as Row, lines: ctx.report.lines };
}

/** Accounts whose total stays 2,000,000, and a log, written to through the backup. */
async function seed(srv: ThrowawayServer, opts = ""): Promise<void> {
  await srv.query(
    "CREATE DATABASE IF NOT EXISTS test; CREATE DATABASE bank;" +
      `CREATE TABLE bank.acct (id INT PRIMARY KEY, bal BIGINT NOT NULL, pad CHAR(200)) ${opts};` +
      "INSERT INTO bank.acct SELECT seq, 1000, 'p' FROM test.seq_1_to_2000;" +
      `CREATE TABLE bank.log (id INT AUTO_INCREMENT PRIMARY KEY, v INT, pad VARCHAR(400)) ${opts};` +
      "INSERT INTO bank.log (v, pad) SELECT seq, REPEAT('y', 300) FROM test.seq_1_to_20000",
  );
}

function writer(srv: ThrowawayServer) {
  let stop = false;
  let ops = 0;
  const done = (async () => {
    const c = await srv.pool.getConnection();
    try {
      for (let i = 1; !stop; i++) {
        const a = (i * 7919) % 2000 + 1;
        const b = (i * 104729) % 2000 + 1;
        await c.query(
          `START TRANSACTION; UPDATE bank.acct SET bal = bal - 3 WHERE id = ${a};` +
            `UPDATE bank.acct SET bal = bal + 3 WHERE id = ${b};` +
            `INSERT INTO bank.log (v, pad) VALUES (${i}, REPEAT('x', 300)); COMMIT`,
        ).catch(() => c.query("ROLLBACK").catch(() => {}));
        ops++;
      }
    } finally {
      c.release();
    }
  })();
  return {
    get ops() {
      return ops;
    },
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

/**
 * Back up bank.* under a writer (directory, image, an incremental on the directory,
 * validated on its own), restore each renamed (the chain too), check the invariant.
 */
async function roundTrip(srv: ThrowawayServer): Promise<void> {
  const tmp = await Deno.makeTempDir();
  const w = writer(srv);
  try {
    await new Promise((r) => setTimeout(r, 200));
    const dir = await run(srv, backupCommand, {
      backupDir: `${tmp}/dir`,
      includeTables: "^bank\\.",
    });
    assert.equal(dir.code, 0, dir.lines.join("\n"));
    assert.equal(dir.doc.mode, "with-minimum-locking");
    const img = await run(srv, backupToImageCommand, {
      backupImage: `${tmp}/b.ibv`,
      includeTables: "^bank\\.",
      compress: true,
    });
    assert.equal(img.code, 0, img.lines.join("\n"));
    const inc = await run(srv, backupCommand, {
      backupDir: `${tmp}/inc`,
      includeTables: "^bank\\.",
      incremental: true,
      incrementalBase: `dir:${tmp}/dir`,
    });
    assert.equal(inc.code, 0, inc.lines.join("\n"));
    await w.stop();
    const v = await run(srv, validateCommand, { backupDir: `${tmp}/inc` });
    assert.equal(v.code, 0, v.lines.join("\n"));
    assert.ok(w.ops > 5, `writer ran ${w.ops} transactions`);
    for (
      const [db, from] of [["r1", { backupDir: `${tmp}/dir` }], ["r2", {
        backupImage: `${tmp}/b.ibv`,
      }]] as const
    ) {
      const r = await run(srv, copyBackCommand, {
        ...from,
        includeTables: "^bank\\.",
        rename: ["bank TO " + db],
      });
      assert.equal(r.code, 0, r.lines.join("\n"));
      for (const t of ["acct", "log"]) {
        const c = await srv.query<Row[]>(`CHECK TABLE ${db}.${t} EXTENDED`);
        assert.equal(c.at(-1)!.Msg_text, "OK", `${db}.${t}`);
      }
      const [s] = await srv.query<Row[]>(`SELECT SUM(bal) AS s FROM ${db}.acct`);
      assert.equal(String(s.s), "2000000", `${db}: the total holds`);
    }
  } finally {
    await w.stop();
    await Deno.remove(tmp, { recursive: true });
  }
}

async function encryptedServer(checksumAlgorithm: string) {
  const keyDir = await Deno.makeTempDir();
  const keyFile = `${keyDir}/keys.txt`;
  await Deno.writeTextFile(keyFile, `1;${"ab".repeat(32)}\n2;${"cd".repeat(32)}\n`);
  const srv = await startServer({
    checksumAlgorithm,
    extraArgs: [
      "--plugin-load-add=file_key_management",
      `--file-key-management-filename=${keyFile}`,
      "--innodb-encrypt-tables=ON",
      "--innodb-encryption-threads=1",
    ],
  });
  const stop = srv.stop.bind(srv);
  srv.stop = async (o) => {
    await stop(o);
    await Deno.remove(keyDir, { recursive: true }).catch(() => {});
  };
  return srv;
}

for (const algo of ["full_crc32", "crc32"]) {
  Deno.test(`minimum locking: encrypted tables (file_key_management, ${algo}) under a writer`, async () => {
    await using srv = await encryptedServer(algo);
    await seed(srv, "ENCRYPTED=YES");
    await roundTrip(srv);
  });
}

Deno.test("minimum locking on an innodb_checksum_algorithm=crc32 server under a writer", async () => {
  await using srv = await startServer({ checksumAlgorithm: "crc32" });
  await seed(srv);
  await roundTrip(srv);
});

Deno.test("binary: a table dropped during the hot pass (at its end, before the lock): its name, exit 3, nothing locked", async () => {
  assert.ok(existsSync(built), "dist/ibvault is missing: run deno task compile first");
  await using srv = await startServer();
  await seed(srv);
  const tmp = await Deno.makeTempDir();
  try {
    const pause = `${tmp}/pause`;
    const child = new Deno.Command(built, {
      args: [
        "backup",
        "--no-defaults",
        `--socket=${srv.socket}`,
        "--user=root",
        "--include-tables=^bank\\.",
        `--backup-dir=${tmp}/b`,
      ],
      env: { [PAUSE_ENV]: pause },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = child.output();
    // the hot pass is done when the pause file appears: drop a table, then let it lock
    for (let i = 0; i < 600 && !existsSync(`${pause}.paused`); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(existsSync(`${pause}.paused`), "the backup reached the pause point");
    await srv.query("DROP TABLE bank.log");
    await Deno.writeTextFile(pause, "");
    const o = await out;
    const err = new TextDecoder().decode(o.stderr);
    assert.equal(o.code, 3, err);
    assert.match(err, /`bank`\.`log`: dropped or renamed during the backup/);
    assert.doesNotMatch(err, /`bank`\.`acct`: dropped/);
    assert.doesNotMatch(err, /completed OK/);
    assert.ok(!existsSync(`${tmp}/b/ibvault_manifest.json`), "no manifest: not a backup");
    // nothing stays locked: a write to the other table goes through at once
    await srv.query(
      "SET SESSION lock_wait_timeout = 2; UPDATE bank.acct SET bal = bal WHERE id = 1",
    );
    const [p] = await srv.query<Row[]>(
      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'FLUSH TABLES%'",
    );
    assert.equal(Number(p.n), 0);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/**
 * Two cases of issue 12 against a real MariaDB: a table file that grows while the
 * hot pass copies it (minimum locking: the pages past the hot-copied length go in
 * the delta, and the rebuilt file equals the file under the lock), and an
 * incremental chain full -> inc1 -> inc2 made with the built binary into a pipe
 * (`--backup-image=- | cat > F`) and restored by copy-back from files and with one
 * link read from stdin.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import mysql from "mysql2/promise";
import type { Connection } from "mysql2/promise";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";
import { openPageLsnExport } from "../lib/server/page_lsn_export.ts";
import { flushForExportSql } from "../lib/server/lock_session.ts";
import type { SelectedTable } from "../lib/server/tables.ts";
import { writeRebuilding } from "../lib/delta/dir_sink.ts";
import { parseAlgorithm } from "../lib/innodb/algorithm.ts";
import { readDelta } from "../lib/innodb/delta_format.ts";
import type { FileEntry } from "../lib/entry.ts";
import { purged, startBackupServer } from "./fixtures/server.ts";
import { CHAIN_TABLES, changeChainTables } from "./fixtures/chain.ts";

const built = fileURLToPath(new URL("../dist/ibvault", import.meta.url));

function connect(srv: ThrowawayServer): Promise<Connection> {
  return mysql.createConnection({ socketPath: srv.socket, user: "root", multipleStatements: true });
}

async function checksum(srv: ThrowawayServer, t: string): Promise<string> {
  const r = await srv.query<{ Checksum: string }[]>(`CHECKSUM TABLE ${t}`);
  return String(r[0].Checksum);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bulk inserts into `t` in a loop until stopped (each adds ~1 MiB of rows). */
function startGrower(srv: ThrowawayServer, t: string) {
  let stop = false;
  let rounds = 0;
  const done = (async () => {
    const conn = await connect(srv);
    try {
      while (!stop) {
        await conn.query(
          `INSERT INTO ${t} (n, pad) SELECT seq % 1000, REPEAT(MD5(seq), 5) FROM test.seq_1_to_4000`,
        );
        rounds++;
      }
    } finally {
      await conn.end();
    }
  })();
  return {
    get rounds() {
      return rounds;
    },
    async stop() {
      stop = true;
      await done;
    },
  };
}

Deno.test("a file that grows during the hot pass: the growth is in the delta, rebuilt == file under the lock", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE d; CREATE DATABASE IF NOT EXISTS test;" +
      "CREATE TABLE d.g (id INT AUTO_INCREMENT PRIMARY KEY, n INT, pad VARCHAR(200), KEY (n));" +
      "INSERT INTO d.g (n, pad) SELECT seq % 1000, REPEAT(MD5(seq), 5) FROM test.seq_1_to_12000",
  );
  await srv.query("FLUSH TABLES d.g FOR EXPORT; UNLOCK TABLES");
  const file = `${srv.datadir}/d/g.ibd`;
  const dir = await Deno.makeTempDir();
  const underLock = await Deno.makeTempDir();
  const grower = startGrower(srv, "d.g");
  let growerStopped = false;
  const stopGrower = async () => {
    if (growerStopped) return;
    growerStopped = true;
    await grower.stop();
  };
  const conn = await connect(srv);
  try {
    const tables: SelectedTable[] = [{
      database: "d",
      name: "g",
      engine: "InnoDB",
      createOptions: "",
      partitions: [],
      stems: ["d/g"],
    }];
    let atLock = "";
    const exp = await openPageLsnExport({
      conn,
      flavor: "mariadb",
      datadir: srv.datadir,
      tables,
      locker: {
        lock: async (t) => void (await conn.query(flushForExportSql(t))),
        unlock: async () => {
          try {
            await Deno.copyFile(file, `${underLock}/g.ibd`);
            atLock = await checksum(srv, "d.g");
          } finally {
            await conn.query("UNLOCK TABLES");
          }
        },
      },
      spoolDir: dir,
      algorithm: parseAlgorithm("full_crc32"),
      chunkSize: 64 << 10,
      // the writer stops between the hot pass and the lock (the file then holds still)
      beforeLock: stopGrower,
    });
    let hotLength = -1;
    let sizeAtHotEnd = 0;
    const delta: Uint8Array[] = [];
    try {
      assert.equal(exp.files[0].path, "d/g.ibd");
      const entries = (async function* (): AsyncGenerator<FileEntry> {
        for await (const e of exp.entries) {
          if (e.path === "d/g.ibd") {
            hotLength = e.size;
            const inner = e.data;
            yield {
              ...e,
              data: (async function* () {
                let read = 0;
                for await (const c of inner) {
                  read += c.length;
                  yield c;
                  await sleep(10);
                }
                // the hot pass is at its end: the file must be larger than what it read
                const deadline = Date.now() + 30_000;
                while ((sizeAtHotEnd = (await stat(file)).size) < hotLength + (2 << 20)) {
                  assert.ok(Date.now() < deadline, `the file did not grow (${sizeAtHotEnd} B)`);
                  await sleep(50);
                }
                assert.equal(read, hotLength);
              })(),
            };
          } else if (e.path === "d/g.ibd.delta") {
            const inner = e.data;
            yield {
              ...e,
              data: (async function* () {
                for await (const c of inner) {
                  delta.push(c.slice());
                  yield c;
                }
              })(),
            };
          } else yield e;
        }
      })();
      await writeRebuilding(dir, entries);
    } finally {
      await exp.close();
    }
    const r = exp.result();
    const ts = r.tablespaces[0];
    const ps = ts.pageSize;
    assert.ok(grower.rounds >= 1, "the bulk inserts ran during the hot pass");
    assert.equal(hotLength, exp.files[0].bytes, "the hot pass read the length it planned");
    assert.ok(sizeAtHotEnd >= hotLength + (2 << 20), "the file grew during the hot pass");
    assert.ok(ts.size >= sizeAtHotEnd, `the locked size ${ts.size} includes the growth`);
    // every page past the hot-copied length is in the delta
    const { header, runs } = await readDelta(
      (async function* () {
        yield* delta;
      })(),
      "d/g.ibd.delta",
    );
    assert.equal(header.complete, false, "the delta continues the hot copy");
    const inDelta = new Set<number>();
    for await (const run of runs) for (let i = 0; i < run.count; i++) inDelta.add(run.first + i);
    const grown: number[] = [];
    for (let p = hotLength / ps; p < ts.size / ps; p++) grown.push(p);
    assert.ok(grown.length >= (2 << 20) / ps, `${grown.length} pages grown`);
    assert.deepEqual(
      grown.filter((p) => !inDelta.has(p)),
      [],
      "grown pages missing from the delta",
    );
    // the rebuilt file is the file under the lock, page for page
    const rebuilt = await Deno.readFile(`${dir}/d/g.ibd`);
    const locked = await Deno.readFile(`${underLock}/g.ibd`);
    assert.equal(rebuilt.length, locked.length, "size of the rebuilt file");
    const differ: number[] = [];
    for (let p = 0; p < locked.length / ps; p++) {
      const a = rebuilt.subarray(p * ps, (p + 1) * ps), b = locked.subarray(p * ps, (p + 1) * ps);
      if (a.some((x, i) => x !== b[i])) differ.push(p);
    }
    assert.deepEqual(differ, [], "pages that differ from the file under the lock");
    // the restored table is the table at the lock
    await srv.query(
      "CREATE DATABASE restored; CREATE TABLE restored.g LIKE d.g; ALTER TABLE restored.g DISCARD TABLESPACE",
    );
    for (const ext of ["ibd", "cfg"]) {
      await Deno.copyFile(`${dir}/d/g.${ext}`, `${srv.datadir}/restored/g.${ext}`);
    }
    await srv.query("ALTER TABLE restored.g IMPORT TABLESPACE");
    const check = await srv.query<{ Msg_text: string }[]>("CHECK TABLE restored.g EXTENDED");
    assert.equal(check.at(-1)!.Msg_text, "OK");
    assert.equal(await checksum(srv, "restored.g"), atLock);
    assert.equal(atLock, await checksum(srv, "d.g"), "nothing changed the table after the lock");
  } finally {
    await stopGrower().catch(() => {});
    await conn.end();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(underLock, { recursive: true });
  }
});

/** Single-quote `s` for bash. */
const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** Run a bash pipeline with `set -o pipefail`; stderr of the binary goes to the returned text. */
async function pipeline(line: string): Promise<{ ok: boolean; stderr: string }> {
  const out = await new Deno.Command("bash", {
    args: ["-o", "pipefail", "-c", line],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { ok: out.success, stderr: dec.decode(out.stderr) + dec.decode(out.stdout) };
}

function assertOk(r: { ok: boolean; stderr: string }, what: string) {
  assert.ok(r.ok, `${what}:\n${r.stderr}`);
  assert.match(r.stderr.trimEnd().split("\n").at(-1)!, /ibvault completed OK!/, what);
}

Deno.test("binary: an incremental chain streamed into pipes, restored from the files and from stdin", async () => {
  assert.ok(existsSync(built), "dist/ibvault is missing: run deno task compile first");
  await using srv = await startBackupServer();
  await srv.query(
    CHAIN_TABLES,
  );
  await purged(srv);
  const change = (round: number) => changeChainTables(srv, round);
  const tmp = await Deno.makeTempDir();
  const conn = `--no-defaults --socket=${q(srv.socket)} --user=root --no-progress`;
  const bin = q(built);
  const backup = (out: string, extra = "") =>
    pipeline(
      `${bin} backup-to-image ${conn} --include-tables='^shop\\.' --compress ${extra} ` +
        `--backup-image=- | cat > ${q(`${tmp}/${out}`)}`,
    );
  try {
    assertOk(await backup("full.ibv"), "full backup into a pipe");
    await change(1);
    assertOk(
      await backup("inc1.ibv", `--incremental --incremental-base=image:${q(`${tmp}/full.ibv`)}`),
      "inc1 into a pipe",
    );
    await change(2);
    assertOk(
      await backup("inc2.ibv", `--incremental --incremental-base=image:${q(`${tmp}/inc1.ibv`)}`),
      "inc2 into a pipe",
    );
    const want = [await checksum(srv, "shop.orders"), await checksum(srv, "shop.small")];
    // the streamed images are incrementals that continue each other, and small
    const kinds: string[] = [];
    for (const f of ["full", "inc1", "inc2"]) {
      const l = await new Deno.Command(built, {
        args: ["list-image", "--no-defaults", "--json", `--backup-image=${tmp}/${f}.ibv`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(l.code, 0, new TextDecoder().decode(l.stderr));
      const doc = JSON.parse(new TextDecoder().decode(l.stdout));
      kinds.push((doc.result ?? doc).kind ?? "full");
    }
    assert.deepEqual(kinds, ["full", "incremental", "incremental"]);
    const fullSize = (await stat(`${tmp}/full.ibv`)).size;
    for (const f of ["inc1", "inc2"]) {
      const s = (await stat(`${tmp}/${f}.ibv`)).size;
      assert.ok(s < fullSize / 2, `${f}.ibv is ${s} B, the full ${fullSize} B`);
    }
    // copy-back of the chain: from the files, with the last link from stdin, with the base from stdin
    const f = (n: string) => q(`${tmp}/${n}.ibv`);
    const restores: { what: string; stdin?: string; args: string }[] = [
      {
        what: "files",
        args: `--backup-image=${f("full")} --incremental-backup-image=${f("inc1")} ` +
          `--incremental-backup-image=${f("inc2")}`,
      },
      {
        what: "inc2 from stdin",
        stdin: f("inc2"),
        args: `--backup-image=${f("full")} --incremental-backup-image=${f("inc1")} ` +
          "--incremental-backup-image=-",
      },
      {
        what: "full from stdin",
        stdin: f("full"),
        args: `--backup-image=- --incremental-backup-image=${f("inc1")} ` +
          `--incremental-backup-image=${f("inc2")}`,
      },
    ];
    let i = 0;
    for (const { what, stdin, args } of restores) {
      const db = `back${++i}`;
      const r = await pipeline(
        `${stdin ? `cat ${stdin} | ` : ""}${bin} copy-back ${conn} --include-tables='^shop\\.' ` +
          `--rename='shop.orders TO ${db}.orders' --rename='shop.small TO ${db}.small' ${args}`,
      );
      assertOk(r, `copy-back of the chain (${what})`);
      assert.deepEqual(
        [await checksum(srv, `${db}.orders`), await checksum(srv, `${db}.small`)],
        want,
        `copy-back of the chain (${what}): CHECKSUM TABLE equals the live tables at inc2`,
      );
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

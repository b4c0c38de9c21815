/**
 * The stream case of minimum locking (issue 12): `backup-to-image --backup-image=-`
 * read by a consumer throttled to a few MB/s while a probe session writes to a
 * selected table every 50 ms. With minimum locking the probe's longest stall stays
 * near the lock time; with full locking it lasts as long as the stream.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import mysql from "mysql2/promise";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";

const built = fileURLToPath(new URL("../dist/ibvault", import.meta.url));
const cli = fileURLToPath(new URL("../cli.ts", import.meta.url));
const deno = fileURLToPath(new URL("../node_modules/deno/deno", import.meta.url));
const ibvault = (args: string[]) =>
  existsSync(built) ? [built, ...args] : [deno, "run", "-A", cli, ...args];

/** Run backup-to-image into a consumer reading `mbps` MB/s; the probe's stalls meanwhile. */
async function streamWithProbe(srv: ThrowawayServer, mode: string, mbps: number) {
  const probe = await mysql.createConnection({ socketPath: srv.socket, user: "root" });
  let stop = false;
  let longest = 0;
  let writes = 0;
  const probing = (async () => {
    while (!stop) {
      const t = performance.now();
      await probe.query("UPDATE s.hot SET v = v + 1 WHERE id = 1");
      longest = Math.max(longest, performance.now() - t);
      writes++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const argv = ibvault([
    "backup-to-image",
    "--no-defaults",
    `--socket=${srv.socket}`,
    "--user=root",
    "--no-progress",
    "--backup-image=-",
    "--include-tables=^s\\.",
    `--use-tts=${mode}`,
  ]);
  const errFile = await Deno.makeTempFile();
  const quoted = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const t0 = performance.now();
  // pv reads at `mbps` MB/s: the pipe fills and the writer waits, as over a slow link
  const out = await new Deno.Command("bash", {
    args: ["-o", "pipefail", "-c", `${quoted} 2>${errFile} | pv -q -L ${mbps}m > /dev/null`],
  }).output();
  const streamMs = performance.now() - t0;
  const stderr = await Deno.readTextFile(errFile);
  await Deno.remove(errFile);
  const status = out;
  stop = true;
  await probing;
  await probe.end();
  assert.ok(status.success, stderr);
  const lock = Number(/tables locked (\d+\.\d+) s/.exec(stderr)?.[1]);
  return { streamMs, longest, lockMs: lock * 1000, writes };
}

Deno.test("stream into a slow consumer: a probe writer stalls about the lock time, not the stream time", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE s; CREATE DATABASE IF NOT EXISTS test;" +
      "CREATE TABLE s.hot (id INT PRIMARY KEY, v INT); INSERT INTO s.hot VALUES (1, 0);" +
      "CREATE TABLE s.big (id INT PRIMARY KEY, pad VARCHAR(500));" +
      "INSERT INTO s.big SELECT seq, REPEAT(MD5(seq), 12) FROM test.seq_1_to_40000",
  );
  // ~24 MiB at 6 MB/s: a stream of ~4 s
  const min = await streamWithProbe(srv, "with-minimum-locking", 6);
  assert.ok(min.streamMs > 2500, `the stream took ${min.streamMs.toFixed(0)} ms`);
  assert.ok(min.writes > 10, `${min.writes} probe writes`);
  assert.ok(
    min.longest < min.lockMs + 1000 && min.longest < min.streamMs / 2,
    `minimum locking: longest stall ${min.longest.toFixed(0)} ms, lock ${
      min.lockMs.toFixed(0)
    } ms, ` +
      `stream ${min.streamMs.toFixed(0)} ms`,
  );
  const full = await streamWithProbe(srv, "with-full-locking", 6);
  console.log(
    `probe: minimum locking longest stall ${min.longest.toFixed(0)} ms (lock ${
      min.lockMs.toFixed(0)
    } ms, ` +
      `stream ${min.streamMs.toFixed(0)} ms); full locking ${full.longest.toFixed(0)} ms of ${
        full.streamMs.toFixed(0)
      } ms`,
  );
  assert.ok(
    full.longest > full.streamMs / 2,
    `full locking stalls for the stream: ${full.longest.toFixed(0)} of ${
      full.streamMs.toFixed(0)
    } ms`,
  );
});

/**
 * `deno task bench:xbstream`: validating an xbstream against `mbstream -x`
 * writing the same stream into a tmpfs (/dev/shm), the peer named by issue 14.
 * The stream is written once by the real `mariadb-backup --backup --stream=xbstream`
 * from a throwaway MariaDB (~300 MB of tables, restarted cleanly first) into
 * /tmp/ibvault-bench-xbstream/ or $IBVAULT_BENCH_DIR; the page cache is warmed.
 * Each round runs both peers as processes, alternating: `mbstream -x -C DIR <
 * stream` and `ibvault validate --backup-image=stream` (dist/ibvault when built,
 * else `deno run cli.ts`), then the in-process validator once. Prints MB/s
 * (10^6 bytes of stream), best and range, and the ratio of the best times.
 * `--size-mb=N` changes the data size, `--rounds=N` the repeats (default 5).
 */
import { startServer } from "./throwaway_server.ts";
import { validateXbstream } from "../lib/xbstream/validate.ts";
import { imageBytes } from "../lib/image/image_io.ts";

const arg = (name: string, dflt: number) => {
  const a = Deno.args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : dflt;
};
const sizeMb = arg("size-mb", 300);
const rounds = arg("rounds", 5);
const dir = (Deno.env.get("IBVAULT_BENCH_DIR") ?? "/tmp/ibvault-bench-xbstream") + "/";
const stream = dir + "stream.xb";

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

async function generate(): Promise<void> {
  console.log(`generating a ~${sizeMb} MB stream into ${stream} (once)...`);
  await Deno.mkdir(dir, { recursive: true });
  let srv = await startServer();
  try {
    await srv.query("CREATE DATABASE b");
    const tables = 4;
    const rowsPerTable = Math.ceil((sizeMb * 1e6) / tables / 1100);
    for (let t = 0; t < tables; t++) {
      await srv.query(`CREATE TABLE b.t${t} (id INT PRIMARY KEY, v VARCHAR(1000))`);
      for (let done = 0; done < rowsPerTable; done += 50000) {
        const n = Math.min(50000, rowsPerTable - done);
        await srv.query(
          `INSERT INTO b.t${t} SELECT seq, REPEAT(MD5(seq), 31) FROM b.seq_${done + 1}_to_${
            done + n
          }`,
        );
      }
    }
    const datadir = srv.datadir;
    await srv.stop({ keepDatadir: true });
    srv = await startServer({ datadir });
    const target = await Deno.makeTempDir({ dir, prefix: "target-" });
    const out = await Deno.open(stream + ".part", { write: true, create: true, truncate: true });
    const child = new Deno.Command("mariadb-backup", {
      args: [
        "--backup",
        "--stream=xbstream",
        `--socket=${srv.socket}`,
        "--user=root",
        `--target-dir=${target}`,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    await child.stdout.pipeTo(out.writable);
    if (!(await child.status).success) throw new Error("mariadb-backup failed");
    await Deno.rename(stream + ".part", stream);
    await Deno.remove(target, { recursive: true });
  } finally {
    const datadir = srv.datadir;
    await srv.stop();
    await Deno.remove(datadir, { recursive: true }).catch(() => {});
  }
}

async function run(cmd: string, args: string[], stdin?: string): Promise<void> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  if (stdin) await (await Deno.open(stdin)).readable.pipeTo(child.stdin);
  const out = await child.output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
}

async function time(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

if (!(await exists(stream))) await generate();
const mb = (await Deno.stat(stream)).size / 1e6;
const bin = new URL("../dist/ibvault", import.meta.url).pathname;
const ibvault = (await exists(bin)) ? { cmd: bin, args: [] as string[], what: "dist/ibvault" } : {
  cmd: Deno.execPath(),
  args: ["run", "-A", new URL("../cli.ts", import.meta.url).pathname],
  what: "deno run cli.ts",
};
console.log(`stream ${mb.toFixed(0)} MB, ${rounds} rounds alternating; ibvault = ${ibvault.what}`);
await run("cat", [stream]); // warm the page cache

const times: Record<string, number[]> = { mbstream: [], ibvault: [] };
const shm = await Deno.makeTempDir({ dir: "/dev/shm", prefix: "ibvault-bench-mbstream-" });
try {
  for (let r = 0; r < rounds; r++) {
    const target = `${shm}/r${r}`;
    await Deno.mkdir(target);
    times.mbstream.push(await time(() => run("mbstream", ["-x", "-C", target], stream)));
    await Deno.remove(target, { recursive: true });
    times.ibvault.push(
      await time(() =>
        run(ibvault.cmd, [...ibvault.args, "validate", `--backup-image=${stream}`, "--no-progress"])
      ),
    );
  }
} finally {
  await Deno.remove(shm, { recursive: true });
}
const inproc = await time(() => validateXbstream(imageBytes(stream)));

const rate = (s: number) => mb / s;
for (const [k, v] of Object.entries(times)) {
  const best = Math.min(...v), worst = Math.max(...v);
  console.log(
    `${k.padEnd(10)} ${rate(best).toFixed(0).padStart(6)} MB/s best  (range ${
      rate(worst).toFixed(0)
    }-${rate(best).toFixed(0)})`,
  );
}
console.log(`${"in-process".padEnd(10)} ${rate(inproc).toFixed(0).padStart(6)} MB/s (one run)`);
const mbBest = Math.min(...times.mbstream);
console.log(
  `ratio ibvault validate / mbstream -x to tmpfs (best times, processes): ${
    (mbBest / Math.min(...times.ibvault)).toFixed(2)
  }x; in-process validator / mbstream: ${(mbBest / inproc).toFixed(2)}x`,
);
const start = await time(() => run(ibvault.cmd, [...ibvault.args, "--version"]));
console.log(`(ibvault process start-up, --version: ${(start * 1000).toFixed(0)} ms)`);

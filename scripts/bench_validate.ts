/**
 * `deno task bench:validate`: ibvault validate against its peers on ~2 GB of
 * tablespaces written by the throwaway MariaDB (generated once into
 * /tmp/ibvault-bench-validate/ or $IBVAULT_BENCH_DIR, page cache warmed): `cat` to /dev/null (the ceiling),
 * `innochecksum` over the files one after another, and the in-process engine.
 * Prints MB/s (10^6 bytes) and ratios. `--size-mb=N` changes the data size,
 * `--threads=N` the worker count (default: cores), `--rounds=N` the repeats.
 */
import os from "node:os";
import { startServer } from "./throwaway_server.ts";
import { validateFiles } from "../lib/innodb/validator.ts";
import { parseAlgorithm } from "../lib/innodb/algorithm.ts";

const arg = (name: string, dflt: number) => {
  const a = Deno.args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : dflt;
};
const sizeMb = arg("size-mb", 2000);
const threads = arg("threads", os.availableParallelism?.() ?? os.cpus().length);
const rounds = arg("rounds", 3);
const dir = (Deno.env.get("IBVAULT_BENCH_DIR") ?? "/tmp/ibvault-bench-validate") + "/";

async function generate(): Promise<void> {
  console.log(`generating ~${sizeMb} MB of tablespaces into ${dir} (once)...`);
  const srv = await startServer({ checksumAlgorithm: "crc32" });
  try {
    await srv.query("CREATE DATABASE b");
    const tables = 8;
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
  } finally {
    await srv.stop({ keepDatadir: true });
  }
  await Deno.mkdir(dir, { recursive: true });
  for await (const e of Deno.readDir(`${srv.datadir}/b`)) {
    if (e.name.endsWith(".ibd")) await Deno.rename(`${srv.datadir}/b/${e.name}`, dir + e.name);
  }
  await Deno.remove(srv.datadir, { recursive: true });
}

async function files(): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".ibd")) out.push(dir + e.name);
  } catch { /* not there yet */ }
  return out.sort();
}

async function time(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
}

if ((await files()).length === 0) await generate();
const list = await files();
let bytes = 0;
for (const f of list) bytes += (await Deno.stat(f)).size;
const mb = bytes / 1e6;
console.log(`${list.length} files, ${mb.toFixed(0)} MB, ${threads} threads, best of ${rounds}`);
await run("cat", list); // warm the page cache

const best: Record<string, number> = {};
const note = (k: string, s: number) => best[k] = Math.min(best[k] ?? Infinity, s);
for (let r = 0; r < rounds; r++) {
  note("cat", await time(() => run("sh", ["-c", 'cat "$@" > /dev/null', "sh", ...list])));
  note(
    "innochecksum",
    await time(async () => {
      for (const f of list) await run("innochecksum", [f]);
    }),
  );
  note(
    "ibvault",
    await time(async () => {
      const reports = await validateFiles(list.map((p) => ({ path: p, name: p })), {
        threads,
        algorithm: parseAlgorithm("strict_crc32"),
      });
      const bad = reports.filter((x) => x.status !== "valid");
      if (bad.length) throw new Error(`unexpected: ${JSON.stringify(bad[0]).slice(0, 300)}`);
    }),
  );
}
const rate = (k: string) => mb / best[k];
for (const k of ["cat", "innochecksum", "ibvault"]) {
  console.log(`${k.padEnd(14)} ${rate(k).toFixed(0).padStart(7)} MB/s  (${best[k].toFixed(3)} s)`);
}
console.log(
  `ibvault / innochecksum (1 process): ${(rate("ibvault") / rate("innochecksum")).toFixed(2)}x`,
);
console.log(`ibvault / cat: ${(rate("ibvault") / rate("cat")).toFixed(2)}x`);
const hwm = /VmHWM:\s+(\d+) kB/.exec(await Deno.readTextFile("/proc/self/status"))?.[1];
if (hwm) {
  console.log(
    `peak RSS of this process (engine + workers): ${(Number(hwm) / 1024).toFixed(0)} MiB`,
  );
}

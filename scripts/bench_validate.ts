/**
 * `deno task bench:validate`: ibvault validate against its peers on ~2 GB of
 * tablespaces written by the throwaway MariaDB (generated once into
 * /tmp/ibvault-bench-validate/ or $IBVAULT_BENCH_DIR, page cache warmed): `cat` to /dev/null (the ceiling),
 * `innochecksum` over the files one after another, `innochecksum` as two processes
 * in parallel (each over half the files: the machine's limit for the peer), the
 * shipped binary (`dist/ibvault validate`, what a DBA runs; `deno task compile`
 * builds it) and the in-process engine under Deno, alternating in every round.
 * Prints MB/s (10^6 bytes), best and range, the ratios, and the wall time of the
 * binary on one small file beside innochecksum's. `--size-mb=N` changes the data
 * size, `--threads=N` the thread count (default: cores), `--rounds=N` the repeats.
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
const rounds = arg("rounds", 5);
const threads = arg("threads", os.availableParallelism?.() ?? os.cpus().length);
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
    for await (const e of Deno.readDir(dir)) {
      if (e.name.endsWith(".ibd") && e.name !== "small.ibd") out.push(dir + e.name);
    }
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

/** Run innochecksum over `part` one file after another. */
async function innochecksumOver(part: string[]): Promise<void> {
  for (const f of part) await run("innochecksum", [f]);
}
const halves = [list.filter((_, i) => i % 2 === 0), list.filter((_, i) => i % 2 === 1)];
const small = `${dir}small.ibd`;
await Deno.writeFile(small, (await Deno.readFile(list[0])).subarray(0, 6 * 16384));
const bin = new URL("../dist/ibvault", import.meta.url).pathname;
const haveBin = await Deno.stat(bin).then(() => true, () => false);

const times: Record<string, number[]> = {};
const note = (k: string, s: number) => (times[k] ??= []).push(s);
// The peers and ibvault alternate within each round, so load changes hit them alike.
for (let r = 0; r < rounds; r++) {
  note("cat", await time(() => run("sh", ["-c", 'cat "$@" > /dev/null', "sh", ...list])));
  note("innochecksum", await time(() => innochecksumOver(list)));
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
  note("innochecksum x2", await time(() => Promise.all(halves.map(innochecksumOver))));
  if (haveBin) {
    note(
      "ibvault binary",
      await time(() =>
        run(bin, [
          "validate",
          "--no-progress",
          "--no-log",
          `--threads=${threads}`,
          "--innodb-checksum-algorithm=strict_crc32",
          ...list,
        ])
      ),
    );
    for (let i = 0; i < 3; i++) {
      note("small: innochecksum", await time(() => run("innochecksum", [small])));
      note("small: ibvault binary", await time(() => run(bin, ["validate", small])));
    }
  }
}
const best = (k: string) => Math.min(...times[k]);
const range = (k: string) => {
  const rates = times[k].map((s) => mb / s).sort((a, b) => a - b);
  return `${rates[0].toFixed(0)}-${rates[rates.length - 1].toFixed(0)}`;
};
const rows = ["cat", "innochecksum", "innochecksum x2", "ibvault", "ibvault binary"];
for (const k of rows.filter((r) => times[r])) {
  console.log(
    `${k.padEnd(16)} ${(mb / best(k)).toFixed(0).padStart(7)} MB/s best, ${range(k)} MB/s range`,
  );
}
const ratios = (mine: string, peer: string) => {
  const r = times[mine].map((s, i) => times[peer][i] / s).sort((a, b) => a - b);
  return `${(best(peer) / best(mine)).toFixed(2)}x best-of, ${r[0].toFixed(2)}-${
    r[r.length - 1].toFixed(2)
  }x per round (median ${r[Math.floor(r.length / 2)].toFixed(2)}x)`;
};
for (const [mine, label] of [["ibvault binary", "binary"], ["ibvault", "in-process"]]) {
  if (!times[mine]) continue;
  console.log(`ibvault ${label} / innochecksum (1 process): ${ratios(mine, "innochecksum")}`);
  console.log(
    `ibvault ${label} / innochecksum (2 processes in parallel): ${ratios(mine, "innochecksum x2")}`,
  );
  console.log(`ibvault ${label} / cat: ${(best("cat") / best(mine)).toFixed(2)}x`);
}
if (haveBin) {
  const ms = (k: string) => {
    const t = times[k].map((s) => s * 1000).sort((a, b) => a - b);
    return `${t[0].toFixed(0)}-${t[t.length - 1].toFixed(0)} ms (median ${
      t[Math.floor(t.length / 2)].toFixed(0)
    })`;
  };
  console.log(`one small file (6 pages), wall time: ibvault binary ${ms("small: ibvault binary")}`);
  console.log(`one small file (6 pages), wall time: innochecksum ${ms("small: innochecksum")}`);
} else console.log("dist/ibvault not built: run deno task compile for the small-file timing");
const hwm = /VmHWM:\s+(\d+) kB/.exec(await Deno.readTextFile("/proc/self/status"))?.[1];
if (hwm) {
  console.log(
    `peak RSS of this process (engine + workers): ${(Number(hwm) / 1024).toFixed(0)} MiB`,
  );
}

/**
 * Incremental benchmark (`deno task bench:incremental`): one table of --size-mb MiB,
 * a full backup by each tool, then 1% of the rows changed (a contiguous id range:
 * updates, as most workloads touch few pages; random rows would touch most pages for
 * both tools alike), then in the same run, alternating:
 *
 *   ibvault backup-to-image --incremental --incremental-base=image:FULL --backup-image=INC
 *   mariadb-backup --backup --incremental-basedir=FULL --target-dir=INC
 *   ibvault validate DATADIR/bench/t1.ibd     (the time target is set against it)
 *
 * Prints sizes and times; targets: incremental image <= 5% of the full one and smaller
 * than mariadb-backup's delta, time <= 1.5x `ibvault validate` of the same files.
 *
 * ibvault is the shipped binary (dist/ibvault) when built, else cli.ts under Deno
 * (IBVAULT_BENCH_DENO=1 forces that).
 *
 * Options: `--size-mb=N` (default 256; 2048 for the figure), `--rounds=N` (default 2).
 */
import { parseArgs } from "node:util";
import { startServer } from "./throwaway_server.ts";
import { fillBench, ibvaultCommand, timed } from "./bench_support.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    "size-mb": { type: "string", default: Deno.env.get("IBVAULT_BENCH_MB") ?? "256" },
    rounds: { type: "string", default: "2" },
    help: { type: "boolean", default: false },
  },
});
if (args.values.help) {
  console.log("deno task bench:incremental [--size-mb=256] [--rounds=2]");
  Deno.exit(0);
}
const ROUNDS = Number(args.values.rounds);
const IB = ibvaultCommand();
console.log(`ibvault = ${IB.label}`);

async function du(path: string): Promise<number> {
  const out = await new Deno.Command("du", { args: ["-sb", path], stdout: "piped" }).output();
  return Number(new TextDecoder().decode(out.stdout).split("\t")[0]);
}

const serverTmp = await Deno.makeTempDir({ prefix: "ibvault-bench-tmp-" });
const work = await Deno.makeTempDir({ prefix: "ibvault-bench-inc-" });
const srv = await startServer({
  extraArgs: [
    `--tmpdir=${serverTmp}`,
    "--innodb-buffer-pool-size=512M",
    "--innodb-log-file-size=256M",
  ],
});
try {
  const mb = await fillBench(srv, Number(args.values["size-mb"]), 1);
  const ib = (cmd: string) =>
    `${IB.command} ${cmd} --socket=${srv.socket} --user=root ` +
    `--no-defaults --include-tables='^bench\\.'`;
  const mbFull = `${work}/mb-full`;
  await timed(
    `mariadb-backup --no-defaults --backup --innodb-flush-method=fsync --socket=${srv.socket} ` +
      `--user=root --datadir=${srv.datadir} --target-dir=${mbFull} --databases=bench`,
  );
  const full = await timed(ib(`backup-to-image --backup-image=${work}/full.ibv`));
  const fullBytes = (await Deno.stat(`${work}/full.ibv`)).size;
  console.log(
    `${mb} MiB table; full image ${(fullBytes / 1048576).toFixed(1)} MiB in ${
      full.seconds.toFixed(2)
    } s, ` +
      `mariadb-backup full ${(await du(mbFull) / 1048576).toFixed(1)} MiB`,
  );
  const [{ n }] = await srv.query<{ n: number }[]>("SELECT MAX(id) AS n FROM bench.t1");
  const span = Math.ceil(Number(n) / 100);
  await srv.query(`UPDATE bench.t1 SET n = n + 1, a = MD5(a) WHERE id BETWEEN 1 AND ${span}`);
  console.log(`changed ${span} rows (1%)`);
  const best = { ib: Infinity, mb: Infinity, val: Infinity };
  let ibBytes = 0, mbBytes = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const steps = [
      async () => {
        await Deno.remove(`${work}/inc.ibv`).catch(() => {});
        const t = await timed(
          ib(
            `backup-to-image --incremental --incremental-base=image:${work}/full.ibv --backup-image=${work}/inc.ibv`,
          ),
        );
        ibBytes = (await Deno.stat(`${work}/inc.ibv`)).size;
        best.ib = Math.min(best.ib, t.seconds);
        return `ibvault incremental image ${(ibBytes / 1048576).toFixed(2)} MiB in ${
          t.seconds.toFixed(2)
        } s`;
      },
      async () => {
        await Deno.remove(`${work}/mb-inc`, { recursive: true }).catch(() => {});
        const t = await timed(
          `mariadb-backup --no-defaults --backup --innodb-flush-method=fsync --socket=${srv.socket} ` +
            `--user=root --datadir=${srv.datadir} --target-dir=${work}/mb-inc ` +
            `--incremental-basedir=${mbFull} --databases=bench`,
        );
        mbBytes = 0;
        for await (const e of Deno.readDir(`${work}/mb-inc/bench`)) {
          if (e.name.endsWith(".delta")) {
            mbBytes += (await Deno.stat(`${work}/mb-inc/bench/${e.name}`)).size;
          }
        }
        best.mb = Math.min(best.mb, t.seconds);
        return `mariadb-backup incremental: .delta ${(mbBytes / 1048576).toFixed(2)} MiB in ${
          t.seconds.toFixed(2)
        } s`;
      },
      async () => {
        const t = await timed(
          `${IB.command} validate ${srv.datadir}/bench/t1.ibd`,
        );
        best.val = Math.min(best.val, t.seconds);
        return `ibvault validate t1.ibd ${t.seconds.toFixed(2)} s`;
      },
    ];
    const order = round % 2 ? steps : [...steps].reverse();
    for (const s of order) console.log(`round ${round}: ${await s()}`);
  }
  console.log(
    `\nincremental image = ${
      (100 * ibBytes / fullBytes).toFixed(2)
    }% of the full image (target <= 5%), ` +
      `${(ibBytes / mbBytes).toFixed(2)}x mariadb-backup's .delta (target < 1); ` +
      `time ${best.ib.toFixed(2)} s = ${
        (best.ib / best.val).toFixed(2)
      }x validate (target <= 1.5x), ` +
      `mariadb-backup ${best.mb.toFixed(2)} s`,
  );
} finally {
  await srv.stop();
  await Deno.remove(work, { recursive: true }).catch(() => {});
  await Deno.remove(serverTmp, { recursive: true }).catch(() => {});
}

/**
 * Lock-time benchmark of minimum locking (`deno task bench:locking`): on one
 * throwaway server, alternating in each round,
 *
 *   cat DATADIR/bench/*.ibd > /dev/null            (the page-cache read the target is set against)
 *   ibvault backup --backup-dir=D                  (default: --use-tts=with-minimum-locking)
 *   ibvault backup --backup-dir=D --use-tts=with-full-locking
 *   ibvault backup-to-image --backup-image=- | THROTTLE      (minimum locking into a slow pipe)
 *   ibvault backup-to-image --use-tts=with-full-locking --backup-image=- | THROTTLE
 *   mariadb-backup --backup --stream=xbstream | THROTTLE      (its lock phases from its log)
 *
 *   ibvault backup --no-sync into tmpfs, minimum and full locking (the work without the disk)
 *
 * THROTTLE is `pv -q -L` at --pipe-mbps MB/s. Prints each run's wall time and lock time, then the
 * targets: tables locked no longer than 1.5x `cat` of the selected files, whatever the output
 * speed; the whole backup no slower than 1.1x full locking (best of the rounds, and the median of
 * the per-round ratios: flushing 2 GB to this machine's disk varies by seconds between runs, so
 * the tmpfs pair shows what the two modes cost apart from it).
 *
 * ibvault is the shipped binary (dist/ibvault) when built, else cli.ts under Deno
 * (IBVAULT_BENCH_DENO=1 forces that).
 *
 * Options: `--size-mb=N` (default 256; 2048 for the issue's figure), `--tables=N` (default 4),
 * `--rounds=N` (default 2), `--pipe-mbps=N` (default 40).
 */
import { parseArgs } from "node:util";
import { startServer, type ThrowawayServer } from "./throwaway_server.ts";
import { fillBench, ibvaultCommand, mariabackupLock, timed } from "./bench_support.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    "size-mb": { type: "string", default: Deno.env.get("IBVAULT_BENCH_MB") ?? "256" },
    tables: { type: "string", default: "4" },
    rounds: { type: "string", default: "2" },
    "pipe-mbps": { type: "string", default: "40" },
    help: { type: "boolean", default: false },
  },
});
if (args.values.help) {
  console.log(
    "deno task bench:locking [--size-mb=256] [--tables=4] [--rounds=2] [--pipe-mbps=40]\n" +
      "Lock time of minimum vs full locking vs mariadb-backup, to a directory and a slow pipe.",
  );
  Deno.exit(0);
}
const SIZE_MB = Number(args.values["size-mb"]);
const ROUNDS = Number(args.values.rounds);
const MBPS = Number(args.values["pipe-mbps"]);
const IB = ibvaultCommand();
const THROTTLE = `pv -q -L ${MBPS}m > /dev/null`;

const serverTmp = await Deno.makeTempDir({ prefix: "ibvault-bench-tmp-" });
const work = await Deno.makeTempDir({ prefix: "ibvault-bench-lock-" });
const shm = await Deno.makeTempDir({ prefix: "ibvault-bench-lock-", dir: "/dev/shm" });
const srv: ThrowawayServer = await startServer({
  extraArgs: [
    `--tmpdir=${serverTmp}`,
    "--innodb-buffer-pool-size=512M",
    "--innodb-log-file-size=256M",
  ],
});
try {
  const mb = await fillBench(srv, SIZE_MB, Number(args.values.tables));
  console.log(`${mb} MiB of .ibd files in bench.t1..t${args.values.tables}; ibvault = ${IB.label}`);
  const conn = `--socket=${srv.socket} --user=root --no-defaults --include-tables='^bench\\.'`;
  const ib = (cmd: string) => `${IB.command} ${cmd} ${conn}`;
  const runs: { name: string; script: () => string; lock: (err: string) => number | undefined }[] =
    [
      {
        name: "cat (page cache)",
        script: () => `cat ${srv.datadir}/bench/*.ibd > /dev/null`,
        lock: () => undefined,
      },
      {
        name: "ibvault backup (minimum locking)",
        script: () => `rm -rf ${work}/d && ${ib(`backup --backup-dir=${work}/d`)}`,
        lock: ibLock,
      },
      {
        name: "ibvault backup --use-tts=with-full-locking",
        script: () =>
          `rm -rf ${work}/d && ${ib(`backup --backup-dir=${work}/d --use-tts=with-full-locking`)}`,
        lock: ibLock,
      },
      {
        name: `ibvault backup-to-image - | ${MBPS} MB/s (minimum locking)`,
        script: () => `${ib("backup-to-image --backup-image=-")} | ${THROTTLE}`,
        lock: ibLock,
      },
      {
        name: `ibvault backup-to-image - | ${MBPS} MB/s (full locking)`,
        script: () =>
          `${ib("backup-to-image --backup-image=- --use-tts=with-full-locking")} | ${THROTTLE}`,
        lock: ibLock,
      },
      {
        name: "ibvault backup --no-sync to tmpfs (minimum locking)",
        script: () => `rm -rf ${shm}/d && ${ib(`backup --no-sync --backup-dir=${shm}/d`)}`,
        lock: ibLock,
      },
      {
        name: "ibvault backup --no-sync to tmpfs (full locking)",
        script: () =>
          `rm -rf ${shm}/d && ${
            ib(`backup --no-sync --backup-dir=${shm}/d --use-tts=with-full-locking`)
          }`,
        lock: ibLock,
      },
      {
        name: `mariadb-backup --stream | ${MBPS} MB/s`,
        script: () =>
          `rm -rf ${work}/mb && mariadb-backup --no-defaults --backup --stream=xbstream ` +
          `--innodb-flush-method=fsync --socket=${srv.socket} --user=root --datadir=${srv.datadir} ` +
          `--target-dir=${work}/mb --databases=bench | ${THROTTLE}`,
        lock: (err) => mariabackupLock(err).commit,
      },
    ];
  const results = new Map<string, { secs: number[]; locks: number[] }>();
  for (let round = 1; round <= ROUNDS; round++) {
    // alternate the order between rounds so neither side always runs on a warmer machine
    const order = round % 2 ? runs : [runs[0], ...runs.slice(1).reverse()];
    for (const r of order) {
      const t = await timed(r.script());
      const lock = r.lock(t.stderr);
      const e = results.get(r.name) ?? { secs: [], locks: [] };
      e.secs.push(t.seconds);
      if (lock !== undefined) e.locks.push(lock);
      results.set(r.name, e);
      console.log(
        `round ${round}: ${r.name.padEnd(52)} ${t.seconds.toFixed(2).padStart(7)} s` +
          (lock !== undefined ? `   locked ${lock.toFixed(3)} s` : ""),
      );
    }
  }
  const best = (n: string) => Math.min(...results.get(n)!.secs);
  const bestLock = (n: string) => Math.min(...results.get(n)!.locks);
  const cat = best(runs[0].name);
  const minDir = bestLock(runs[1].name), minPipe = bestLock(runs[3].name);
  const wholeRatio = best(runs[1].name) / best(runs[2].name);
  console.log(
    `\nbest of ${ROUNDS}: cat ${cat.toFixed(2)} s; minimum locking locked ${minDir.toFixed(3)} s ` +
      `(directory) and ${minPipe.toFixed(3)} s (pipe) = ${
        (Math.max(minDir, minPipe) / cat).toFixed(2)
      }x cat ` +
      `(target <= 1.5x); full locking locked ${bestLock(runs[2].name).toFixed(3)} s (directory), ` +
      `${bestLock(runs[4].name).toFixed(3)} s (pipe); mariadb-backup BLOCK_COMMIT ~` +
      `${bestLock(runs[7].name).toFixed(0)} s (1 s log resolution)`,
  );
  const medianRatio = (a: string, b: string) => {
    const r = results.get(a)!.secs.map((x, i) => x / results.get(b)!.secs[i]).sort((x, y) => x - y);
    return `${r[Math.floor(r.length / 2)].toFixed(2)}x median of rounds (${r[0].toFixed(2)}-${
      r[r.length - 1].toFixed(2)
    }x)`;
  };
  console.log(
    `whole backup to a directory: minimum ${best(runs[1].name).toFixed(2)} s vs full ` +
      `${best(runs[2].name).toFixed(2)} s = ${wholeRatio.toFixed(2)}x best-of, ` +
      `${medianRatio(runs[1].name, runs[2].name)} (target <= 1.1x)`,
  );
  console.log(
    `without the disk (tmpfs, --no-sync): minimum ${best(runs[5].name).toFixed(2)} s vs full ` +
      `${best(runs[6].name).toFixed(2)} s = ${
        (best(runs[5].name) / best(runs[6].name)).toFixed(2)
      }x best-of, ${medianRatio(runs[5].name, runs[6].name)}`,
  );
} finally {
  await srv.stop();
  await Deno.remove(work, { recursive: true }).catch(() => {});
  await Deno.remove(shm, { recursive: true }).catch(() => {});
  await Deno.remove(serverTmp, { recursive: true }).catch(() => {});
}

function ibLock(stderr: string): number | undefined {
  const m = /tables locked (\d+\.\d+) s/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/**
 * Benchmark of `backup-to-image --compress` against mariadb-backup on the same
 * throwaway server, in one run (`deno task bench:backup`):
 *
 *   mariadb-backup --backup --stream=xbstream --innodb-flush-method=fsync | lz4 > /dev/null
 *   ibvault backup-to-image --compress --backup-image=- > /dev/null
 *
 * `--innodb-flush-method=fsync` makes mariadb-backup read through the page cache,
 * as ibvault does (its default is O_DIRECT). Prints wall time, lock time and the
 * ratio for each round; the target is 1.2x mariadb-backup's speed, the minimum 1.0x.
 *
 * Options: `--size-mb=N` data to create (default 2048), `--tables=N` (default 4),
 * `--rounds=N` (default 2, the best round of each counts), `--threads=N`.
 */
import { parseArgs } from "node:util";
import { startServer, type ThrowawayServer } from "./throwaway_server.ts";
import { fillBench, timed } from "./bench_support.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    "size-mb": { type: "string", default: "2048" },
    tables: { type: "string", default: "4" },
    rounds: { type: "string", default: "2" },
    threads: { type: "string", default: String(navigator.hardwareConcurrency) },
    help: { type: "boolean", default: false },
  },
});
if (args.values.help) {
  console.log(
    "deno task bench:backup [--size-mb=2048] [--tables=4] [--rounds=2] [--threads=N]\n" +
      "Times mariadb-backup | lz4 against ibvault backup-to-image --compress on one server.",
  );
  Deno.exit(0);
}
const SIZE_MB = Number(args.values["size-mb"]);
const TABLES = Number(args.values.tables);
const ROUNDS = Number(args.values.rounds);
const THREADS = Number(args.values.threads);
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const DENO = new URL("../node_modules/.bin/deno", import.meta.url).pathname;
const COMMAND_MODULE = new URL("../lib/commands/backup_to_image.ts", import.meta.url).href;
const OPTIONS_MODULE = new URL("../lib/commands/options.ts", import.meta.url).href;
const REPORTER_MODULE = new URL("../lib/progress/reporter.ts", import.meta.url).href;
const REGISTRY_MODULE = new URL("../lib/commands/mod.ts", import.meta.url).href;

/**
 * mariadb-backup's lock windows from its log (1 s resolution): DDL blocked from
 * "Started BACKUP STAGE BLOCK_DDL" to "All tables unlocked", commits blocked from
 * "Starting BACKUP STAGE BLOCK_COMMIT" to the same end.
 */
function mariabackupLock(log: string): string {
  const stamp = (re: RegExp) => {
    const line = log.split("\n").find((l) => re.test(l));
    const m = line && /(\d{4}-\d\d-\d\d) +(\d\d?:\d\d:\d\d)/.exec(line);
    return m ? Date.parse(`${m[1]}T${m[2].padStart(8, "0")}Z`) : undefined;
  };
  const end = stamp(/All tables unlocked/);
  const ddl = stamp(/Started BACKUP STAGE BLOCK_DDL/);
  const commit = stamp(/Starting BACKUP STAGE BLOCK_COMMIT/);
  const secs = (from?: number) =>
    from !== undefined && end !== undefined ? `~${((end - from) / 1000).toFixed(0)} s` : "n/a";
  return `DDL ${secs(ddl)}, commits ${secs(commit)}`;
}

/** The ibvault command line: the built CLI when it knows the command, else an in-process runner. */
async function ibvaultScript(srv: ThrowawayServer): Promise<string> {
  const args = `--socket=${srv.socket} --user=root --no-defaults --compress ` +
    `--backup-image=- --include-tables='^bench\\.' --threads=${THREADS}`;
  const { findCommand } = await import(REGISTRY_MODULE);
  if (findCommand("backup-to-image")) {
    return `${DENO} run -A --config ${CONFIG} ${CLI} backup-to-image ${args} > /dev/null`;
  }
  const code = `
    import { backupToImageCommand } from ${JSON.stringify(COMMAND_MODULE)};
    import { defaultOptions } from ${JSON.stringify(OPTIONS_MODULE)};
    import { createReporter } from ${JSON.stringify(REPORTER_MODULE)};
    const report = createReporter({ showProgress: false });
    const options = { ...defaultOptions(${THREADS}), socket: ${JSON.stringify(srv.socket)},
      user: "root", noDefaults: true, compress: true, backupImage: "-", includeTables: "^bench\\\\." };
    const code = await backupToImageCommand.run({ options, args: [], report,
      signal: new AbortController().signal, printJson() {} });
    process.stdout.once("drain", () => Deno.exit(code));
    if (!process.stdout.writableNeedDrain) Deno.exit(code);`;
  const runner = await Deno.makeTempFile({ prefix: "ibvault-bench-", suffix: ".ts" });
  cleanup.push(runner);
  await Deno.writeTextFile(runner, `import process from "node:process";\n${code}`);
  return `${DENO} run -A --config ${CONFIG} ${runner} > /dev/null`;
}

const cleanup: string[] = [];
// The server's own temporary directory: files the server keeps in a shared /tmp can be
// removed from under it by other programs.
const serverTmp = await Deno.makeTempDir({ prefix: "ibvault-bench-tmp-" });
cleanup.push(serverTmp);
const srv = await startServer({
  extraArgs: [
    `--tmpdir=${serverTmp}`,
    "--innodb-buffer-pool-size=1G",
    "--innodb-log-file-size=512M",
  ],
});
try {
  console.log(`creating ~${SIZE_MB} MiB in ${TABLES} tables ...`);
  const t0 = performance.now();
  await fillBench(srv, SIZE_MB, TABLES);
  let bytes = 0;
  for await (const e of Deno.readDir(`${srv.datadir}/bench`)) {
    if (e.name.endsWith(".ibd")) bytes += (await Deno.stat(`${srv.datadir}/bench/${e.name}`)).size;
  }
  const mb = Math.round(bytes / 1048576);
  console.log(
    `created ${mb} MiB of .ibd files in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  const target = await Deno.makeTempDir({ prefix: "ibvault-mb-" });
  const mbScript = `mariadb-backup --no-defaults --backup --stream=xbstream ` +
    `--innodb-flush-method=fsync --socket=${srv.socket} --user=root --datadir=${srv.datadir} ` +
    `--target-dir=${target} --parallel=${THREADS} | lz4 -1 > /dev/null`;
  const ibScript = await ibvaultScript(srv);
  // warm the page cache for both, as a production server's hot tables would be
  await timed(`cat ${srv.datadir}/bench/*.ibd > /dev/null`);
  let bestMb = Infinity, bestIb = Infinity;
  for (let round = 1; round <= ROUNDS; round++) {
    const m = await timed(mbScript);
    const i = await timed(ibScript);
    bestMb = Math.min(bestMb, m.seconds);
    bestIb = Math.min(bestIb, i.seconds);
    const ibLock = /tables locked (\d+\.\d+) s/.exec(i.stderr)?.[1] ?? "n/a";
    console.log(
      `round ${round}: mariadb-backup | lz4  ${m.seconds.toFixed(2)} s (lock ${
        mariabackupLock(m.stderr)
      })` +
        `   ibvault backup-to-image --compress  ${i.seconds.toFixed(2)} s (lock ${ibLock} s)` +
        `   speed ratio ${(m.seconds / i.seconds).toFixed(2)}x`,
    );
  }
  const ratio = bestMb / bestIb;
  console.log(
    `best: mariadb-backup ${bestMb.toFixed(2)} s (${(mb / bestMb).toFixed(0)} MiB/s), ibvault ` +
      `${bestIb.toFixed(2)} s (${(mb / bestIb).toFixed(0)} MiB/s): ibvault at ${
        ratio.toFixed(2)
      }x ` +
      `mariadb-backup's speed (target 1.2x, minimum 1.0x): ` +
      (ratio >= 1.2 ? "target met" : ratio >= 1.0 ? "minimum met" : "BELOW minimum"),
  );
  await Deno.remove(target, { recursive: true }).catch(() => {});
} finally {
  await srv.stop();
  for (const f of cleanup) await Deno.remove(f, { recursive: true }).catch(() => {});
}

/**
 * The codec part of `deno task bench:image`: on the same tables of one throwaway
 * MariaDB, size and MB/s each way of
 *
 *   ibvault backup-to-image --compress (LZ4) / --compress=zstd --compress-level=1 / =3
 *   tar -c bench/*.ibd | zstd -T0 -1 | openssl enc -aes-256-cbc
 *   mariadb-backup --backup --stream=xbstream --compress (QuickLZ) | openssl enc -aes-256-cbc
 *
 * all encrypted (mariadb-backup 10.11 has no encryption of its own, so it gets the
 * same openssl as the tar pipeline). Reading back: `image-to-backup-dir`, `openssl -d
 * | zstd -d | tar -x`, and `openssl -d | mbstream -x` (mariadb-backup's --decompress
 * needs the qpress program, which Debian does not ship: its read is extraction only,
 * the .qp files stay compressed). Outputs go to /dev/shm when present (disk noise
 * out). Runs alternate; the best of IBVAULT_BENCH_RUNS rounds counts. MB/s is table
 * bytes (the .ibd files of the `bench` database) per second, for every tool, though
 * mariadb-backup also copies ibdata1, the redo log and the system tables.
 *
 * Env: IBVAULT_BENCH_CODECS_MB (table data to create, default 256; 0 skips).
 */
import { startServer } from "./throwaway_server.ts";

type Run = { secs: number };

async function sh(script: string, env: Record<string, string>): Promise<Run> {
  const t = performance.now();
  const out = await new Deno.Command("bash", {
    args: ["-o", "pipefail", "-c", script],
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`failed (${out.code}): ${script}\n${new TextDecoder().decode(out.stderr)}`);
  }
  return { secs: (performance.now() - t) / 1000 };
}

/** Run the codec comparison with `ib` (the ibvault command) `runs` rounds. */
export async function benchCodecs(ib: string, runs: number, key: string, iv: string) {
  const mb = Number(Deno.env.get("IBVAULT_BENCH_CODECS_MB") ?? 256);
  if (!(mb > 0)) return;
  const base = await Deno.stat("/dev/shm").then(() => "/dev/shm", () => "/tmp");
  const work = await Deno.makeTempDir({ dir: base, prefix: "ibvault-bench-codecs-" });
  const srv = await startServer({ extraArgs: ["--innodb-buffer-pool-size=512M"] });
  try {
    console.log(`codecs: creating ~${mb} MiB of tables in a throwaway MariaDB ...`);
    await srv.query("CREATE DATABASE bench");
    await srv.query(
      "CREATE TABLE bench.t1 (id BIGINT AUTO_INCREMENT PRIMARY KEY, k INT, c CHAR(120), " +
        "pad CHAR(60), KEY (k))",
    );
    // sysbench-like rows: digit groups in c and pad, a random k.
    const digits = "LPAD(FLOOR(RAND()*1e11), 11, '0')";
    const c = `CONCAT_WS('-', ${Array(10).fill(digits).join(", ")})`;
    const pad = `CONCAT_WS('-', ${Array(5).fill(digits).join(", ")})`;
    await srv.query(
      `INSERT INTO bench.t1 (k, c, pad) SELECT FLOOR(RAND()*1e6), ${c}, ${pad} ` +
        "FROM bench.seq_1_to_10000",
    );
    const rows = Math.ceil((mb * 1048576) / 300);
    for (let n = 10000; n < rows;) {
      const add = Math.min(n, rows - n);
      await srv.query(
        `INSERT INTO bench.t1 (k, c, pad) SELECT FLOOR(RAND()*1e6), ${c}, ${pad} ` +
          `FROM bench.t1 LIMIT ${add}`,
      );
      n += add;
    }
    // Pages reach the files, so every tool reads the same bytes.
    await srv.query("FLUSH TABLES bench.t1 FOR EXPORT");
    await srv.query("UNLOCK TABLES");
    const ibd = `${srv.datadir}/bench/t1.ibd`;
    const tableMb = (await Deno.stat(ibd)).size / 1e6;
    const env = { K: key };
    const enc = `openssl enc -aes-256-cbc -K ${key} -iv ${iv}`;
    const conn = `--no-defaults --socket=${srv.socket} --user=root`;
    const tools: {
      name: string;
      write: (f: string) => string;
      read?: (f: string, o: string) => string;
    }[] = [];
    for (
      const [name, opts] of [
        ["ibvault lz4", "--compress"],
        ["ibvault zstd -1", "--compress=zstd --compress-level=1"],
        ["ibvault zstd -3", "--compress=zstd --compress-level=3"],
      ]
    ) {
      tools.push({
        name,
        write: (f) =>
          `${ib} backup-to-image ${conn} --include-tables='^bench\\.' --backup-image=- ` +
          `${opts} --encrypt --key-env=K --no-progress > ${f}`,
        read: (f, o) =>
          `${ib} image-to-backup-dir --backup-image=- --backup-dir=${o} --key-env=K --no-progress < ${f}`,
      });
    }
    tools.push({
      name: "tar|zstd -T0 -1|openssl",
      write: (f) => `tar -C ${srv.datadir} -cf - bench/t1.ibd | zstd -T0 -1 -q | ${enc} > ${f}`,
      read: (f, o) => `mkdir -p ${o} && ${enc} -d < ${f} | zstd -d -q | tar -C ${o} -xf -`,
    });
    tools.push({
      name: "mariadb-backup --compress|openssl",
      write: (f) =>
        `mariadb-backup ${conn} --backup --stream=xbstream --compress --databases=bench ` +
        `--innodb-flush-method=fsync --datadir=${srv.datadir} --target-dir=${work}/mbt 2>/dev/null | ${enc} > ${f}`,
      read: (f, o) => `mkdir -p ${o} && ${enc} -d < ${f} | mbstream -x -C ${o}`,
    });
    const w = new Map<string, number[]>(), r = new Map<string, number[]>();
    const size = new Map<string, number>();
    const rm = (p: string) => Deno.remove(p, { recursive: true }).catch(() => {});
    for (let round = 0; round < runs; round++) {
      for (const [i, t] of tools.entries()) {
        const f = `${work}/out${i}`;
        await rm(f);
        w.set(t.name, [...(w.get(t.name) ?? []), (await sh(t.write(f), env)).secs]);
        size.set(t.name, (await Deno.stat(f)).size);
        if (t.read) {
          await rm(`${work}/dir`);
          r.set(t.name, [...(r.get(t.name) ?? []), (await sh(t.read(f, `${work}/dir`), env)).secs]);
        }
        await rm(f);
        await rm(`${work}/dir`);
      }
    }
    console.log(
      `codecs on one ${
        tableMb.toFixed(0)
      } MB sysbench-like table (${runs} alternating rounds, best; ` +
        `encrypted; outputs in ${base}):`,
    );
    const range = (xs: number[]) => {
      const s = xs.map((x) => tableMb / x).sort((a, b) => a - b);
      return s.length > 1
        ? `${s[s.length - 1].toFixed(0)} (${s[0].toFixed(0)}..)`
        : s[0].toFixed(0);
    };
    for (const t of tools) {
      const bytes = size.get(t.name)!;
      console.log(
        `  ${t.name.padEnd(34)} size ${(bytes / 1e6).toFixed(1).padStart(7)} MB ` +
          `(ratio ${(tableMb * 1e6 / bytes).toFixed(2)})  write ${range(w.get(t.name)!)} MB/s  ` +
          `read ${range(r.get(t.name)!)} MB/s` +
          (t.name.startsWith("mariadb-backup") ? " (extract only: no qpress to decompress)" : ""),
      );
    }
  } finally {
    await srv.stop();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

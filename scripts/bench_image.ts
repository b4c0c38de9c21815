/**
 * `deno task bench:image`: ibvault images against the shell pipeline on a ~2 GB
 * tablespace-like set: `tar -c | lz4 | openssl enc -aes-256-cbc` to /dev/null vs
 * `backup-dir-to-image --compress --encrypt` to /dev/null, the reverse (`openssl -d |
 * lz4 -d | tar -x` vs `image-to-backup-dir`) into a directory on disk and on tmpfs
 * (/dev/shm, which takes the disk's noise out), and `validate --backup-image`. ibvault
 * flushes the files it writes (fdatasync, as it does by default), and so does the shell
 * peer (`sync FILE...` after tar).
 *
 * This VM's disk and CPU speed swing several-fold from one minute to the next, so
 * each comparison runs shell and ibvault alternately IBVAULT_BENCH_RUNS times (3)
 * and prints the ratio of the best runs and the median of the per-round ratios.
 * ibvault is the shipped binary (dist/ibvault) when built, else cli.ts under Deno
 * (IBVAULT_BENCH_DENO=1 forces that). MB/s = 10^6 bytes of tablespace per second.
 *
 * Then the codecs on real tables (scripts/bench_codecs.ts): LZ4, zstd levels 1 and 3,
 * `tar | zstd -T0 -1 | openssl` and `mariadb-backup --stream=xbstream --compress`.
 *
 * Env: IBVAULT_BENCH_DIR (data set location, kept between runs), IBVAULT_BENCH_MB (size),
 * IBVAULT_BENCH_ONLY=codecs (only the codec part), IBVAULT_BENCH_CODECS_MB (its size).
 */
const ROOT = Deno.env.get("IBVAULT_BENCH_DIR") ?? "/tmp/ibvault-bench-image";
const TOTAL_MB = Number(Deno.env.get("IBVAULT_BENCH_MB") ?? 2048);
const RUNS = Math.max(1, Number(Deno.env.get("IBVAULT_BENCH_RUNS") ?? 3));
const KEY = "6b657900112233445566778899aabbccddeeff00112233445566778899aabbcc";
const IV = "00112233445566778899aabbccddeeff";
const PAGE = 16384;
import { writeManifest } from "../lib/core/manifest_io.ts";
import { manifestForFiles } from "../lib/backupdir/source.ts";
import { walkFiles } from "../lib/backupdir/walk.ts";
import { benchCodecs } from "./bench_codecs.ts";
import { ibvaultCommand } from "./bench_support.ts";

/** Tablespace-like pages: a header, ~11.5 KiB of high-entropy rows, a structured tail. */
async function generate(dir: string) {
  const files = 16;
  const perFile = Math.floor((TOTAL_MB * 1048576) / files / PAGE) * PAGE;
  let x = 0x9e3779b9;
  const page = new Uint8Array(PAGE);
  const chunk = new Uint8Array(64 * PAGE);
  for (let f = 0; f < files; f++) {
    await Deno.mkdir(`${dir}/sbtest`, { recursive: true });
    const fh = await Deno.open(`${dir}/sbtest/sbtest${f + 1}.ibd`, { write: true, create: true });
    for (let off = 0; off < perFile; off += chunk.length) {
      for (let p = 0; p < 64; p++) {
        const dv = new DataView(page.buffer);
        for (let i = 0; i < 11800; i += 4) {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          // Digits and letters, like sysbench's c/pad columns: compressible a little.
          dv.setUint32(38 + i, (x & 0x0f0f0f0f) | 0x30303030);
        }
        for (let i = 11838; i < PAGE - 8; i++) page[i] = (i * 31) & 0x3f;
        dv.setUint32(4, (off / PAGE) + p);
        chunk.set(page, p * PAGE);
      }
      await fh.write(chunk.subarray(0, Math.min(chunk.length, perFile - off)));
    }
    fh.close();
  }
  // A backup directory has its manifest (sizes and CRC-32C); build it once here.
  await writeManifest(dir, await manifestForFiles(dir, await walkFiles(dir)));
}

type Run = { secs: number; rssMb: number };

async function sh(script: string, env: Record<string, string> = {}, okCodes = [0]): Promise<Run> {
  const t = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "maxrss_kb=%M", "bash", "-o", "pipefail", "-c", script],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const secs = (performance.now() - t) / 1000;
  const err = new TextDecoder().decode(out.stderr);
  if (!okCodes.includes(out.code)) throw new Error(`failed (${out.code}): ${script}\n${err}`);
  return { secs, rssMb: Number(/maxrss_kb=(\d+)/.exec(err)?.[1] ?? 0) / 1024 };
}

async function exists(p: string): Promise<boolean> {
  return await Deno.stat(p).then(() => true, () => false);
}

async function du(dir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    n += e.isDirectory ? await du(p) : (await Deno.stat(p)).size;
  }
  return n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Run `shell` and `ibvault` alternately RUNS times (`before` untimed ahead of each
 * run, e.g. to empty the destination); print best MB/s of each, peak RSS, the
 * ratio of the best runs and the median of the per-round ratios.
 */
async function compare(
  what: string,
  mb: number,
  shell: string,
  ibvault: string,
  env: Record<string, string>,
  before: () => Promise<void> = async () => {},
) {
  const s: Run[] = [], i: Run[] = [];
  for (let r = 0; r < RUNS; r++) {
    await before();
    s.push(await sh(shell));
    await before();
    i.push(await sh(ibvault, env));
  }
  const best = (runs: Run[]) => Math.min(...runs.map((x) => x.secs));
  const rss = (runs: Run[]) => Math.max(...runs.map((x) => x.rssMb));
  const ratios = s.map((x, k) => x.secs / i[k].secs);
  console.log(
    `${what}: shell ${(mb / best(s)).toFixed(0)} MB/s (RSS ${rss(s).toFixed(0)} MB), ` +
      `ibvault ${(mb / best(i)).toFixed(0)} MB/s (RSS ${rss(i).toFixed(0)} MB), ` +
      `ratio ${(best(s) / best(i)).toFixed(2)}x best, ${median(ratios).toFixed(2)}x median ` +
      `[${ratios.map((x) => x.toFixed(2)).join(" ")}]`,
  );
}

if (import.meta.main && Deno.env.get("IBVAULT_BENCH_ONLY") === "codecs") {
  await benchCodecs(ibvaultCommand().command, RUNS, KEY, IV);
} else if (import.meta.main) {
  const data = `${ROOT}/data`;
  if (!(await exists(`${data}/ibvault_manifest.json`))) {
    console.log(`generating ${TOTAL_MB} MB of tablespace-like pages in ${data} ...`);
    await generate(data);
  }
  const mb = (await du(data)) / 1e6;
  const { command: ib, label } = ibvaultCommand();
  const env = { K: KEY };
  const enc = `openssl enc -aes-256-cbc -K ${KEY} -iv ${IV}`;
  const rm = (p: string) => Deno.remove(p, { recursive: true }).catch(() => {});
  console.log(
    `data set: ${mb.toFixed(0)} MB in ${data}; ibvault = ${label}; ${RUNS} alternating runs each`,
  );
  await sh(`cat ${data}/sbtest/* > /dev/null`); // warm the page cache

  await compare(
    "image write (compress+encrypt) to /dev/null",
    mb,
    `tar -C ${data} -cf - . | lz4 -1 -q | ${enc} > /dev/null`,
    `${ib} backup-dir-to-image --backup-dir=${data} --backup-image=- --compress --encrypt --key-env=K --no-progress > /dev/null`,
    env,
  );

  await sh(`tar -C ${data} -cf - . | lz4 -1 -q | ${enc} > ${ROOT}/shell.enc`);
  await rm(`${ROOT}/img`);
  await sh(
    `${ib} backup-dir-to-image --backup-dir=${data} --backup-image=${ROOT}/img --compress --encrypt --key-env=K --no-progress`,
    env,
  );
  for (const [where, base] of [["disk", ROOT], ["tmpfs", "/dev/shm/ibvault-bench-image"]]) {
    if (where === "tmpfs" && !(await exists("/dev/shm"))) continue;
    const out = `${base}/out`;
    await compare(
      `image read (decrypt+decompress) to a directory on ${where}`,
      mb,
      // ibvault flushes what it writes to the disk before it says OK: so does the peer here.
      `mkdir -p ${out} && ${enc} -d < ${ROOT}/shell.enc | lz4 -d -q | tar -C ${out} -xf - && ` +
        `find ${out} -exec sync {} +`,
      `${ib} image-to-backup-dir --backup-image=- --backup-dir=${out} --key-env=K --no-progress < ${ROOT}/img`,
      env,
      async () => {
        await rm(out);
        await sh("sync");
      },
    );
    await rm(base === ROOT ? out : base);
  }
  const imgSize = (await Deno.stat(`${ROOT}/img`)).size,
    shellSize = (await Deno.stat(`${ROOT}/shell.enc`)).size;
  console.log(
    `sizes: ibvault image ${(imgSize / 1e6).toFixed(0)} MB, tar|lz4|openssl ${
      (shellSize / 1e6).toFixed(0)
    } MB`,
  );
  const v: Run[] = [];
  for (let r = 0; r < RUNS; r++) {
    v.push(
      await sh(
        `${ib} validate --backup-image=- --key-env=K --no-progress < ${ROOT}/img > /dev/null`,
        env,
        [0, 1], // the generated pages carry no valid InnoDB checksums: exit 1 is expected
      ),
    );
  }
  console.log(
    `validate --backup-image (encrypted, compressed): ${
      (mb / Math.min(...v.map((x) => x.secs))).toFixed(0)
    } MB/s best, RSS ${Math.max(...v.map((x) => x.rssMb)).toFixed(0)} MB`,
  );
  await benchCodecs(ib, RUNS, KEY, IV);
}

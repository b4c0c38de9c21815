/**
 * `deno task bench:image`: ibvault images against the shell pipeline on a ~2 GB
 * tablespace-like set, in one run: `tar -c | lz4 | openssl enc -aes-256-cbc` to /dev/null
 * vs `backup-dir-to-image --compress --encrypt` to /dev/null, the reverse
 * (`openssl -d | lz4 -d | tar -x` vs `image-to-backup-dir`), and `validate --backup-image`
 * when cli.ts has it. Prints MB/s (10^6 bytes of tablespace per second), ratios, peak RSS.
 *
 * Env: IBVAULT_BENCH_DIR (data set location, kept between runs), IBVAULT_BENCH_MB (size).
 */
const ROOT = Deno.env.get("IBVAULT_BENCH_DIR") ?? "/tmp/ibvault-bench-image";
const TOTAL_MB = Number(Deno.env.get("IBVAULT_BENCH_MB") ?? 2048);
const DENO = new URL("../node_modules/.bin/deno", import.meta.url).pathname;
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const DRIVER = new URL("../tests/image_pipe_test.ts", import.meta.url).pathname;
const KEY = "6b657900112233445566778899aabbccddeeff00112233445566778899aabbcc";
const IV = "00112233445566778899aabbccddeeff";
const PAGE = 16384;
import { buildManifest, writeManifest } from "../lib/image/manifest_io.ts";
import { walkFiles } from "../lib/backupdir/walk.ts";

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
  await writeManifest(dir, await buildManifest(dir, await walkFiles(dir)));
}

async function sh(script: string, env: Record<string, string> = {}, okCodes = [0]) {
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

async function ibvault(): Promise<string> {
  const help = await new Deno.Command(DENO, { args: ["run", "-A", CLI, "--help"], stdout: "piped" })
    .output().catch(() => undefined);
  const text = help ? new TextDecoder().decode(help.stdout) : "";
  return text.includes("backup-dir-to-image")
    ? `${DENO} run -A ${CLI}`
    : `${DENO} run -A ${DRIVER}`;
}

async function du(dir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    n += e.isDirectory ? await du(p) : (await Deno.stat(p)).size;
  }
  return n;
}

if (import.meta.main) {
  const data = `${ROOT}/data`;
  try {
    await Deno.stat(`${data}/ibvault_manifest.json`);
  } catch {
    console.log(`generating ${TOTAL_MB} MB of tablespace-like pages in ${data} ...`);
    await generate(data);
  }
  const bytes = await du(data);
  const mb = bytes / 1e6;
  const ib = await ibvault();
  const env = { K: KEY };
  const enc = `openssl enc -aes-256-cbc -K ${KEY} -iv ${IV}`;
  const rm = (p: string) => Deno.remove(p, { recursive: true }).catch(() => {});
  console.log(
    `data set: ${mb.toFixed(0)} MB in ${data}; ibvault = ${
      ib.includes("cli.ts") ? "cli.ts" : "test driver"
    }`,
  );
  await sh(`cat ${data}/sbtest/* > /dev/null`); // warm the page cache

  const rows: [string, { secs: number; rssMb: number }, { secs: number; rssMb: number }][] = [];
  const shellW = await sh(`tar -C ${data} -cf - . | lz4 -1 -q | ${enc} > /dev/null`);
  const ibW = await sh(
    `${ib} backup-dir-to-image --backup-dir=${data} --backup-image=- --compress --encrypt --key-env=K --no-progress > /dev/null`,
    env,
  );
  rows.push(["image write (compress+encrypt) to /dev/null", shellW, ibW]);

  await sh(`tar -C ${data} -cf - . | lz4 -1 -q | ${enc} > ${ROOT}/shell.enc`);
  await rm(`${ROOT}/img`);
  await sh(
    `${ib} backup-dir-to-image --backup-dir=${data} --backup-image=${ROOT}/img --compress --encrypt --key-env=K --no-progress`,
    env,
  );
  await rm(`${ROOT}/out-shell`);
  await rm(`${ROOT}/out-ib`);
  await Deno.mkdir(`${ROOT}/out-shell`);
  const shellR = await sh(
    `${enc} -d < ${ROOT}/shell.enc | lz4 -d -q | tar -C ${ROOT}/out-shell -xf -`,
  );
  const ibR = await sh(
    `${ib} image-to-backup-dir --backup-image=- --backup-dir=${ROOT}/out-ib --key-env=K --no-progress < ${ROOT}/img`,
    env,
  );
  rows.push(["image read (decrypt+decompress) to a directory", shellR, ibR]);
  const imgSize = (await Deno.stat(`${ROOT}/img`)).size,
    shellSize = (await Deno.stat(`${ROOT}/shell.enc`)).size;

  for (const [what, s, i] of rows) {
    console.log(
      `${what}: shell ${(mb / s.secs).toFixed(0)} MB/s (RSS ${s.rssMb.toFixed(0)} MB), ` +
        `ibvault ${(mb / i.secs).toFixed(0)} MB/s (RSS ${i.rssMb.toFixed(0)} MB), ratio ${
          (s.secs / i.secs).toFixed(2)
        }x`,
    );
  }
  console.log(
    `sizes: ibvault image ${(imgSize / 1e6).toFixed(0)} MB, tar|lz4|openssl ${
      (shellSize / 1e6).toFixed(0)
    } MB`,
  );
  if (ib.includes("cli.ts")) {
    const v = await sh(
      `${ib} validate --backup-image=- --key-env=K --no-progress < ${ROOT}/img > /dev/null`,
      env,
      [0, 1], // the generated pages carry no valid InnoDB checksums: exit 1 is expected
    ).catch((
      e,
    ) => (console.log(`validate --backup-image: ${(e as Error).message.split("\n")[0]}`),
      undefined)
    );
    if (v) {
      console.log(
        `validate --backup-image (encrypted, compressed): ${(mb / v.secs).toFixed(0)} MB/s, RSS ${
          v.rssMb.toFixed(0)
        } MB`,
      );
    }
  } else {console.log(
      "validate --backup-image: cli.ts does not list the image commands yet, skipped",
    );}
  await rm(`${ROOT}/out-shell`);
  await rm(`${ROOT}/out-ib`);
}

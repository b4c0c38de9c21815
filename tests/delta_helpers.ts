/** Helpers of the tests over page deltas (this file holds no tests). */
import { DeltaBuilder, readDelta } from "../lib/innodb/delta_format.ts";

/** Rewrite delta `file` with one byte of one page changed (run CRCs recomputed: only the page is bad). */
export async function corruptOnePage(file: string): Promise<number> {
  const bytes = await Deno.readFile(file);
  const { header, runs } = await readDelta(
    (async function* () {
      yield bytes;
    })(),
    file,
  );
  const out: Uint8Array[] = [];
  const b = new DeltaBuilder(header, (x) => Promise.resolve(void out.push(x.slice())));
  await b.begin();
  let victim = -1;
  let last = 0;
  for (;;) {
    const r = await runs.next();
    if (r.done) {
      last = r.value.pages;
      break;
    }
    const pages = r.value.bytes.slice();
    if (victim < 0 && r.value.first > 0) {
      victim = r.value.first;
      pages[200] ^= 0x5a; // inside the page body: the checksum no longer matches
    }
    await b.run(r.value.first, pages);
  }
  await b.end(last);
  const all = new Uint8Array(out.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of out) {
    all.set(x, o);
    o += x.length;
  }
  await Deno.writeFile(file, all);
  return victim;
}

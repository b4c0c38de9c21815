/**
 * Whether a running server holds a data directory: InnoDB takes a POSIX write
 * lock on its system tablespace (`ibdata1`) while it runs, which Linux lists in
 * `/proc/locks` by device and inode. Validating such a directory reads pages
 * that are being written, so a torn (half-written) page may be reported.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";

/**
 * The process id of a live process holding a POSIX lock on `datadir/ibdata1`,
 * or undefined (none, no such file, or no `/proc/locks` to tell).
 */
export async function serverHoldingDatadir(
  datadir: string,
  locks?: string,
): Promise<number | undefined> {
  let st;
  try {
    st = await stat(join(datadir, "ibdata1"));
  } catch {
    return undefined;
  }
  let text = locks;
  if (text === undefined) {
    try {
      text = await readFile("/proc/locks", "utf8");
    } catch {
      return undefined;
    }
  }
  // "1: POSIX  ADVISORY  WRITE 4242 08:01:1234567 0 EOF" (device major:minor in hex)
  const major = Math.floor(st.dev / 256) & 0xfff,
    minor = (st.dev & 0xff) | ((st.dev >> 12) & 0xfff00);
  for (const line of text.split("\n")) {
    const m = /\bPOSIX\s+\S+\s+\S+\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/i.exec(line);
    if (!m || Number(m[4]) !== st.ino) continue;
    if (parseInt(m[2], 16) !== major || parseInt(m[3], 16) !== minor) continue;
    return Number(m[1]);
  }
  return undefined;
}

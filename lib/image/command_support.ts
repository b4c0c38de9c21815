/**
 * What the image commands share: checking the codec options, getting the key
 * for writing or reading, and naming the table an entry belongs to.
 */
import type { Options } from "../commands/options.ts";
import type { Reporter } from "../progress/reporter.ts";
import { UsageError } from "../errors.ts";
import { loadKey } from "./key.ts";
import type { Manifest } from "./manifest.ts";

/** The key to encrypt with (undefined: plain image), after checking the options agree. */
export async function keyForWriting(o: Options, report: Reporter): Promise<Uint8Array | undefined> {
  if (o.compressMethod && o.compressMethod.toLowerCase() !== "lz4") {
    throw new UsageError(`--compress-method=${o.compressMethod}: only lz4 is supported`);
  }
  const key = await loadKey(o, (m) => report.warn(m));
  if (o.encrypt && !key) {
    throw new UsageError("--encrypt needs a key: --key-file, --key-env or --key");
  }
  if (key && !o.encrypt) {
    throw new UsageError("a key was given without --encrypt (add --encrypt to encrypt the image)");
  }
  return key;
}

/** The key to read with, if one was given (--decrypt is accepted and implies nothing else). */
export async function keyForReading(o: Options, report: Reporter): Promise<Uint8Array | undefined> {
  const key = await loadKey(o, (m) => report.warn(m));
  if (o.decrypt && !key) {
    throw new UsageError("--decrypt needs a key: --key-file, --key-env or --key");
  }
  return key;
}

/** The image argument, required. */
export function requireImage(o: Options): string {
  if (!o.backupImage) {
    throw new UsageError("--backup-image=FILE (or - for stdin/stdout) is required");
  }
  return o.backupImage;
}

/** Worker threads for the codec: the --threads value (at least 1). */
export function codecThreads(o: Options): number {
  return Math.max(1, o.threads | 0);
}

/** Map entry path → "`db`.`table`" (Unicode names) from the manifest's table records. */
export function tablesByEntry(m: Manifest): Map<string, string> {
  const q = (s: string) => "`" + s.replaceAll("`", "``") + "`";
  const out = new Map<string, string>();
  for (const t of m.tables ?? []) {
    for (const f of t.files ?? []) out.set(f, `${q(t.database)}.${q(t.name)}`);
  }
  return out;
}

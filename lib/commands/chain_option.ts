/**
 * The incremental chain of `copy-back`: the base (`--backup-dir` or
 * `--backup-image`) then `--incremental-backup-dir=DIR` or
 * `--incremental-backup-image=FILE` (repeatable, in the order they were taken;
 * one kind per run, since the order between the two lists is not known), opened
 * as one chain source (lib/delta/chain_source.ts) that checks every link.
 */
import type { CommandContext } from "./command.ts";
import { keyForReading } from "./image_options.ts";
import { openImageAt, openSource } from "./open_source.ts";
import { tempDirOf } from "./work_dir.ts";
import { UsageError } from "../errors.ts";
import type { Source } from "../source.ts";
import { openDirSource } from "../backupdir/source.ts";
import { openChainSource } from "../delta/chain_source.ts";

/** A chain opened for copy-back. */
export type ChainSource = Source & { readonly kind: "chain" };

/** The chain of the options, or undefined when no incremental is given. */
export async function openChainOption(
  ctx: CommandContext,
  command: string,
): Promise<ChainSource | undefined> {
  const o = ctx.options;
  const dirs = o.incrementalBackupDir, images = o.incrementalBackupImage;
  if (dirs.length === 0 && images.length === 0) return undefined;
  if (dirs.length > 0 && images.length > 0) {
    throw new UsageError(
      "give the incrementals of a chain either all as --incremental-backup-dir or all as " +
        "--incremental-backup-image (their order between the two lists is not known)",
    );
  }
  const stdin = [o.backupImage, ...images].filter((x) => x === "-").length;
  if (stdin > 1) throw new UsageError("only one link of a chain can be read from stdin (-)");
  const links: Source[] = [];
  try {
    links.push(await openSource(ctx, command));
    for (const dir of dirs) {
      links.push(await openDirSource(dir, { manifest: "required" }));
    }
    if (images.length > 0) {
      const key = await keyForReading(o, ctx.report);
      for (const image of images) {
        links.push(await openImageAt(ctx, image, key, { spoolDir: tempDirOf(o) }));
      }
    }
    const chain = await openChainSource(links, tempDirOf(o));
    return Object.assign(chain, { kind: "chain" as const });
  } catch (err) {
    for (const l of links) await l.close().catch(() => {});
    throw err;
  }
}

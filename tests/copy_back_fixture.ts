/**
 * Shared fixture of the copy-back tests (this file holds no tests): take a backup
 * of a throwaway server with the backup command, and run copy-back in-process,
 * keeping its exit code or error, its log lines and its JSON summary.
 */
import { backupCommand } from "../lib/commands/backup.ts";
import { copyBackCommand } from "../lib/commands/copy_back.ts";
import type { Options } from "../lib/commands/options.ts";
import { exitCodeOf } from "../lib/errors.ts";
import type { ThrowawayServer } from "../scripts/throwaway_server.ts";
import { contextFor } from "./backup_fixture.ts";

/** Back up the tables of `srv` matching `include` into a fresh directory; returns it. */
export async function backupTo(srv: ThrowawayServer, include?: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ibvault-cb-" });
  const ctx = contextFor(srv, { backupDir: dir, force: true, includeTables: include });
  const code = await backupCommand.run(ctx);
  if (code !== 0) throw new Error(`backup failed: ${ctx.report.lines.join("\n")}`);
  return dir;
}

/** What one copy-back run did. */
export interface CopyBackRun {
  code: number;
  error?: Error;
  lines: string[];
  json: Record<string, unknown> | undefined;
}

/** Run copy-back against `srv` with these options (always with --json); `hook` may patch the context. */
export async function copyBack(
  srv: ThrowawayServer,
  options: Partial<Options>,
  hook?: (ctx: ReturnType<typeof contextFor>) => void,
): Promise<CopyBackRun> {
  const ctx = contextFor(srv, { json: true, ...options });
  hook?.(ctx);
  try {
    const code = await copyBackCommand.run(ctx);
    return { code, lines: ctx.report.lines, json: ctx.json[0] as Record<string, unknown> };
  } catch (err) {
    ctx.report.lines.push(`error: ${(err as Error).message}`);
    return {
      code: exitCodeOf(err),
      error: err as Error,
      lines: ctx.report.lines,
      json: ctx.json[0] as Record<string, unknown> | undefined,
    };
  }
}

/** `CHECKSUM TABLE` of one table (quoted name). */
export async function checksum(srv: ThrowawayServer, table: string): Promise<string> {
  const rows = await srv.query<{ Checksum: number | string }[]>(`CHECKSUM TABLE ${table}`);
  return String(rows[0].Checksum);
}

/** File names under `dir` (recursively), relative, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(rel ? `${dir}/${rel}` : dir)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(r);
      else out.push(r);
    }
  };
  await walk("");
  return out.sort();
}

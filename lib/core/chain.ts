/**
 * Backup identity and incremental chains: the manifest fields that tie a backup
 * to the one it continues (the shared contract: `id`, `kind`, `base`, `endLsn`),
 * the per-tablespace facts an incremental is judged against, and the rules of
 * issue 12 item 7 as pure functions: which files an incremental copies whole,
 * which as a page delta, and when a base or a link of a chain is refused.
 */
import { ChainError, CorruptionError } from "../errors.ts";
import { identityDifference, type ServerIdentity } from "./identity.ts";
import type { BinlogPosition, ChainFields, Manifest } from "./manifest.ts";

/** The manifest fields of backup identity and chains: part of {@link Manifest} (manifest.ts). */
export type { ChainFields } from "./manifest.ts";

/** How a tablespace file is carried by a backup. */
export type CopyKind = "whole" | "delta";

/** Per-tablespace facts a manifest records (TableRecord.tablespaces). */
export interface TablespaceRecord {
  /** Entry path of the `.ibd`, e.g. `db/t.ibd`. */
  file: string;
  spaceId: number;
  /** FSP_SPACE_FLAGS. */
  flags: number;
  /** Physical page size. */
  pageSize: number;
  /** Size of the file in bytes as backed up (under the lock). */
  size: number;
  /** Decimal LSN the file is consistent at (the backup's end LSN). */
  endLsn: string;
  /** `whole`: the `.ibd` is in the backup; `delta`: only `FILE.delta`, applied to the base's file. */
  copy: CopyKind;
  /** Why an incremental copied the file whole. */
  reason?: string;
  /** Pages carried by the delta(s) of this file. */
  deltaPages?: number;
  /** Pages of the hot copy that the locked delta replaced (minimum locking). */
  replacedPages?: number;
  /**
   * Pages at or above the start LSN that the locked pass left out: the hot pass
   * had read them intact and their LSN had not moved.
   */
  unchangedPages?: number;
}

/** What a tablespace looks like now, from its page 0 and size. */
export interface SpaceNow {
  spaceId: number;
  flags: number;
  pageSize: number;
  size: number;
}

/**
 * Item 7: a file is copied whole when it is new since the base, when its space
 * id, flags or page size changed (TRUNCATE, a copying ALTER, OPTIMIZE make a new
 * tablespace), or when it shrank; otherwise only its changed pages go.
 */
export function incrementalCopy(
  base: TablespaceRecord | undefined,
  now: SpaceNow,
): { copy: CopyKind; reason?: string } {
  if (!base) return { copy: "whole", reason: "new since the base" };
  if (base.spaceId !== now.spaceId) {
    return {
      copy: "whole",
      reason: `rebuilt since the base (space id ${base.spaceId} -> ${now.spaceId})`,
    };
  }
  if (base.flags !== now.flags) {
    return {
      copy: "whole",
      reason: `rebuilt since the base (flags ${base.flags} -> ${now.flags})`,
    };
  }
  if (base.pageSize !== now.pageSize) {
    return {
      copy: "whole",
      reason: `rebuilt since the base (page size ${base.pageSize} -> ${now.pageSize})`,
    };
  }
  if (now.size < base.size) {
    return { copy: "whole", reason: `shrank since the base (${base.size} -> ${now.size} bytes)` };
  }
  return { copy: "delta" };
}

/** A base as the incremental checks see it. */
export interface BaseFacts extends ChainFields {
  /** Where the base is (for messages). */
  where: string;
}

/**
 * Refuse a base before anything is locked: it must carry an id and an end LSN,
 * come from the same server's data (see identityDifference), and its end LSN must
 * not be above the server's current LSN (a re-initialised or restored data
 * directory whose log is behind the base). Throws ChainError.
 */
export function checkIncrementalBase(
  base: BaseFacts,
  identity: ServerIdentity,
  currentLsn: bigint,
): bigint {
  if (!base.id || !base.endLsn || !/^\d+$/.test(base.endLsn)) {
    throw new ChainError(
      `${base.where}: the base has no backup id or end LSN (made by an older ibvault?): ` +
        `take a full backup first`,
    );
  }
  if (!base.identity) {
    throw new ChainError(`${base.where}: the base does not record which server it came from`);
  }
  const diff = identityDifference(base.identity, identity);
  if (diff) {
    throw new ChainError(
      `${base.where}: the base was taken from another server (${diff}): take a full backup of this one`,
    );
  }
  const end = BigInt(base.endLsn);
  if (end > currentLsn) {
    throw new ChainError(
      `${base.where}: the base ends at LSN ${end}, beyond this server's current LSN ${currentLsn} ` +
        `(a re-initialised or restored data directory): take a full backup`,
    );
  }
  return end;
}

/**
 * Check that `next` continues `prev` in a chain: its base id and end LSN are
 * `prev`'s. `whereNext` names the incremental in the message. Throws ChainError.
 */
export function checkLink(
  prev: ChainFields & { where: string },
  next: ChainFields & { where: string },
): void {
  if (next.kind !== "incremental" || !next.base) {
    throw new ChainError(`${next.where} is not an incremental backup`);
  }
  if (next.base.id !== prev.id || next.base.endLsn !== prev.endLsn) {
    throw new ChainError(
      `${next.where} does not continue ${prev.where}: it was taken on backup ${next.base.id} ` +
        `(end LSN ${next.base.endLsn}), not on ${prev.id ?? "(no id)"} (end LSN ${
          prev.endLsn ?? "?"
        }); ` +
        `give the incrementals in the order they were taken, starting from their full backup`,
    );
  }
}

/** Name of the last entry of a page-LSN image: what the backup's end says (see BackupEnd). */
export const BACKUP_END_FILE = "ibvault_backup_end.json";

/**
 * What is known only when a page-LSN backup ends (after UNLOCK TABLES): an image's
 * manifest is written first, so its last entry carries these; a directory's
 * manifest, written last, holds them itself.
 */
export interface BackupEnd {
  id: string;
  endLsn: string;
  startLsn: string;
  lockSeconds: number;
  deltaBytes: number;
  tables: { database: string; name: string; tablespaces: TablespaceRecord[] }[];
  /** The binary log position read under the lock (whole-database backups). */
  binlog?: BinlogPosition;
}

/** The path of the file a delta entry applies to, or undefined if `path` is not a delta. */
export function deltaTarget(path: string): string | undefined {
  return path.endsWith(".ibd.delta") ? path.slice(0, -".delta".length) : undefined;
}

/**
 * The manifest completed with what the backup's end says: end LSN, start LSN, lock
 * time, per TTS table its tablespaces (tables the end does not name, such as
 * logical ones, are left as they are), and the binlog position when recorded.
 */
export function finalManifest(m: Manifest, end: BackupEnd): Manifest {
  const byTable = new Map(end.tables.map((t) => [`${t.database}\0${t.name}`, t.tablespaces]));
  return {
    ...m,
    endLsn: end.endLsn,
    startLsn: end.startLsn,
    lockSeconds: end.lockSeconds,
    deltaBytes: end.deltaBytes,
    ...(end.binlog ? { binlog: end.binlog } : {}),
    tables: m.tables.map((t) => {
      const spaces = byTable.get(`${t.database}\0${t.name}`);
      return spaces ? { ...t, tablespaces: spaces } : t;
    }),
  } as Manifest;
}

/** Parse the content of an `ibvault_backup_end.json` entry; CorruptionError naming `where`. */
export function parseBackupEnd(parts: Uint8Array[], where: string): BackupEnd {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  try {
    const end = JSON.parse(new TextDecoder().decode(all)) as BackupEnd;
    if (typeof end?.endLsn !== "string" || !Array.isArray(end.tables)) {
      throw new Error("fields missing");
    }
    const b = end.binlog as unknown;
    if (b !== undefined && (typeof b !== "object" || b === null || Array.isArray(b))) {
      throw new Error("binlog is not an object");
    }
    return end;
  } catch (err) {
    throw new CorruptionError(
      `${where}: ${BACKUP_END_FILE} is unreadable: ${(err as Error).message}`,
    );
  }
}

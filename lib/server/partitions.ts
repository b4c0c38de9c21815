/**
 * Restoring partitioned InnoDB tables from their per-partition tablespaces.
 *
 * MariaDB cannot DISCARD or IMPORT the tablespace of a partitioned table, so each
 * (sub)partition goes through a staging table: `CREATE TABLE stage LIKE t`,
 * `ALTER TABLE stage REMOVE PARTITIONING`, DISCARD, the partition's `.ibd`
 * (`t#P#p0.ibd`, subpartitions `t#P#p0#SP#p0sp0.ibd`) and `.cfg` placed as the
 * stage's files, IMPORT, then `ALTER TABLE t EXCHANGE PARTITION p WITH TABLE
 * stage` (subpartitions are exchanged by their own name) and DROP of the stage.
 * MySQL 8 imports a partition in place: `ALTER TABLE t DISCARD PARTITION p
 * TABLESPACE`, the files placed under the partition's own name (`t#p#p0.ibd`),
 * `ALTER TABLE t IMPORT PARTITION p TABLESPACE` (from the MySQL manual; not
 * tested against MySQL).
 *
 * A partition that receives rows must be empty first (the exchange would
 * otherwise hand its rows to the stage, which is dropped): checked, and refused
 * unless `force`, which replaces them.
 */
import { stat, unlink } from "node:fs/promises";
import type { Connection } from "mysql2/promise";
import { ServerError, UsageError } from "../errors.ts";
import { encodeFilename } from "../names/filename.ts";
import { quoteIdentifier, quoteTable } from "../names/quote.ts";
import { driverMessage, type Flavor, queryRows } from "./facts.ts";
import { placeFile } from "./import.ts";

/** One partition (or subpartition) of a backup: its label and its staged files. */
export interface PartitionFiles {
  /** `p0`, or `p0/p0sp0` for a subpartition (the form table selection uses). */
  label: string;
  /** Absolute path of the staged `.ibd`. */
  ibd: string;
  /** Absolute path of the staged `.cfg`, when the backup has one. */
  cfg?: string;
}

/** The name EXCHANGE/DISCARD PARTITION takes for a label: the subpartition's, else the partition's. */
export function partitionSqlName(label: string): string {
  const slash = label.indexOf("/");
  return slash < 0 ? label : label.slice(slash + 1);
}

/**
 * The partition label of an entry path: `db/t#P#p0.ibd` is `p0`,
 * `db/t#P#p0#SP#p0sp0.ibd` is `p0/p0sp0` (MySQL's lowercase `#p#`/`#sp#` too);
 * undefined when the path is not a partition's. Names are decoded from the
 * filename encoding by `decode`.
 */
export function partitionLabel(path: string, decode: (s: string) => string): string | undefined {
  const m = /#[pP]#([^#/]+?)(?:#(?:SP|sp)#([^#/]+?))?\.(?:ibd|cfg)$/.exec(path);
  if (!m) return undefined;
  return m[2] === undefined ? decode(m[1]) : `${decode(m[1])}/${decode(m[2])}`;
}

/**
 * Select partitions by `--include-partitions=REGEX`: a label matches when the
 * expression matches the partition name, the subpartition name, or `p/sp`.
 * Throws UsageError for an invalid expression.
 */
export function partitionFilter(source: string | undefined): (label: string) => boolean {
  if (source === undefined) return () => true;
  let re: RegExp;
  try {
    re = new RegExp(source, "u");
  } catch (err) {
    throw new UsageError(
      `--include-partitions=${JSON.stringify(source)}: invalid regular expression: ${
        (err as Error).message
      }`,
    );
  }
  return (label) => {
    const [p, sp] = label.split("/");
    return re.test(label) || re.test(p) || (sp !== undefined && re.test(sp));
  };
}

/** What {@link importPartitions} needs. */
export interface PartitionImportRequest {
  conn: Connection;
  flavor: Flavor;
  datadir: string;
  /** The partitioned table receiving the partitions (it exists). */
  database: string;
  table: string;
  partitions: PartitionFiles[];
  /** Replace rows a receiving partition already holds. */
  force?: boolean;
  signal?: AbortSignal;
  onStep?: (step: string) => void;
}

async function ownerOf(path: string): Promise<{ uid: number; gid: number; mode: number }> {
  const st = await stat(path);
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o666 };
}

/** Rows a partition holds now. */
async function partitionRows(conn: Connection, name: string, partition: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    conn,
    `SELECT COUNT(*) AS n FROM ${name} PARTITION (${quoteIdentifier(partition)})`,
  );
  return Number(row?.n ?? 0);
}

/**
 * Check that every receiving partition exists in the target table and is empty
 * (unless `force`); returns the problems, naming table and partition.
 */
export async function checkPartitions(
  conn: Connection,
  database: string,
  table: string,
  labels: string[],
  force: boolean,
): Promise<string[]> {
  const name = quoteTable(database, table);
  const rows = await queryRows<{ p: string; sp: string | null }>(
    conn,
    "SELECT PARTITION_NAME AS p, SUBPARTITION_NAME AS sp FROM information_schema.PARTITIONS " +
      "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
    [database, table],
  );
  const have = new Set(rows.map((r) => r.sp === null ? String(r.p) : `${r.p}/${r.sp}`));
  const problems: string[] = [];
  for (const label of labels) {
    if (!have.has(label)) {
      problems.push(`${name} has no partition ${label} (is it partitioned as in the backup?)`);
      continue;
    }
    const n = await partitionRows(conn, name, partitionSqlName(label));
    if (n > 0 && !force) {
      problems.push(
        `${name} partition ${label} holds ${n} row(s); a restored partition replaces its rows: ` +
          "empty it first, or --force to replace them",
      );
    }
  }
  return problems;
}

/**
 * Import each partition's files into the existing partitioned table (see the
 * module documentation). A failure drops the stage table and removes the placed
 * files; partitions exchanged before it stay restored, and the error names the
 * partition that failed.
 */
export async function importPartitions(req: PartitionImportRequest): Promise<string[]> {
  const warnings: string[] = [];
  for (const p of req.partitions) {
    req.signal?.throwIfAborted();
    if (req.flavor === "mysql") await importPartitionMysql(req, p);
    else warnings.push(...await importPartitionMariadb(req, p));
  }
  return warnings;
}

async function importPartitionMariadb(
  req: PartitionImportRequest,
  p: PartitionFiles,
): Promise<string[]> {
  const { conn } = req;
  const target = quoteTable(req.database, req.table);
  const stageName = `#ibvault-${crypto.randomUUID().slice(0, 8)}`;
  const stage = quoteTable(req.database, stageName);
  const stem = `${req.datadir}/${encodeFilename(req.database)}/${encodeFilename(stageName)}`;
  const placed: string[] = [];
  let created = false;
  let step = "";
  const begin = (s: string) => {
    req.signal?.throwIfAborted();
    step = s;
    req.onStep?.(`partition ${p.label}: ${s}`);
  };
  try {
    begin("stage");
    await queryRows(conn, `CREATE TABLE ${stage} LIKE ${target}`);
    created = true;
    await queryRows(conn, `ALTER TABLE ${stage} REMOVE PARTITIONING`);
    const owner = await ownerOf(`${stem}.ibd`);
    begin("discard");
    await queryRows(conn, `ALTER TABLE ${stage} DISCARD TABLESPACE`);
    begin("place");
    await placeFile(p.ibd, `${stem}.ibd`, owner);
    placed.push(`${stem}.ibd`);
    if (p.cfg) {
      await placeFile(p.cfg, `${stem}.cfg`, owner);
      placed.push(`${stem}.cfg`);
    }
    begin("import");
    await queryRows(conn, `ALTER TABLE ${stage} IMPORT TABLESPACE`);
    const warnings = (await queryRows<{ Level: string; Message: string }>(conn, "SHOW WARNINGS"))
      .map((w) => `partition ${p.label}: ${w.Level}: ${w.Message}`);
    await unlink(`${stem}.cfg`).catch(() => {});
    begin("exchange");
    await queryRows(
      conn,
      `ALTER TABLE ${target} EXCHANGE PARTITION ${
        quoteIdentifier(partitionSqlName(p.label))
      } WITH TABLE ${stage}`,
    );
    begin("drop stage");
    await queryRows(conn, `DROP TABLE ${stage}`);
    created = false;
    return warnings;
  } catch (err) {
    const left: string[] = [];
    if (created) {
      await queryRows(conn, `DROP TABLE IF EXISTS ${stage}`).catch(() =>
        left.push(`table ${stage}`)
      );
    }
    for (const f of placed) {
      await unlink(f).catch((e) => {
        if ((e as { code?: string }).code !== "ENOENT") left.push(`file ${f}`);
      });
    }
    throw new ServerError(
      `${target} partition ${p.label}: ${step} failed: ${driverMessage(err)}` +
        (left.length ? `; left behind: ${left.join(", ")}` : ""),
      { cause: err },
    );
  }
}

/** MySQL 8: DISCARD/IMPORT PARTITION in place (not tested against MySQL). */
async function importPartitionMysql(req: PartitionImportRequest, p: PartitionFiles): Promise<void> {
  const { conn } = req;
  const target = quoteTable(req.database, req.table);
  const [part, sub] = p.label.split("/");
  let stem = `${req.datadir}/${encodeFilename(req.database)}/${encodeFilename(req.table)}#p#` +
    encodeFilename(part);
  if (sub !== undefined) stem += `#sp#${encodeFilename(sub)}`;
  const name = quoteIdentifier(partitionSqlName(p.label));
  try {
    const owner = await ownerOf(`${stem}.ibd`);
    await queryRows(conn, `ALTER TABLE ${target} DISCARD PARTITION ${name} TABLESPACE`);
    await placeFile(p.ibd, `${stem}.ibd`, owner);
    if (p.cfg) await placeFile(p.cfg, `${stem}.cfg`, owner);
    await queryRows(conn, `ALTER TABLE ${target} IMPORT PARTITION ${name} TABLESPACE`);
    await unlink(`${stem}.cfg`).catch(() => {});
  } catch (err) {
    throw new ServerError(
      `${target} partition ${p.label}: DISCARD/IMPORT PARTITION failed: ${driverMessage(err)}`,
      { cause: err },
    );
  }
}

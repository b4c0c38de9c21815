/**
 * The manifest: what a backup holds. The same JSON document sits in a backup
 * directory (`ibvault_manifest.json`, written last, so its presence means the
 * backup is complete) and inside an image (as its first record).
 */

/** File name of the manifest inside a backup directory. */
export const MANIFEST_FILE = "ibvault_manifest.json";

/** Facts about the server a backup was taken from. */
export interface ServerFacts {
  flavor: "mariadb" | "mysql";
  /** `SELECT VERSION()`, e.g. `10.11.6-MariaDB-0+deb12u1`. */
  version: string;
  /** innodb_page_size in bytes. */
  pageSize: number;
  /** innodb_checksum_algorithm as the server reports it (crc32, full_crc32, strict_crc32, ...). */
  checksumAlgorithm: string;
  lowerCaseTableNames: number;
  /** Anything else recorded (datadir, innodb_file_per_table, ...). */
  [key: string]: unknown;
}

/** A database of the backup, with what recreates it. */
export interface DatabaseRecord {
  /** Unicode name. */
  name: string;
  /** Filename-encoded directory name. */
  dir: string;
  /** `SHOW CREATE DATABASE` output. */
  createStatement: string;
}

/** A table of the backup. */
export interface TableRecord {
  database: string;
  name: string;
  engine: string;
  rowFormat?: string;
  /** `SHOW CREATE TABLE` output. */
  createStatement: string;
  /** Entry paths of its files (`.ibd`, `.cfg`, partitions), relative to the backup root. */
  files: string[];
}

/** One file of the backup with what proves it whole. */
export interface EntryRecord {
  path: string;
  size: number;
  /** CRC-32C of the whole content, 8 lowercase hex digits. */
  crc32c: string;
}

/** The manifest document. */
export interface Manifest {
  format: "ibvault-manifest";
  version: 1;
  tool: { name: "ibvault"; version: string };
  createdAt: string;
  /** Absent for a directory imaged as plain files. */
  server?: ServerFacts;
  /** Options the backup was taken with (never keys or passwords). */
  options: Record<string, unknown>;
  databases: DatabaseRecord[];
  tables: TableRecord[];
  entries: EntryRecord[];
}

/**
 * The identity of a server's data, which an incremental chain is tied to: an
 * incremental is only meaningful against a base taken from the same data
 * directory, so the page LSNs of both come from one redo-log history.
 *
 * Recorded: the flavour, `@@server_id`, `@@hostname`, the data directory path,
 * MySQL's `@@server_uuid` (kept in the data directory's auto.cnf; MariaDB has no
 * equivalent: its `server_uid` is a hash of host name and port), and `datadirId`:
 * the inode and birth time of the InnoDB system tablespace file (`ibdata1`),
 * which `mariadb-install-db`/`mysqld --initialize` create once and InnoDB only
 * ever rewrites in place. A re-initialised or copied data directory gets a new
 * one. See {@link sameServer} for how two identities are compared.
 */
import { stat } from "node:fs/promises";
import type { Connection } from "mysql2/promise";
import type { ServerFacts } from "../core/manifest.ts";
import { queryRows } from "./facts.ts";
import type { ServerIdentity } from "../core/identity.ts";

export type { ServerIdentity };

/** The system tablespace's first file under the data directory. */
function systemTablespaceFile(datadir: string, dataFilePath: string, homeDir: string): string {
  const first = (dataFilePath.split(";")[0] ?? "ibdata1").split(":")[0] || "ibdata1";
  if (first.startsWith("/")) return first;
  const home = homeDir ? (homeDir.startsWith("/") ? homeDir : `${datadir}/${homeDir}`) : datadir;
  return `${home.replace(/\/+$/, "")}/${first}`;
}

/** Read the identity of the connected server (`facts.datadir` is where its files are). */
export async function readServerIdentity(
  conn: Connection,
  facts: ServerFacts,
): Promise<ServerIdentity> {
  const rows = await queryRows<Record<string, unknown>>(
    conn,
    "SELECT @@server_id AS id, @@hostname AS host, @@innodb_data_file_path AS path, " +
      "@@innodb_data_home_dir AS home",
  );
  const r = rows[0] ?? {};
  const datadir = facts.datadir;
  const id: ServerIdentity = {
    flavor: facts.flavor,
    serverId: Number(r.id ?? 0),
    hostname: String(r.host ?? ""),
    datadir,
  };
  if (facts.flavor === "mysql") {
    const u = await queryRows<{ u: string }>(conn, "SELECT @@server_uuid AS u");
    if (u[0]?.u) id.serverUuid = String(u[0].u);
  }
  try {
    const st = await stat(
      systemTablespaceFile(datadir, String(r.path ?? ""), String(r.home ?? "")),
    );
    id.datadirId = `${st.ino}:${Math.round(st.birthtimeMs || st.ctimeMs)}`;
  } catch {
    // unreadable: the other fields and the LSN check still protect the chain
  }
  return id;
}

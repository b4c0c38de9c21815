/**
 * The identity of a server's data, which an incremental chain is tied to (see
 * lib/server/identity.ts for how it is read), and how two identities compare.
 */

/** Who a backup was taken from, as a manifest records it (`server.identity`). */
export interface ServerIdentity {
  flavor: "mariadb" | "mysql";
  serverId: number;
  hostname: string;
  datadir: string;
  /** MySQL's @@server_uuid. */
  serverUuid?: string;
  /** `ino:birthtimeMs` of the system tablespace file, when it can be read. */
  datadirId?: string;
}

/**
 * Whether two identities are the same server's data: same flavour and server id,
 * and the same server uuid and data directory id wherever both sides have one.
 * Returns the first difference as a phrase, or undefined when they agree. Host
 * name and path are not compared (a renamed host or a moved mount keeps its data).
 */
export function identityDifference(a: ServerIdentity, b: ServerIdentity): string | undefined {
  if (a.flavor !== b.flavor) return `flavour ${a.flavor} vs ${b.flavor}`;
  if (a.serverUuid && b.serverUuid && a.serverUuid !== b.serverUuid) {
    return `server_uuid ${a.serverUuid} vs ${b.serverUuid}`;
  }
  if (a.datadirId && b.datadirId && a.datadirId !== b.datadirId) {
    return `data directory ${a.datadir} (system tablespace ${a.datadirId}) vs ${b.datadir} ` +
      `(${b.datadirId}): another or a re-initialised data directory`;
  }
  if (a.serverId !== b.serverId) return `server_id ${a.serverId} vs ${b.serverId}`;
  return undefined;
}

/**
 * Monitoring plugin conventions (Nagios / Icinga / Sensu / Zabbix external
 * checks): one status line first, `SERVICE STATE - text | perfdata`, more lines
 * after it, and the exit code 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 */

/** Plugin states by exit code. */
export const STATES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const;
/** A plugin state name. */
export type State = typeof STATES[number];

/** Exit code of a state. */
export function codeOf(state: State): number {
  return STATES.indexOf(state);
}

/** The worse of two states (UNKNOWN ranks between WARNING and CRITICAL, as Icinga orders). */
export function worse(a: State, b: State): State {
  const rank = (s: State) => ({ OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3 })[s];
  return rank(b) > rank(a) ? b : a;
}

/** One perfdata value: `label=valueUOM`. */
export interface Perf {
  label: string;
  value: number;
  /** `s`, `B`, `` (a count). */
  uom: string;
}

/** The status line: `IBVAULT STATE - text | a=1s b=2B`. Pipes in `text` are replaced. */
export function statusLine(state: State, text: string, perf: Perf[] = []): string {
  const clean = text.replaceAll("|", "/").replaceAll("\n", " ");
  const data = perf.map((p) => `${p.label}=${Math.round(p.value)}${p.uom}`).join(" ");
  return `IBVAULT ${state} - ${clean}${data ? ` | ${data}` : ""}`;
}

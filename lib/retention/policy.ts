/**
 * The retention policy of `purge-backups`, restic `forget` semantics, pure (no
 * I/O): a backup is kept if any rule keeps it. Rules, over backups newest first:
 * `last` keeps the N newest; `daily`/`weekly`/`monthly` keep the newest backup of
 * each of the N most recent days / ISO weeks / months that have one; `withinMs`
 * keeps every backup taken within that span before the newest backup (restic
 * measures from the newest backup, not from now). Then, whatever the rules say:
 * the newest sound backup is kept, the base of every kept incremental is kept
 * (transitively: a chain is kept whole). Rules count sound backups only; an
 * unsound one goes only when a newer sound backup exists, and nothing goes when
 * the root holds no sound backup at all.
 */

/** What the policy needs to know of one backup. */
export interface PolicyInput {
  name: string;
  createdAt: Date;
  id?: string;
  kind: "full" | "incremental";
  baseId?: string;
  /** Undefined when sound; otherwise why not (it cannot be "the newest sound backup"). */
  problem?: string;
}

/** The rules; each absent or 0 means "not used". */
export interface Policy {
  last?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  withinMs?: number;
  /** Buckets in UTC instead of local time (tests). */
  utc?: boolean;
}

/** The verdict on one backup. */
export interface Decision<T extends PolicyInput = PolicyInput> {
  backup: T;
  keep: boolean;
  /** Why it is kept (every rule that keeps it), or why it goes. */
  reasons: string[];
}

/** True when the policy has at least one rule. */
export function hasRule(p: Policy): boolean {
  return Boolean(p.last || p.daily || p.weekly || p.monthly || p.withinMs);
}

const pad = (n: number) => String(n).padStart(2, "0");

/** ISO 8601 week of a calendar date: `2026-W48`. */
function isoWeek(y: number, m: number, d: number): string {
  const t = new Date(Date.UTC(y, m, d));
  const day = (t.getUTCDay() + 6) % 7; // Monday 0
  t.setUTCDate(t.getUTCDate() - day + 3); // the Thursday of this week decides the year
  const year = t.getUTCFullYear();
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const week = 1 + Math.round(
    ((t.getTime() - jan4.getTime()) / 86_400_000 - 3 +
      ((jan4.getUTCDay() + 6) % 7)) / 7,
  );
  return `${year}-W${pad(week)}`;
}

/** The bucket keys of a date: day, ISO week, month. */
export function buckets(date: Date, utc = false): { day: string; week: string; month: string } {
  const y = utc ? date.getUTCFullYear() : date.getFullYear();
  const m = utc ? date.getUTCMonth() : date.getMonth();
  const d = utc ? date.getUTCDate() : date.getDate();
  return {
    day: `${y}-${pad(m + 1)}-${pad(d)}`,
    week: isoWeek(y, m, d),
    month: `${y}-${pad(m + 1)}`,
  };
}

/**
 * Decide for every backup (any order in, newest first out). Backups without a
 * chain `id` cannot be a base; an incremental whose base is not among `backups`
 * is kept or not by the rules, and its reasons say the base is missing.
 */
export function applyPolicy<T extends PolicyInput>(
  backups: readonly T[],
  policy: Policy,
): Decision<T>[] {
  const sorted = [...backups].sort((a, b) =>
    b.createdAt.getTime() - a.createdAt.getTime() || (a.name < b.name ? 1 : -1)
  );
  const out: Decision<T>[] = sorted.map((backup) => ({ backup, keep: false, reasons: [] }));
  const keep = (d: Decision<T>, why: string) => {
    d.keep = true;
    d.reasons.push(why);
  };
  const sound = out.filter((d) => !d.backup.problem);
  // Rules count sound backups only: a damaged backup must not use up a slot.
  sound.forEach((d, i) => {
    if (policy.last && i < policy.last) keep(d, `keep-last ${policy.last} (#${i + 1})`);
  });
  for (
    const [rule, key, n] of [
      ["keep-daily", "day", policy.daily],
      ["keep-weekly", "week", policy.weekly],
      ["keep-monthly", "month", policy.monthly],
    ] as const
  ) {
    if (!n) continue;
    const seen = new Set<string>();
    for (const d of sound) {
      const b = buckets(d.backup.createdAt, policy.utc)[key];
      if (seen.has(b) || seen.size >= n) continue;
      seen.add(b);
      keep(d, `${rule} ${n} (${b})`);
    }
  }
  if (policy.withinMs && sound.length) {
    const newest = sound[0].backup.createdAt.getTime();
    for (const d of sound) {
      if (newest - d.backup.createdAt.getTime() <= policy.withinMs) {
        keep(d, `keep-within (taken within ${Math.round(policy.withinMs / 1000)}s of the newest)`);
      }
    }
  }
  if (sound.length) keep(sound[0], "newest sound backup (always kept)");
  // Chains: the base of a kept incremental is kept, up to its full backup.
  const byId = new Map<string, Decision<T>>();
  for (const d of out) if (d.backup.id) byId.set(d.backup.id, d);
  const work = out.filter((d) => d.keep);
  while (work.length) {
    const d = work.pop()!;
    if (d.backup.kind !== "incremental") continue;
    const base = d.backup.baseId ? byId.get(d.backup.baseId) : undefined;
    if (!base) {
      d.reasons.push(`its base ${d.backup.baseId ?? "(not recorded)"} is not in this root`);
      continue;
    }
    const wasKept = base.keep;
    keep(base, `base of kept incremental ${d.backup.name}`);
    if (!wasKept) work.push(base);
  }
  for (const d of out) {
    if (d.keep) continue;
    if (d.backup.problem) {
      d.reasons.push(`not sound (${d.backup.problem}) and a newer sound backup exists`);
    } else d.reasons.push("no rule keeps it");
  }
  // An unsound backup newer than every sound one is left: it may be the one in question.
  const newestSound = sound[0]?.backup.createdAt.getTime() ?? Infinity;
  for (const d of out) {
    if (!d.keep && d.backup.problem && d.backup.createdAt.getTime() > newestSound) {
      d.keep = true;
      d.reasons = [
        `not sound (${d.backup.problem}), newer than every sound backup: left for a look`,
      ];
    }
  }
  if (!sound.length) {
    for (const d of out) {
      if (!d.keep) {
        d.keep = true;
        d.reasons = [`no sound backup in the root: nothing is deleted`];
      }
    }
  }
  return out;
}

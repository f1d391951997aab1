// Who answers ARP for one IP, probe by probe: bench/arp-who-has.ts in the client's
// namespace broadcasts "who has IP" at a fixed interval and records every reply with
// the MAC it came from; a reply belongs to the last request sent before it arrived, so
// several replies to one request are several nodes answering, and none is nobody. Pure:
// the times come from the prober. Issue 11 item 3: "exactly one node answers ARP/NDP for
// each IP". (Debian's arping cannot tell these apart: its "index" counts replies, not
// requests.)

export interface Probe {
  readonly index: number;
  /** When the request went out, ms. */
  readonly at: number;
  /** The MACs that answered it, lower case, sorted; none when nobody did. */
  readonly macs: readonly string[];
}

/** Each request's answerers: replies are attributed to the last request sent at or before them. */
export function probesFrom(sentAt: readonly number[], replies: readonly { readonly at: number; readonly mac: string }[]): Probe[] {
  const macs = sentAt.map(() => new Set<string>());
  for (const r of replies) {
    // The last request at or before the reply (sentAt is increasing).
    let lo = 0;
    let hi = sentAt.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sentAt[mid]! <= r.at) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found >= 0) macs[found]!.add(r.mac.toLowerCase());
  }
  return sentAt.map((at, index) => ({ index, at, macs: [...macs[index]!].sort() }));
}

export interface AnnouncerSummary {
  readonly probes: number;
  readonly one: number;
  readonly none: number;
  readonly several: number;
  /** Longest run of probes answered by several nodes, ms from its first probe to the next probe with one or none. */
  readonly longestSeveralMs: number;
  /** Longest run of unanswered probes, ms, measured the same way. */
  readonly longestNoneMs: number;
  /** Times the single answerer changed from one probe answered by one to the next. */
  readonly moves: number;
}

/** Longest run of consecutive probes for which `holds` is true; a run open at the end lasts to the last probe. */
function longestRun(probes: readonly Probe[], holds: (p: Probe) => boolean): number {
  let longest = 0;
  let start: number | undefined;
  for (const p of probes) {
    if (holds(p) && start === undefined) start = p.at;
    if (!holds(p) && start !== undefined) {
      longest = Math.max(longest, p.at - start);
      start = undefined;
    }
  }
  if (start !== undefined) longest = Math.max(longest, probes.at(-1)!.at - start);
  return longest;
}

export function summarize(probes: readonly Probe[]): AnnouncerSummary {
  let moves = 0;
  let previous: string | undefined;
  for (const p of probes) {
    if (p.macs.length !== 1) continue;
    if (previous !== undefined && p.macs[0] !== previous) moves++;
    previous = p.macs[0];
  }
  return {
    probes: probes.length,
    one: probes.filter((p) => p.macs.length === 1).length,
    none: probes.filter((p) => p.macs.length === 0).length,
    several: probes.filter((p) => p.macs.length > 1).length,
    longestSeveralMs: longestRun(probes, (p) => p.macs.length > 1),
    longestNoneMs: longestRun(probes, (p) => p.macs.length === 0),
    moves,
  };
}

/** The runs of probes not answered by exactly one node: when each began (ms after the first probe), how long, and who answered. */
export function irregularRuns(probes: readonly Probe[]): { fromMs: number; ms: number; macs: string[] }[] {
  const out: { fromMs: number; ms: number; macs: string[] }[] = [];
  const t0 = probes[0]?.at ?? 0;
  let run: { start: number; macs: Set<string> } | undefined;
  for (const p of probes) {
    const odd = p.macs.length !== 1;
    if (odd && !run) run = { start: p.at, macs: new Set() };
    if (odd) for (const m of p.macs) run!.macs.add(m);
    if (!odd && run) {
      out.push({ fromMs: run.start - t0, ms: p.at - run.start, macs: [...run.macs].sort() });
      run = undefined;
    }
  }
  if (run) out.push({ fromMs: run.start - t0, ms: probes.at(-1)!.at - run.start, macs: [...run.macs].sort() });
  return out;
}

// Who answers ARP for one IP, probe by probe, read from the output of the client's
// `arping -W INTERVAL -c N IP` (Thomas Habets' arping, Debian's package): each reply is
// "42 bytes from MAC (IP): index=K time=...", several lines with one index when several
// nodes answer one request, and "Timeout" for a request nobody answered (printed when
// the next one goes out). Pure: the benchmark gives it each line with the time it
// arrived. Issue 11 item 3: "exactly one node answers ARP/NDP for each IP".

export interface Probe {
  readonly index: number;
  /** When its first line arrived, ms. */
  readonly at: number;
  /** The MACs that answered it, lower case; none for a timeout. */
  readonly macs: readonly string[];
}

/** The probes of an arping run, in order, from its lines. */
export function probesOf(lines: readonly { readonly text: string; readonly at: number }[]): Probe[] {
  const byIndex = new Map<number, { at: number; macs: Set<string> }>();
  let last = -1;
  for (const { text, at } of lines) {
    const reply = /bytes from ([0-9a-f]{2}(?::[0-9a-f]{2}){5}) \([^)]*\): index=(\d+)/i.exec(text);
    if (reply) {
      const index = Number(reply[2]);
      const p = byIndex.get(index) ?? { at, macs: new Set<string>() };
      p.macs.add(reply[1]!.toLowerCase());
      byIndex.set(index, p);
      last = Math.max(last, index);
    } else if (/^Timeout\b/.test(text.trim())) {
      last++;
      if (!byIndex.has(last)) byIndex.set(last, { at, macs: new Set() });
    }
  }
  return [...byIndex].sort(([a], [b]) => a - b).map(([index, p]) => ({ index, at: p.at, macs: [...p.macs].sort() }));
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

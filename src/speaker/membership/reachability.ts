// What a speaker tells the cluster about the others: the peers its membership does not
// hear, and since when. A dead speaker cannot say it is dead, and its ConfigurationState
// and ServiceL2Status objects keep looking alive; the live speakers' reports are what
// lets `ferrolb doctor` and `ferrolb status` tell it apart (docs/L2.md "A dead speaker is
// visible"). Written on change only, after the failover decision, so the API server is
// never in the failover path. Pure.

export interface Unreachable {
  readonly node: string;
  /** ms since the epoch: when this speaker stopped hearing it (or settled without hearing it). */
  readonly since: number;
}

/**
 * The peers (nodes other than `self`) missing from `live`, keeping the `since` of those
 * already missing in `previous`; in node-name order.
 */
export function unreachablePeers(self: string, peers: Iterable<string>, live: ReadonlySet<string>, previous: readonly Unreachable[], now: number): Unreachable[] {
  const before = new Map(previous.map((u) => [u.node, u.since]));
  const out: Unreachable[] = [];
  for (const node of new Set(peers)) {
    if (node === self || live.has(node)) continue;
    out.push({ node, since: before.get(node) ?? now });
  }
  return out.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

export function sameUnreachable(a: readonly Unreachable[], b: readonly Unreachable[]): boolean {
  return a.length === b.length && a.every((u, i) => u.node === b[i]!.node && u.since === b[i]!.since);
}

// The condition's message: "node-2 since 2026-12-01T23:40:00Z, node-3 since ...". One
// format, written here and read by src/inspect (parseUnreachable).
const MAX_LISTED = 50;

export function formatUnreachable(list: readonly Unreachable[]): string {
  const shown = list.slice(0, MAX_LISTED).map((u) => `${u.node} since ${new Date(u.since).toISOString().replace(/\.\d+Z$/, 'Z')}`);
  if (list.length > MAX_LISTED) shown.push(`and ${list.length - MAX_LISTED} more`);
  return shown.join(', ');
}

export function parseUnreachable(message: string): Unreachable[] {
  const out: Unreachable[] = [];
  for (const m of message.matchAll(/([^\s,]+) since (\S+?)(?:,|$)/g)) {
    const since = Date.parse(m[2]!);
    if (!Number.isNaN(since)) out.push({ node: m[1]!, since });
  }
  return out;
}

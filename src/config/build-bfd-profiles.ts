// BFDProfile objects (RFC 5880 timers, as MetalLB's CRD defaults them), and the check
// that echo mode is asked for only where it can work.
import { parseIP } from '../net/ip.ts';
import type { BFDProfile, BGPPeer } from './model.ts';
import type { Entry, ErrorCollector } from './collector.ts';
import type { BGPAdvertisementFacts } from './build-advertisements.ts';
import { asBoolean, asInteger } from './raw.ts';

// MetalLB's CRD defaults.
const BFD_DEFAULTS = { receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3, echoInterval: 50, minimumTtl: 254 };

/** Every profile with its defaults filled in; the schema has checked the ranges. */
export function buildBFDProfiles(entries: readonly Entry[]): BFDProfile[] {
  const bfdProfiles: BFDProfile[] = [];
  for (const e of entries) {
    const s = e.spec;
    bfdProfiles.push({
      name: e.name,
      receiveInterval: asInteger(s.receiveInterval) ?? BFD_DEFAULTS.receiveInterval,
      transmitInterval: asInteger(s.transmitInterval) ?? BFD_DEFAULTS.transmitInterval,
      detectMultiplier: asInteger(s.detectMultiplier) ?? BFD_DEFAULTS.detectMultiplier,
      echoInterval: asInteger(s.echoInterval) ?? BFD_DEFAULTS.echoInterval,
      echoMode: asBoolean(s.echoMode) ?? false,
      passiveMode: asBoolean(s.passiveMode) ?? false,
      minimumTtl: asInteger(s.minimumTtl) ?? BFD_DEFAULTS.minimumTtl,
    });
  }
  return bfdProfiles;
}

/**
 * BFD echo mode carries IPv4 only. FRR's bfdd (and RFC 5880's echo function as
 * deployed) supports echo for IPv4 single-hop sessions only; a peer with an echo-mode
 * profile must neither be an IPv6 peer nor be sent an IPv6 pool.
 */
export function checkEchoMode(
  c: ErrorCollector,
  peers: readonly BGPPeer[],
  peerEntryByName: ReadonlyMap<string, Entry>,
  bfdByName: ReadonlyMap<string, BFDProfile>,
  bgpFacts: readonly BGPAdvertisementFacts[],
): void {
  for (const peer of peers) {
    const profile = peer.bfdProfile !== undefined ? bfdByName.get(peer.bfdProfile) : undefined;
    if (!profile?.echoMode) continue;
    const e = peerEntryByName.get(peer.name);
    if (!e) continue;
    if (peer.peerAddress !== undefined && parseIP(peer.peerAddress)?.family === 'IPv6') {
      c.fail(e, ['spec', 'bfdProfile'], 'EECHO', `BFDProfile ${profile.name} enables echoMode, which works with IPv4 only, and this peer is IPv6`);
      continue;
    }
    const v6 = bgpFacts
      .filter((f) => f.advertisement.peers.length === 0 || f.advertisement.peers.includes(peer.name))
      .flatMap((f) => f.pools.filter((p) => p.ranges.some((r) => r.family === 'IPv6')).map((p) => ({ f, p })))[0];
    if (v6) {
      c.fail(
        e,
        ['spec', 'bfdProfile'],
        'EECHO',
        `BFDProfile ${profile.name} enables echoMode, which works with IPv4 only, and BGPAdvertisement ${v6.f.entry.name} ` +
          `announces the IPv6 addresses of IPAddressPool ${v6.p.name} to this peer`,
      );
    }
  }
}

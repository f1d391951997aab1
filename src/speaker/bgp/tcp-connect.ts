// A BGP session's TCP connection, with what must be on the socket before the SYN and
// Node's net module cannot put there: the TTL (docs/BGP.md "TTL") and, for BGPPeers with
// a password, the TCP MD5 key (RFC 2385). The native addon (native/tcp_connect.c) sets
// them and connects; the connected descriptor becomes an ordinary net.Socket.
import { Socket } from 'node:net';
import { loadAddon } from '../../native/addon.ts';
import type { BGPPeer } from '../../config/model.ts';
import { parseIP } from '../../net/ip.ts';
import { sameSubnet } from '../../net/range.ts';

interface TCPConnectAddon {
  connect(
    options: { host: string; port: number; localAddress?: string; key?: Buffer; ttl: number; timeoutMs: number },
    callback: (err: NodeJS.ErrnoException | null, fd?: number) => void,
  ): void;
}

export interface BGPConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly password?: string;
  /** The TTL (IPv4) or hop limit (IPv6) of every segment: sessionTTL. */
  readonly ttl: number;
  readonly timeoutMs: number;
}

/**
 * The peer is in another AS: its ASN differs from ours (localASN, else myASN), or, with
 * dynamicASN, it is "external". The OPEN check (machine.ts) applies the same rule.
 */
export function isExternal(peer: Pick<BGPPeer, 'peerASN' | 'dynamicASN' | 'localASN' | 'myASN'>): boolean {
  if (peer.peerASN !== undefined) return peer.peerASN !== (peer.localASN ?? peer.myASN);
  return peer.dynamicASN !== 'internal';
}

/**
 * The TTL a session sends with: 1 to an eBGP peer that is not multi-hop, so that a
 * session cannot form with a peer more than one hop away unless the BGPPeer says so
 * (ebgpMultiHop); 255 otherwise (iBGP, eBGP multi-hop). These are the defaults of FRR
 * (which MetalLB's FRR modes configure) and of BIRD for the same cases.
 */
export function sessionTTL(peer: Pick<BGPPeer, 'peerASN' | 'dynamicASN' | 'localASN' | 'myASN' | 'ebgpMultiHop'>): number {
  return isExternal(peer) && !peer.ebgpMultiHop ? 1 : 255;
}

/** One address of this node with its prefix length, as os.networkInterfaces() gives them (`cidr`). */
export interface NodeAddress {
  readonly cidr: string | null;
}

/**
 * Why a session with TTL 1 cannot reach its peer, or undefined when it can: the peer is
 * on none of this node's subnets (or is none of its addresses). Said before connecting,
 * because the SYN would die at the first router with no clearer sign than a timeout. FRR
 * refuses the same case ("not directly connected") unless told otherwise.
 */
export function singleHopProblem(peerAddress: string, addresses: readonly NodeAddress[]): string | undefined {
  const peer = parseIP(peerAddress);
  if (!peer) return `peer address ${peerAddress} is not an IP address`;
  for (const a of addresses) {
    const [address, length] = (a.cidr ?? '').split('/');
    const ip = parseIP(address ?? '');
    if (ip && sameSubnet(ip, peer, Number(length))) return undefined;
  }
  return `${peerAddress} is on none of this node's subnets, and an eBGP session without ebgpMultiHop is sent with TTL 1 (one hop); set ebgpMultiHop: true on the BGPPeer if the router is further away`;
}

export function connectBGP(opts: BGPConnectOptions): Promise<Socket> {
  const a = loadAddon<TCPConnectAddon>('tcp_connect', 'BGP TCP connect');
  return new Promise((resolve, reject) => {
    a.connect(
      {
        host: opts.host,
        port: opts.port,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        ...(opts.password !== undefined ? { key: Buffer.from(opts.password, 'utf8') } : {}),
        ttl: opts.ttl,
        timeoutMs: opts.timeoutMs,
      },
      (err, fd) => {
        if (err || fd === undefined) {
          const e: NodeJS.ErrnoException = err ?? new Error('connect failed');
          e.message = `${e.message}${e.code ? ` (${e.code})` : ''} to ${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
          // A wrong or missing password on either side makes the peer drop our SYNs
          // silently (RFC 2385 2.0): all we see is a timeout.
          if (e.code === 'ETIMEDOUT' && opts.password !== undefined) e.message += ' (if the peer requires TCP MD5, check that both sides use the same password)';
          reject(e);
          return;
        }
        resolve(new Socket({ fd, readable: true, writable: true }));
      },
    );
  });
}

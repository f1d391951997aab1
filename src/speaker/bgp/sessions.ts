// The set of BGP sessions of one node: one per BGPPeer that selects the node, created,
// replaced (when the peer's settings change) and stopped as the configuration changes,
// and fed the routes the plan gives each peer.
import type { Clock } from '../../time/clock.ts';
import type { Logger } from '../../observability/logging.ts';
import type { SpeakerMetrics } from '../../observability/metrics.ts';
import type { RuntimeError } from '../../observability/errors.ts';
import type { BFDProfile, BGPPeer } from '../../config/model.ts';
import { BGPSession } from './session.ts';
import { GR_RESTART_TIME_S } from './machine.ts';
import type { PeerRoutes } from '../../planning/bgp-plan.ts';
import { gracefulShutdownRoutes, stopAction } from './graceful-shutdown.ts';

export class BGPSessions {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: SpeakerMetrics | undefined;
  readonly #sessions = new Map<string, { key: string; session: BGPSession }>();
  readonly #onEstablishedChange: (() => void) | undefined;
  readonly #onFailure: ((error: RuntimeError, peer: string) => void) | undefined;
  #routerID = '';

  /**
   * `onEstablishedChange` runs when a session reaches or leaves Established; `onFailure`
   * when one fails (it is tried again), with the failure's code.
   */
  constructor(clock: Clock, log: Logger, metrics?: SpeakerMetrics, onEstablishedChange?: () => void, onFailure?: (error: RuntimeError, peer: string) => void) {
    this.#clock = clock;
    this.#log = log;
    this.#metrics = metrics;
    this.#onEstablishedChange = onEstablishedChange;
    this.#onFailure = onFailure;
  }

  /** The peers whose session is Established now. */
  established(): Set<string> {
    return new Set([...this.#sessions].filter(([, e]) => e.session.state === 'established').map(([name]) => name));
  }

  /** Brings the sessions in line with the plan: one per peer, each with its routes. */
  apply(plan: readonly PeerRoutes[], routerID: string, passwords: ReadonlyMap<string, string> = new Map(), bfdProfiles: ReadonlyMap<string, BFDProfile> = new Map()): void {
    const wanted = new Map(plan.map((p) => [p.peer.name, p]));
    const routerChanged = routerID !== this.#routerID;
    this.#routerID = routerID;
    for (const [name, { key, session }] of this.#sessions) {
      const next = wanted.get(name);
      if (next && peerKey(next.peer, passwords.get(name), bfdProfiles.get(next.peer.bfdProfile ?? '')) === key && !routerChanged) continue;
      const wasUp = session.state === 'established';
      session.stop();
      this.#sessions.delete(name);
      this.#metrics?.bgpSessionUp.remove({ peer: name });
      if (wasUp) this.#onEstablishedChange?.();
    }
    for (const [name, { peer, routes }] of wanted) {
      let entry = this.#sessions.get(name);
      if (!entry) {
        const password = passwords.get(name);
        if (peer.passwordSecret !== undefined && password === undefined) {
          this.#log.error({ peer: name, secret: `${peer.passwordSecret.namespace}/${peer.passwordSecret.name}` }, 'the BGPPeer password Secret is missing or has no "password" key; no session');
          continue;
        }
        const bfd = bfdProfiles.get(peer.bfdProfile ?? '');
        let upBefore = false;
        const session = new BGPSession({
          peer,
          ...(password !== undefined ? { password } : {}),
          ...(bfd !== undefined ? { bfd } : {}),
          // BGPPeer routerID overrides the node's address as the BGP identifier (MetalLB's
          // field; config checks it is IPv4, RFC 6286).
          routerID: peer.routerID ?? routerID,
          justStarted: () => process.uptime() < GR_RESTART_TIME_S,
          clock: this.#clock,
          log: this.#log,
          onFailure: (error, peerName) => {
            this.#metrics?.bgpSessionFailures.inc({ peer: peerName, code: error.code });
            this.#onFailure?.(error, peerName);
          },
          onStateChange: (state, peerName) => {
            const up = state === 'established';
            this.#metrics?.bgpSessionUp.set({ peer: peerName }, up ? 1 : 0);
            this.#log.debug({ peer: peerName, state }, 'BGP session state');
            if (up !== upBefore) this.#onEstablishedChange?.();
            upBefore = up;
          },
        });
        entry = { key: peerKey(peer, password, bfd), session };
        this.#sessions.set(name, entry);
        this.#metrics?.bgpSessionUp.set({ peer: name }, 0);
        session.start();
      }
      entry.session.setRoutes(routes);
      this.#metrics?.bgpAnnouncedPrefixes.set({ peer: name }, routes.size);
    }
  }

  get sessions(): readonly BGPSession[] {
    return [...this.#sessions.values()].map((e) => e.session);
  }

  /**
   * The speaker stops. Each session is closed as graceful-shutdown.ts stopAction says:
   * kept at the peer for a restart (graceful restart negotiated and the node not being
   * drained), or first drained (its routes announced again with GRACEFUL_SHUTDOWN and
   * LOCAL_PREF 0, RFC 8326, then `drainMs` on the clock), or closed at once; a drained
   * or closed session ends with Cease / Administrative Shutdown (RFC 4486). Resolves
   * once every session is closed.
   */
  async shutdown(opts: { nodeDraining: boolean; drainMs: number }): Promise<void> {
    const entries = [...this.#sessions.values()].map(({ session }) => ({
      session,
      action: stopAction({ established: session.state === 'established', gracefulRestart: session.gracefulRestart, announced: session.announced }, opts.nodeDraining, opts.drainMs),
    }));
    this.#sessions.clear();
    const draining = entries.filter((e) => e.action === 'drain');
    for (const { session, action } of entries) {
      if (action === 'restart') session.stop({ restarting: true });
      else if (action === 'close') session.stop();
      else {
        this.#log.info({ peer: session.peerName, prefixes: session.announced, closingInMs: opts.drainMs, nodeDraining: opts.nodeDraining }, 'graceful shutdown: routes announced again with GRACEFUL_SHUTDOWN (RFC 8326) before the session closes');
        session.setRoutes(gracefulShutdownRoutes(session.routes));
      }
    }
    if (draining.length === 0) return;
    await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, opts.drainMs));
    for (const { session } of draining) session.stop();
  }
}

/** A session is replaced when anything about its peer changes, the password included. */
function peerKey(peer: BGPPeer, password: string | undefined, bfd: BFDProfile | undefined): string {
  return JSON.stringify([peer, password ?? null, bfd ?? null]);
}

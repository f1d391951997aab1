// The L2 responder: answers ARP requests and neighbour solicitations for the IPs this
// node announces, on the interfaces each announcement allows, and tells the LAN at
// once when it takes an IP over (gratuitous ARP, unsolicited NA), repeating for a few
// seconds so every client's cache updates even if one frame is lost, and so the
// owner's announcement is the last word after the node that gave the IP up went quiet
// (gratuitous-queue.ts has the schedule and the rate limit).
//
// An IP is taken over again, with the whole schedule, whenever the LAN may have heard
// someone else claim it meanwhile: when an interface regains its carrier (the node was
// cut off and others stood in), when the speaker says so (reannounce(): a peer that
// was unreachable is back, and may have announced our IPs while it could not hear us),
// and after another MAC was seen claiming it during a handover.
//
// It also notices another host claiming an IP we announce (an ARP reply or NA for it
// from a MAC that is not ours): an address conflict, which no other bare-metal load
// balancer reports and which otherwise shows up as traffic vanishing at random.
//
// Two speakers both announcing an IP (their membership disagrees: a two-node cluster
// with the heartbeats cut one way, a firewall on the memberlist port) settle it by a
// rule both apply alone, from what the LAN shows them: the lower MAC keeps the IP, the
// other yields (docs/L2.md "Two announcers"). A claim by a lower MAC that still answers
// a probe YIELD_CONFIRM_MS later makes this node stop answering and announcing that IP
// on that link; it probes every YIELD_PROBE_MS and takes the IP back, schedule and
// all, as soon as a probe goes unanswered. The winner needs no decision: it carries on,
// and re-announces after the handover window as for any claim.
//
// A claim is reported only when it persists: when an IP moves between nodes, the old
// node may answer for a moment after the new one took over (each speaker re-plans when
// its own informers see the change), which is a handover, not a conflict. So a first
// claim only makes the IP suspect and schedules a new probe after the handover window;
// a claim seen again after that window is a conflict.
import { createSocket, type Socket } from 'node:dgram';
import type { Clock, Timer } from '../../time/clock.ts';
import type { Logger } from '../../observability/logging.ts';
import type { SpeakerMetrics } from '../../observability/metrics.ts';
import { answeringLinks, readLinks, type Link } from './interfaces.ts';
import { DEFAULT_QUEUE_OPTIONS, GratuitousQueue, type QueueOptions } from './gratuitous-queue.ts';
import { PacketSocket } from './packet-socket.ts';
import {
  arpReply,
  arpRequest,
  gratuitousARP,
  neighborSolicitation,
  neighborAdvertisement,
  parseFrame,
  solicitedNodeMulticast,
  unsolicitedNeighborAdvertisement,
  type L2Message,
} from './frames.ts';

export interface Announcement {
  readonly ip: string;
  /** Interface names; empty means every suitable interface. */
  readonly interfaces: readonly string[];
}

export interface FrameSocket {
  send(frame: Buffer): void;
  close(): void;
}

export interface ResponderOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics?: SpeakerMetrics;
  readonly node: string;
  /** How often interfaces are re-read (links come and go), ms. */
  readonly rescanInterval?: number;
  /** When gratuitous announcements go out after a takeover, and how fast (gratuitous-queue.ts). */
  readonly gratuitous?: Partial<QueueOptions>;
  readonly openSocket?: (ifname: string, onFrame: (frame: Buffer) => void) => FrameSocket;
  readonly readLinks?: () => Link[];
  readonly onConflict?: (ip: string, mac: string, ifname: string) => void;
  /** How often each announced IP is probed for another owner, ms (default 10 s). */
  readonly probeInterval?: number;
  /**
   * Re-announce every IP held this often, ms (0 or unset: never). For switches whose
   * forwarding tables, or routers whose neighbour caches, forget a quiet address
   * (MetalLB's --gratuitous-arp-interval; docs/L2.md "Periodic re-announcement").
   */
  readonly refreshInterval?: number;
  /**
   * How long a link that regained its carrier stays unanswered, ms (default 600): long
   * enough for membership to hear the peers again (a detection period and a heartbeat)
   * so that a node back from isolation, which took every IP for itself while it heard
   * nobody, announces only what the plan leaves it, and no stand-in's IP.
   */
  readonly carrierHoldOff?: number;
  /**
   * Frames to send on a link the moment its carrier returns, before the hold-off: ARP
   * requests to the peers (neighbours.ts), so that membership hears them, and they it,
   * without waiting for the kernel's next neighbour retry.
   */
  readonly neighbourFrames?: (link: Link) => Buffer[];
  /**
   * Membership's word that every peer has heard this node since `since` (clock ms): a
   * returning link is answered as soon as this holds (peersHeard()), not only when the
   * hold-off ends, so the IPs the stand-ins give back are not left unanswered meanwhile.
   */
  readonly heardBack?: (since: number) => boolean;
}

const CONFLICT_REPORT_EVERY_MS = 10_000;
/** Longer than speakers take to agree after a plan change (informer lag under load). */
const HANDOVER_WINDOW_MS = 3_000;
/** A suspicion not seen again for this long is forgotten. */
const SUSPECT_FORGET_MS = 30_000;
/**
 * A lower MAC's claim is checked with a probe this much later before this node yields:
 * a node letting go of an IP it lost (membership moves take one heartbeat, 40 ms) has
 * stopped answering by then, so an ordinary hand-over makes nobody yield.
 */
export const YIELD_CONFIRM_MS = 200;
/** How often a node that yielded an IP probes whether the other still holds it. */
export const YIELD_PROBE_MS = 500;

/** MACs compare as their 48-bit numbers; lowercase colon-separated hex sorts the same way. */
function lowerMAC(a: string, b: string): boolean {
  return a.toLowerCase() < b.toLowerCase();
}

interface Yield {
  /** The MAC this node yielded to. */
  readonly to: string;
  /** When that MAC last claimed the IP. */
  lastClaim: number;
  /** When this node last probed. */
  probedAt: number;
  timer: Timer;
}

interface OpenLink {
  readonly link: Link;
  readonly socket: FrameSocket;
}

export class L2Responder {
  readonly #opts: ResponderOptions;
  readonly #log: Logger;
  /** IP -> the interfaces it is answered on ([] = all suitable). */
  #announced = new Map<string, Announcement>();
  readonly #open = new Map<string, OpenLink>();
  /** Pending gratuitous announcements per (IP, interface), sent by #pump. */
  readonly #gratuitous: GratuitousQueue;
  #pumpTimer: Timer | undefined;
  #pumpAt = Infinity;
  readonly #joined = new Set<string>();
  readonly #conflictReported = new Map<string, number>();
  /** "ip/mac" -> when another MAC was first and last seen claiming the IP. */
  readonly #suspects = new Map<string, { first: number; last: number; recheck: Timer }>();
  /** "ip%ifname" -> a lower MAC's claim being confirmed before this node yields. */
  readonly #yieldChecks = new Map<string, { mac: string; at: number; timer: Timer }>();
  /** "ip%ifname" -> the pairs this node yielded to a lower MAC (not answered, not announced). */
  readonly #yields = new Map<string, Yield>();
  readonly #openFailures = new Map<string, string>();
  /** Links back from a carrier loss: since when, and until when at most they stay unanswered. */
  readonly #held = new Map<string, { since: number; until: number }>();
  #multicast: Socket | undefined;
  /** Gratuitous frames built ahead for IPs this node may take over ("ip%mac" -> frames). */
  #prepared = new Map<string, Buffer[]>();
  #links: Link[] = [];
  #linksMemo: { links: readonly Link[]; byWanted: Map<string, readonly Link[]> } = { links: [], byWanted: new Map() };
  #rescan: Timer | undefined;
  #probe: Timer | undefined;
  #refresh: Timer | undefined;
  #stopped = false;
  /** Handing off (quiesce): still answering questions, announcing nothing. */
  #quiet = false;

  constructor(opts: ResponderOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#gratuitous = new GratuitousQueue({ ...DEFAULT_QUEUE_OPTIONS, ...opts.gratuitous });
  }

  start(): void {
    this.#multicast = createSocket({ type: 'udp6', reuseAddr: true });
    this.#multicast.on('error', (err) => this.#log.warn({ err: String(err) }, 'multicast membership socket'));
    this.#multicast.bind(0);
    this.#multicast.unref(); // the speaker's own timers keep the process alive
    this.#scan();
    this.#probeAll();
    this.#scheduleRefresh();
  }

  stop(): void {
    this.#stopped = true;
    this.#rescan?.cancel();
    this.#probe?.cancel();
    this.#refresh?.cancel();
    this.#pumpTimer?.cancel();
    for (const s of this.#suspects.values()) s.recheck.cancel();
    this.#suspects.clear();
    for (const key of [...this.#yields.keys(), ...this.#yieldChecks.keys()]) this.#endYield(key);
    this.setAnnouncements([]);
    this.#prepared.clear();
    for (const name of [...this.#open.keys()]) this.#close(name);
    this.#multicast?.close();
    this.#multicast = undefined;
  }

  /**
   * The first half of a clean stop (make-before-break): announce nothing more, but keep
   * answering ARP/NDP questions until stop(), while the peers, told by membership's
   * goodbye, take the IPs over and announce them. A question asked in between still
   * gets an answer (this node forwards until it is gone), and the new owner's
   * announcements, which override any cached reply, are the last the LAN hears. Probes
   * go unanswered: they are the new owner checking the address.
   */
  quiesce(): void {
    this.#quiet = true;
    this.#pumpTimer?.cancel();
    this.#pumpTimer = undefined;
    this.#probe?.cancel();
    this.#refresh?.cancel();
  }

  /** The IPs this node announces now; takeovers are announced at once. */
  setAnnouncements(list: readonly Announcement[]): void {
    this.#changeAnswering(() => (this.#announced = new Map(list.map((a) => [a.ip, a]))));
  }

  /**
   * Builds the gratuitous frames of IPs this node may take over, on the links they
   * would be answered on, so that a takeover only sends (a thousand frames cost ~16 ms
   * of CPU to build, more on a loaded node). Replaces what was prepared before.
   */
  prepare(list: readonly Announcement[]): void {
    const prepared = new Map<string, Buffer[]>();
    for (const a of list) {
      for (const link of this.#linksFor(a.interfaces)) prepared.set(`${a.ip}%${link.mac}`, gratuitousFrames(a.ip, link.mac));
    }
    this.#prepared = prepared;
  }

  /** More IPs to announce, the others unchanged (a takeover known ahead, before the full plan). */
  addAnnouncements(list: readonly Announcement[]): void {
    this.#changeAnswering(() => {
      for (const a of list) this.#announced.set(a.ip, a);
    });
  }

  /**
   * Announces every IP held again, with the whole schedule, after re-reading the links:
   * for when the LAN may have heard another node claim them (a peer that could not hear
   * this node is back). Probes for them too.
   */
  reannounce(why: string): void {
    if (this.#stopped || this.#quiet) return;
    const before = this.#answering();
    this.#scan(); // a link that regained its carrier is taken over here, schedule and all
    const keys = [...this.#answering()].filter((key) => before.has(key));
    this.#announce(keys);
    if (keys.length > 0) this.#log.info({ why, announcements: keys.length }, 'announcing again');
  }

  /** The interfaces answering for `ip` now. */
  interfacesFor(ip: string): string[] {
    const a = this.#announced.get(ip);
    return a ? this.#linksFor(a.interfaces).filter((l) => this.#open.has(l.name)).map((l) => l.name) : [];
  }

  /** "ip%ifname" -> the MAC it was yielded to, for every pair this node yielded. */
  yielded(): Map<string, string> {
    return new Map([...this.#yields].map(([key, y]) => [key, y.to]));
  }

  /**
   * answeringLinks(this.#links, wanted), once per list of interfaces while the links are
   * the same: thousands of IPs share a few lists (most have none: every interface).
   */
  #linksFor(wanted: readonly string[]): readonly Link[] {
    if (this.#linksMemo.links !== this.#links) this.#linksMemo = { links: this.#links, byWanted: new Map() };
    const key = wanted.join(',');
    let out = this.#linksMemo.byWanted.get(key);
    if (out === undefined) this.#linksMemo.byWanted.set(key, (out = answeringLinks(this.#links, wanted)));
    return out;
  }

  /** "ip%ifname" for every (IP, interface) pair being answered now. */
  #answering(): Set<string> {
    const pairs = new Set<string>();
    for (const a of this.#announced.values()) {
      for (const link of this.#linksFor(a.interfaces)) if (this.#open.has(link.name)) pairs.add(`${a.ip}%${link.name}`);
    }
    return pairs;
  }

  #scan(): void {
    if (this.#stopped) return;
    this.#rescan?.cancel();
    const links = this.#holdReturningLinks((this.#opts.readLinks ?? readLinks)());
    // Nothing to redo while the links are as they were and every socket is open: with
    // thousands of IPs, recomputing every (IP, interface) pair each second was most of
    // an idle speaker's work.
    if (!sameLinks(links, this.#links) || this.#openFailures.size > 0) this.#changeAnswering(() => (this.#links = links));
    const now = this.#opts.clock.now();
    const next = Math.min(this.#opts.rescanInterval ?? 1000, ...[...this.#held.values()].map((h) => h.until - now));
    this.#rescan = this.#opts.clock.setTimeout(() => this.#scan(), Math.max(0, next));
  }

  /**
   * Applies a change to the announcements or the links, opens and closes sockets to
   * match, and gives up or takes over each (IP, interface) pair that changed.
   */
  #changeAnswering(change: () => void): void {
    const before = this.#answering();
    change();
    this.#sync();
    const after = this.#answering();
    const gone = [...before].filter((key) => !after.has(key));
    const taken = [...after].filter((key) => !before.has(key));
    for (const key of gone) this.#giveUp(key);
    this.#announce(taken, true);
    this.#pump(); // what the links' changes left due
    // One line per change, not per IP: a node taking over a thousand IPs must not spend
    // its failover writing a thousand log lines.
    if (gone.length > 0) this.#log.info(summary(gone), 'no longer announcing');
    if (taken.length > 0) this.#log.info(summary(taken), 'announcing');
  }

  /**
   * Membership heard a peer: a link held since its carrier returned is answered again if
   * every peer now hears this node (heardBack).
   */
  peersHeard(): void {
    const heardBack = this.#opts.heardBack;
    if (this.#stopped || this.#held.size === 0 || !heardBack) return;
    if ([...this.#held.values()].some((h) => heardBack(h.since))) this.#scan();
  }

  /**
   * Links whose carrier came back count as having none yet, until every peer hears this
   * node again (heardBack) or carrierHoldOff has passed, whichever is first.
   */
  #holdReturningLinks(read: readonly Link[]): Link[] {
    const now = this.#opts.clock.now();
    const previous = new Map(this.#links.map((l) => [l.name, l]));
    for (const link of read) {
      if (previous.get(link.name)?.carrier === false && link.carrier !== false && !this.#held.has(link.name)) {
        this.#held.set(link.name, { since: now, until: now + (this.#opts.carrierHoldOff ?? 600) });
        const asked = this.#askNeighbours(link);
        this.#log.info({ interface: link.name, neighboursAsked: asked }, 'carrier back; answering again once membership has heard the peers');
      }
    }
    for (const [name, h] of this.#held) {
      if (now >= h.until || this.#opts.heardBack?.(h.since) === true || !read.some((l) => l.name === name)) this.#held.delete(name);
    }
    return read.map((link) => (this.#held.has(link.name) ? { ...link, carrier: false } : link));
  }

  /** Sends neighbourFrames' requests on a link through a socket of its own (the answering one is closed while the link is held); how many. */
  #askNeighbours(link: Link): number {
    const frames = this.#opts.neighbourFrames?.(link) ?? [];
    if (frames.length === 0) return 0;
    try {
      const socket = this.#openSocket(link.name, () => {});
      try {
        for (const f of frames) socket.send(f);
      } finally {
        socket.close();
      }
      return frames.length;
    } catch (err) {
      this.#log.warn({ interface: link.name, err: (err as Error).message }, 'could not ask the peers\' addresses on the returning link');
      return 0;
    }
  }

  #openSocket(ifname: string, onFrame: (frame: Buffer) => void): FrameSocket {
    return this.#opts.openSocket ? this.#opts.openSocket(ifname, onFrame) : new PacketSocket(ifname, onFrame);
  }

  /** Opens sockets on the links some announcement needs; closes the others. */
  #sync(): void {
    const needed = new Map<string, Link>();
    for (const a of this.#announced.values()) for (const link of this.#linksFor(a.interfaces)) needed.set(link.name, link);
    for (const [name, open] of this.#open) {
      const link = needed.get(name);
      if (!link || link.mac !== open.link.mac) this.#close(name);
    }
    for (const [name, link] of needed) {
      if (this.#open.has(name)) continue;
      try {
        const socket = this.#openSocket(name, (frame) => this.#onFrame(name, frame));
        this.#open.set(name, { link, socket });
        this.#openFailures.delete(name);
        this.#log.info({ interface: name, mac: link.mac }, 'answering ARP/NDP on interface');
      } catch (err) {
        const why = (err as Error).message;
        if (this.#openFailures.get(name) !== why) this.#log.error({ interface: name, err: why }, 'cannot open a packet socket; will retry');
        this.#openFailures.set(name, why);
      }
    }
  }

  #close(name: string): void {
    const open = this.#open.get(name);
    if (!open) return;
    this.#open.delete(name);
    open.socket.close();
    this.#log.info({ interface: name }, 'stopped answering on interface');
  }

  /**
   * (Re)starts the gratuitous schedule of each "ip%ifname" pair, sends what is due at
   * once, then probes each IP for another owner; `takeOver`: the pairs are new here and
   * their IPv6 solicited-node groups are joined too. The first announcements go out now,
   * not on the next turn of the event loop, and before the probes and the group joins
   * (a thousand of each cost more than the announcements themselves): every millisecond
   * before them is a millisecond of failover.
   */
  #announce(keys: readonly string[], takeOver = false): void {
    if (keys.length === 0) return;
    const now = this.#opts.clock.now();
    // IPv4: a gratuitous request and a gratuitous reply; IPv6: one unsolicited NA.
    for (const key of keys) {
      const [ip, ifname] = splitKey(key);
      this.#gratuitous.announce(ip, ifname, ip.includes(':') ? 1 : 2, now);
    }
    this.#pump();
    for (const key of keys) {
      const [ip, ifname] = splitKey(key);
      this.#sendProbe(ip, ifname);
      if (takeOver && ip.includes(':')) this.#membership(ip, ifname, true);
    }
  }

  /** Sends what the queue has due now and sets the timer for what comes next. */
  #pump(): void {
    if (this.#stopped || this.#quiet) return;
    const now = this.#opts.clock.now();
    for (const due of this.#gratuitous.take(now)) this.#sendGratuitous(due.ip, due.ifname);
    const next = this.#gratuitous.nextAt(now);
    if (next === this.#pumpAt && this.#pumpTimer) return;
    this.#pumpTimer?.cancel();
    this.#pumpTimer = undefined;
    this.#pumpAt = next ?? Infinity;
    if (next !== undefined) {
      this.#pumpTimer = this.#opts.clock.setTimeout(() => {
        this.#pumpTimer = undefined;
        this.#pumpAt = Infinity;
        this.#pump();
      }, Math.max(0, next - now));
    }
  }

  #giveUp(key: string): void {
    const [ip, ifname] = splitKey(key);
    this.#endYield(key);
    this.#gratuitous.cancel(ip, ifname);
    if (ip.includes(':')) this.#membership(ip, ifname, false);
  }

  /**
   * RFC 4861 7.2.1: a node joins the solicited-node multicast group of each of its
   * addresses, so solicitations for it get through switches that snoop MLD. Joining
   * through the kernel (an IPv6 socket) sends the MLD report and programs the NIC's
   * multicast filter; a packet socket alone would do neither.
   */
  #membership(ip: string, ifname: string, join: boolean): void {
    const group = solicitedNodeMulticast(ip);
    const key = `${group}%${ifname}`;
    if (join === this.#joined.has(key) || !this.#multicast) return;
    try {
      if (join) this.#multicast.addMembership(group, `::%${ifname}`);
      else this.#multicast.dropMembership(group, `::%${ifname}`);
    } catch (err) {
      this.#log.warn({ group, interface: ifname, err: String(err) }, join ? 'cannot join solicited-node group' : 'cannot leave solicited-node group');
    }
    if (join) this.#joined.add(key);
    else this.#joined.delete(key);
  }

  #sendGratuitous(ip: string, ifname: string): void {
    const open = this.#open.get(ifname);
    if (!open || !this.#announced.has(ip) || this.#yields.has(`${ip}%${ifname}`)) return;
    const frames = this.#prepared.get(`${ip}%${open.link.mac}`) ?? gratuitousFrames(ip, open.link.mac);
    for (const frame of frames) if (this.#send(open, frame)) this.#opts.metrics?.gratuitousSent.inc({ ip });
  }

  /**
   * Asks the LAN who else holds an IP we announce, the way a host checks an address
   * before using it: an ARP probe (RFC 5227 2.1.1, sender 0.0.0.0) or a DAD
   * solicitation (RFC 4862 5.4, source ::). A host that has the address configured
   * answers (ARP reply to our MAC; NA to all-nodes), and #checkConflict sees it. Replies
   * to ordinary requests are unicast to the asker, so without probing a conflict with a
   * quiet host would go unnoticed.
   */
  #sendProbe(ip: string, ifname: string): void {
    const open = this.#open.get(ifname);
    if (!open) return;
    const frame = ip.includes(':')
      ? neighborSolicitation({ srcMAC: open.link.mac, srcIP: '::', targetIP: ip })
      : arpRequest({ srcMAC: open.link.mac, senderIP: '0.0.0.0', targetIP: ip });
    this.#send(open, frame);
  }

  #scheduleRefresh(): void {
    const every = this.#opts.refreshInterval ?? 0;
    if (this.#stopped || every <= 0) return;
    this.#refresh = this.#opts.clock.setTimeout(() => {
      if (this.#stopped) return;
      const now = this.#opts.clock.now();
      for (const key of this.#answering()) {
        const [ip, ifname] = splitKey(key);
        this.#gratuitous.refresh(ip, ifname, ip.includes(':') ? 1 : 2, now);
      }
      this.#pump();
      this.#scheduleRefresh();
    }, every);
  }

  #probeAll(): void {
    if (this.#stopped) return;
    for (const key of this.#answering()) this.#sendProbe(...splitKey(key));
    this.#probe = this.#opts.clock.setTimeout(() => this.#probeAll(), this.#opts.probeInterval ?? 10_000);
  }

  #send(open: OpenLink, frame: Buffer): boolean {
    try {
      open.socket.send(frame);
      return true;
    } catch (err) {
      // ENETDOWN while the link is down: the rescan notices and the takeover on its
      // return sends the gratuitous frames again.
      this.#log.debug({ interface: open.link.name, err: String(err) }, 'send failed');
      return false;
    }
  }

  #onFrame(ifname: string, frame: Buffer): void {
    const open = this.#open.get(ifname);
    if (!open) return;
    const msg = parseFrame(frame);
    switch (msg.type) {
      case 'arp-request':
        return this.#answerARP(open, msg);
      case 'neighbor-solicitation':
        return this.#answerNS(open, msg);
      case 'arp-reply':
        return this.#checkConflict(open, msg.senderIP, msg.senderMAC);
      case 'neighbor-advertisement':
        return this.#checkConflict(open, msg.targetIP, msg.targetLinkLayer ?? msg.srcMAC);
      case 'invalid':
        this.#opts.metrics?.invalidFrames.inc({ interface: ifname });
        this.#log.debug({ interface: ifname, reason: msg.reason }, 'malformed frame dropped');
        return;
      default:
        return;
    }
  }

  /** Whether this node holds `ip` on this link (yielded or not). */
  #holds(open: OpenLink, ip: string): boolean {
    const a = this.#announced.get(ip);
    return a !== undefined && answeringLinks([open.link], a.interfaces).length === 1;
  }

  /** Whether this node answers for `ip` on this link now: holds it and has not yielded it. */
  #answers(open: OpenLink, ip: string): boolean {
    return this.#holds(open, ip) && !this.#yields.has(`${ip}%${open.link.name}`);
  }

  #answerARP(open: OpenLink, msg: Extract<L2Message, { type: 'arp-request' }>): void {
    if (msg.senderMAC === open.link.mac) return;
    // Someone else announcing an IP we hold (sender IP = ours, not a probe) is a conflict.
    if (msg.gratuitous && msg.senderIP === msg.targetIP) this.#checkConflict(open, msg.senderIP, msg.senderMAC);
    if (!this.#answers(open, msg.targetIP)) return;
    this.#opts.metrics?.requestsReceived.inc({ ip: msg.targetIP });
    if (msg.gratuitous && msg.senderIP === msg.targetIP) return; // an announcement, not a question
    // Handing off: a probe is the new owner checking the address; answering it would be
    // a claim (and make a new owner with a higher MAC yield).
    if (this.#quiet && msg.senderIP === '0.0.0.0') return;
    // RFC 5227 2.1.1: a probe (sender 0.0.0.0) is answered like any request; the
    // prober then knows the address is taken.
    const reply = arpReply({ srcMAC: open.link.mac, ip: msg.targetIP, toMAC: msg.senderMAC, toIP: msg.senderIP });
    if (this.#send(open, reply)) this.#opts.metrics?.responsesSent.inc({ ip: msg.targetIP });
  }

  #answerNS(open: OpenLink, msg: Extract<L2Message, { type: 'neighbor-solicitation' }>): void {
    if (msg.srcMAC === open.link.mac || !this.#answers(open, msg.targetIP)) return;
    if (this.#quiet && msg.dad) return; // handing off: see #answerARP
    this.#opts.metrics?.requestsReceived.inc({ ip: msg.targetIP });
    // RFC 4861 7.2.4: to a DAD probe (source ::) the answer goes to all-nodes with
    // Solicited clear; otherwise unicast back to the solicitor with Solicited set.
    // Override set: the address may have moved here from another node (7.2.6).
    const na = msg.dad
      ? unsolicitedNeighborAdvertisement({ srcMAC: open.link.mac, targetIP: msg.targetIP })
      : neighborAdvertisement({ srcMAC: open.link.mac, targetIP: msg.targetIP, toMAC: msg.sourceLinkLayer ?? msg.srcMAC, toIP: msg.srcIP, solicited: true, override: true });
    if (this.#send(open, na)) this.#opts.metrics?.responsesSent.inc({ ip: msg.targetIP });
  }

  #checkConflict(open: OpenLink, ip: string, mac: string): void {
    if (!this.#holds(open, ip) || mac === open.link.mac) return;
    if ([...this.#open.values()].some((o) => o.link.mac === mac)) return; // our own, on another link
    const key = `${ip}/${mac}`;
    const now = this.#opts.clock.now();
    if (lowerMAC(mac, open.link.mac)) this.#lowerClaim(open, ip, mac, now);
    const suspect = this.#suspects.get(key);
    if (!suspect || now - suspect.last > SUSPECT_FORGET_MS) {
      suspect?.recheck.cancel();
      // Ask again once a handover would be over; only an answer then is a conflict. And
      // announce again then: the LAN heard the other claim, and a client that asked
      // meanwhile may hold its MAC; the owner must have the last word once it is quiet.
      const ifname = open.link.name;
      const recheck = this.#opts.clock.setTimeout(() => {
        const link = this.#open.get(ifname);
        if (!link || !this.#answers(link, ip)) return;
        this.#announce([`${ip}%${ifname}`]);
      }, HANDOVER_WINDOW_MS);
      this.#suspects.set(key, { first: now, last: now, recheck });
      this.#log.info({ ip, mac, interface: open.link.name }, 'another host claims an announced IP; checking again after the handover window');
      return;
    }
    suspect.last = now;
    if (now - suspect.first < HANDOVER_WINDOW_MS) return;
    this.#opts.metrics?.conflicts.inc({ ip, mac });
    const last = this.#conflictReported.get(key);
    if (last !== undefined && now - last < CONFLICT_REPORT_EVERY_MS) return;
    this.#conflictReported.set(key, now);
    this.#log.warn({ ip, mac, interface: open.link.name }, 'address conflict: another host claims an IP this node announces');
    this.#opts.onConflict?.(ip, mac, open.link.name);
  }

  /**
   * A lower MAC claims an IP this node holds on this link: yield to it if it still
   * answers a probe YIELD_CONFIRM_MS later (docs/L2.md "Two announcers").
   */
  #lowerClaim(open: OpenLink, ip: string, mac: string, now: number): void {
    const ifname = open.link.name;
    const key = `${ip}%${ifname}`;
    const y = this.#yields.get(key);
    if (y) {
      if (y.to === mac) y.lastClaim = now;
      return;
    }
    const check = this.#yieldChecks.get(key);
    if (check && check.mac === mac) {
      if (now - check.at < YIELD_CONFIRM_MS) return;
      // Still claiming after the confirmation delay (the probe's answer, or its own
      // announcement): yield.
      check.timer.cancel();
      this.#yieldChecks.delete(key);
      this.#yield(ifname, ip, mac, now);
      return;
    }
    if (check) return; // one claimant at a time is checked
    const timer = this.#opts.clock.setTimeout(() => {
      const link = this.#open.get(ifname);
      if (link && this.#answers(link, ip)) this.#sendProbe(ip, ifname);
      // Forgotten if nobody answers in the next confirmation period.
      const again = this.#yieldChecks.get(key);
      if (again) again.timer = this.#opts.clock.setTimeout(() => this.#yieldChecks.delete(key), YIELD_CONFIRM_MS);
    }, YIELD_CONFIRM_MS);
    this.#yieldChecks.set(key, { mac, at: now, timer });
  }

  #yield(ifname: string, ip: string, to: string, now: number): void {
    const key = `${ip}%${ifname}`;
    this.#gratuitous.cancel(ip, ifname);
    const y: Yield = { to, lastClaim: now, probedAt: now, timer: this.#opts.clock.setTimeout(() => this.#probeYielded(key), YIELD_PROBE_MS) };
    this.#yields.set(key, y);
    this.#opts.metrics?.yields.inc({ ip });
    this.#log.warn({ ip, interface: ifname, to }, 'another node announces this IP too (membership disagrees): the lower MAC keeps it; yielding until it stops');
  }

  /** While yielded: probe; if the previous probe drew no claim from the winner, take the IP back. */
  #probeYielded(key: string): void {
    const y = this.#yields.get(key);
    if (!y || this.#stopped) return;
    const [ip, ifname] = splitKey(key);
    const now = this.#opts.clock.now();
    if (y.lastClaim < y.probedAt) {
      this.#endYield(key);
      const link = this.#open.get(ifname);
      if (link && this.#answers(link, ip)) {
        this.#log.info({ ip, interface: ifname, was: y.to }, 'the node this IP was yielded to no longer answers for it; announcing it again');
        this.#announce([key]);
      }
      return;
    }
    y.probedAt = now;
    this.#sendProbe(ip, ifname);
    y.timer = this.#opts.clock.setTimeout(() => this.#probeYielded(key), YIELD_PROBE_MS);
  }

  #endYield(key: string): void {
    this.#yields.get(key)?.timer.cancel();
    this.#yields.delete(key);
    this.#yieldChecks.get(key)?.timer.cancel();
    this.#yieldChecks.delete(key);
  }
}

/** IPv4: a gratuitous request and a gratuitous reply; IPv6: one unsolicited NA. */
function gratuitousFrames(ip: string, mac: string): Buffer[] {
  return ip.includes(':')
    ? [unsolicitedNeighborAdvertisement({ srcMAC: mac, targetIP: ip })]
    : [gratuitousARP({ srcMAC: mac, ip, op: 'request' }), gratuitousARP({ srcMAC: mac, ip, op: 'reply' })];
}

/** For a log line: how many (IP, interface) pairs, and the first few of them. */
function summary(keys: readonly string[]): { count: number; pairs: string[]; more?: number } {
  const shown = 20;
  return { count: keys.length, pairs: keys.slice(0, shown), ...(keys.length > shown ? { more: keys.length - shown } : {}) };
}

function splitKey(key: string): [string, string] {
  const i = key.lastIndexOf('%');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** The same links, field by field, in the same order. */
function sameLinks(a: readonly Link[], b: readonly Link[]): boolean {
  return a.length === b.length && a.every((x, i) => {
    const y = b[i]!;
    return x.name === y.name && x.mac === y.mac && x.flags === y.flags && x.type === y.type && x.master === y.master && x.carrier === y.carrier;
  });
}

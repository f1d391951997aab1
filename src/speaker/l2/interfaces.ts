// Which interfaces the L2 speaker answers on (docs/COMPATIBILITY.md "Speaker, L2 mode"): up,
// able to broadcast, ARP-capable, not enslaved to a bridge or bond (the master answers
// for it), and not one of the virtual interfaces a container network creates for pods
// (veth ends, CNI bridges, tunnels): answering there would leak the LB IP into pods.
// L2Advertisement.spec.interfaces narrows this further; it never widens it.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { basename, join } from 'node:path';

export interface Link {
  readonly name: string;
  readonly mac: string;
  readonly flags: number;
  /** ARPHRD type: 1 is Ethernet (include/uapi/linux/if_arp.h). */
  readonly type: number;
  /** Set when the link is a port of a bridge or bond. */
  readonly master?: string;
  /**
   * False when the link is up but has no carrier (cable out, switch port or veth peer
   * down): frames sent there reach nobody, so the node must announce again when it
   * returns. Absent when unknown, which counts as having one.
   */
  readonly carrier?: boolean;
}

// include/uapi/linux/if.h
const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_LOOPBACK = 0x8;
const IFF_NOARP = 0x80;
const ARPHRD_ETHER = 1;

/** Names that container networking and tunnels use: never answered on by default. */
const VIRTUAL_NAME = /^(veth|cali|cilium|lxc|docker|cni|flannel|vxlan|kube-ipvs|kube-bridge|cbr|tunl|tun|tap|virbr|weave|genev|nodelocaldns)/;

export function unsuitableReason(link: Link): string | undefined {
  if (link.type !== ARPHRD_ETHER) return `not Ethernet (ARPHRD ${link.type})`;
  if (link.flags & IFF_LOOPBACK) return 'loopback';
  if (!(link.flags & IFF_UP)) return 'down';
  if (link.carrier === false) return 'no carrier';
  if (!(link.flags & IFF_BROADCAST)) return 'no broadcast';
  if (link.flags & IFF_NOARP) return 'NOARP';
  if (link.master !== undefined) return `enslaved to ${link.master}`;
  if (VIRTUAL_NAME.test(link.name)) return 'a container or tunnel interface';
  return undefined;
}

/** The links to answer on for an announcement; `wanted` empty means every suitable one. */
export function answeringLinks(links: readonly Link[], wanted: readonly string[]): Link[] {
  return links.filter((l) => unsuitableReason(l) === undefined && (wanted.length === 0 || wanted.includes(l.name)));
}

/** Reads the links of the current network namespace from sysfs. */
export function readLinks(sysfs = '/sys/class/net'): Link[] {
  const links: Link[] = [];
  let names: string[];
  try {
    names = readdirSync(sysfs);
  } catch {
    return [];
  }
  for (const name of names) {
    try {
      const dir = join(sysfs, name);
      const read = (f: string) => readFileSync(join(dir, f), 'utf8').trim();
      const master = masterOf(dir);
      const carrier = carrierOf(dir);
      links.push({
        name,
        mac: read('address'),
        flags: Number.parseInt(read('flags'), 16),
        type: Number(read('type')),
        ...(master !== undefined ? { master } : {}),
        ...(carrier !== undefined ? { carrier } : {}),
      });
    } catch {
      // The link vanished while we read it; the next scan won't see it either.
    }
  }
  return links.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * sysfs `carrier` (Documentation/ABI/testing/sysfs-class-net): 1 or 0 while the link is
 * administratively up; reading it fails (EINVAL) while it is down, which IFF_UP covers.
 */
function carrierOf(dir: string): boolean | undefined {
  try {
    const value = readFileSync(join(dir, 'carrier'), 'utf8').trim();
    return value === '1' ? true : value === '0' ? false : undefined;
  } catch {
    return undefined;
  }
}

/** A port's master (bridge or bond): sysfs links /sys/class/net/PORT/master to it. */
function masterOf(dir: string): string | undefined {
  try {
    return basename(readlinkSync(join(dir, 'master')));
  } catch {
    return undefined;
  }
}

/** The addresses on one interface with their prefix lengths, as the kernel reports them (os.networkInterfaces). */
export function interfaceAddresses(name: string): { address: string; prefix: number }[] {
  return (networkInterfaces()[name] ?? []).flatMap((a) => {
    const prefix = Number(a.cidr?.split('/')[1]);
    return Number.isInteger(prefix) ? [{ address: a.address, prefix }] : [];
  });
}

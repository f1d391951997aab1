// Whole Ethernet frames in and out of one interface, through the native addon
// (native/packet.c: an AF_PACKET socket whose kernel filter passes only ARP and ICMPv6
// neighbour discovery). This is the speaker's only packet I/O edge.
import { loadAddon as load } from '../../native/addon.ts';

interface PacketAddon {
  open(ifname: string, onFrame: (frame: Buffer) => void): object;
  send(handle: object, frame: Buffer): number;
  close(handle: object): void;
  stats(handle: object): { received: number; dropped: number; ifindex: number };
}

function loadAddon(): PacketAddon {
  return load<PacketAddon>('packet', 'packet socket');
}

export class PacketSocket {
  readonly interfaceName: string;
  #handle: object | undefined;

  /** Opens a socket on `interfaceName`; `onFrame` gets every ARP and NDP frame it receives. Throws (code ENODEV, EPERM, ...) if it can't. */
  constructor(interfaceName: string, onFrame: (frame: Buffer) => void) {
    this.interfaceName = interfaceName;
    const a = loadAddon();
    this.#handle = a.open(interfaceName, (frame) => {
      if (this.#handle) onFrame(frame);
    });
  }

  get open(): boolean {
    return this.#handle !== undefined;
  }

  /** Sends one whole frame. Throws with the errno code (ENETDOWN while the link is down). */
  send(frame: Buffer): void {
    if (!this.#handle) throw Object.assign(new Error(`${this.interfaceName}: socket is closed`), { code: 'EBADF' });
    loadAddon().send(this.#handle, frame);
  }

  stats(): { received: number; dropped: number; ifindex: number } {
    if (!this.#handle) return { received: 0, dropped: 0, ifindex: 0 };
    return loadAddon().stats(this.#handle);
  }

  close(): void {
    if (!this.#handle) return;
    const h = this.#handle;
    this.#handle = undefined;
    loadAddon().close(h);
  }
}

// A TCP connection signed with TCP MD5 (RFC 2385), for BGPPeers with a password: the
// native addon (native/tcp_md5.c) sets the key before the SYN and connects; the
// connected descriptor becomes an ordinary net.Socket.
import { Socket } from 'node:net';
import { loadAddon } from '../../native/addon.ts';

interface MD5Addon {
  connect(
    options: { host: string; port: number; localAddress?: string; key: Buffer; timeoutMs: number },
    callback: (err: NodeJS.ErrnoException | null, fd?: number) => void,
  ): void;
}


export interface MD5ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly password: string;
  readonly timeoutMs: number;
}

export function connectWithMD5(opts: MD5ConnectOptions): Promise<Socket> {
  const a = loadAddon<MD5Addon>('tcp_md5', 'TCP MD5');
  return new Promise((resolve, reject) => {
    a.connect(
      { host: opts.host, port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}), key: Buffer.from(opts.password, 'utf8'), timeoutMs: opts.timeoutMs },
      (err, fd) => {
        if (err || fd === undefined) {
          const e: NodeJS.ErrnoException = err ?? new Error('connect failed');
          // A wrong or missing password on either side makes the peer drop our SYNs
          // silently (RFC 2385 2.0): all we see is a timeout.
          if (e.code === 'ETIMEDOUT') e.message += ' (if the peer requires TCP MD5, check that both sides use the same password)';
          reject(e);
          return;
        }
        resolve(new Socket({ fd, readable: true, writable: true }));
      },
    );
  });
}

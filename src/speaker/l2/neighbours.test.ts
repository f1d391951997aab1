import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { neighbourRequests } from './neighbours.ts';
import { parseARP } from './arp.ts';

const MAC = '02:00:00:00:00:03';

describe('neighbourRequests (a link back from no carrier)', () => {
  it('asks each peer on the link\'s subnets, from the address on that subnet, once each', () => {
    const frames = neighbourRequests(MAC, [{ address: '198.18.0.13', prefix: 24 }, { address: '2001:db8::13', prefix: 64 }, { address: '198.19.5.1', prefix: 30 }], ['198.18.0.11', '198.18.0.12', '198.18.0.11', '198.19.5.2', '198.18.7.1', '2001:db8::11', '198.18.0.13']);
    assert.deepEqual(frames.map((f) => parseARP(f)).map((m) => m.type === 'arp-request' ? [m.senderMAC, m.senderIP, m.targetIP] : m.type), [
      [MAC, '198.18.0.13', '198.18.0.11'],
      [MAC, '198.18.0.13', '198.18.0.12'],
      [MAC, '198.19.5.1', '198.19.5.2'],
    ]);
  });

  it('asks nothing on a link without IPv4, or with no peer on it', () => {
    assert.deepEqual(neighbourRequests(MAC, [{ address: '2001:db8::13', prefix: 64 }], ['198.18.0.11']), []);
    assert.deepEqual(neighbourRequests(MAC, [{ address: '198.18.0.13', prefix: 24 }], ['198.18.1.11', 'not an address']), []);
  });
});

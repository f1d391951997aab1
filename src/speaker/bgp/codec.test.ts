// Every fixture four ways: decode gives the expected object, encode gives the fixture's
// bytes, encode/decode round-trips, and a MessageReader fed all fixtures back to back,
// split at every byte offset, yields the same messages.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode, MessageReader, toNotification, type DecodeError } from './decode.ts';
import { encode, unsupportedCapability } from './encode.ts';
import { FIXTURES, KEEPALIVE, NOTIFICATION, OPEN, UPDATE_IPV4 } from './fixtures.test-support.ts';
import { AS_TRANS, describeNotification, ERROR, OPEN_SUBCODE, twoOctetAS, type BGPMessage } from './messages.ts';

/** Everything the reader returns until it wants more bytes. */
function drain(reader: MessageReader, into: (BGPMessage | DecodeError)[]): void {
  for (let m = reader.next(); m !== undefined; m = reader.next()) {
    into.push(m);
    if (m.type === 'error') return; // a poisoned reader repeats itself forever
  }
}

describe('fixtures', () => {
  for (const [name, bytes, message, exact] of FIXTURES) {
    describe(name, () => {
      it('decodes to the expected message', () => {
        assert.deepEqual(decode(bytes), message);
      });
      if (exact) {
        it('encodes to the fixture bytes', () => {
          assert.equal(encode(message).toString('hex'), bytes.toString('hex'));
        });
      } else {
        it('is not what the encoder would write (so only decoding is compared)', () => {
          assert.notEqual(encode(message).toString('hex'), bytes.toString('hex'));
        });
      }
      it('round-trips', () => {
        assert.deepEqual(decode(encode(message)), message);
      });
      it('decodes from a copy of the bytes without aliasing them', () => {
        const copy = Buffer.from(bytes);
        const decoded = decode(copy);
        copy.fill(0);
        assert.deepEqual(decoded, message);
      });
    });
  }
});

describe('MessageReader', () => {
  const stream = Buffer.concat(FIXTURES.map(([, bytes]) => bytes));
  const expected = FIXTURES.map(([, , message]) => message);

  it('yields every fixture from the stream split at every byte offset', () => {
    for (let split = 0; split <= stream.length; split++) {
      const reader = new MessageReader();
      const got: (BGPMessage | DecodeError)[] = [];
      reader.push(stream.subarray(0, split));
      drain(reader, got);
      reader.push(stream.subarray(split));
      drain(reader, got);
      assert.deepEqual(got, expected, `split at ${split}`);
      assert.equal(reader.pending, 0);
    }
  });

  it('yields every fixture when fed one byte at a time', () => {
    const reader = new MessageReader();
    const got: (BGPMessage | DecodeError)[] = [];
    for (let i = 0; i < stream.length; i++) {
      reader.push(stream.subarray(i, i + 1));
      drain(reader, got);
    }
    assert.deepEqual(got, expected);
  });

  it('takes exactly one message at a time and waits for the rest', () => {
    const reader = new MessageReader();
    reader.push(Buffer.concat([KEEPALIVE, OPEN.subarray(0, 30)]));
    assert.deepEqual(reader.next(), { type: 'keepalive' });
    assert.equal(reader.next(), undefined);
    assert.equal(reader.pending, 30);
    reader.push(OPEN.subarray(30));
    assert.equal(reader.next()?.type, 'open');
    assert.equal(reader.next(), undefined);
  });

  it('is not affected when the caller reuses its buffer', () => {
    const reader = new MessageReader();
    const chunk = Buffer.from(UPDATE_IPV4.subarray(0, 40));
    reader.push(chunk);
    chunk.fill(0);
    reader.push(UPDATE_IPV4.subarray(40));
    assert.deepEqual(reader.next(), decode(UPDATE_IPV4));
  });

  it('stays poisoned after a framing error, whatever arrives next', () => {
    const reader = new MessageReader();
    const bad = Buffer.from(KEEPALIVE);
    bad[3] = 0xfe;
    reader.push(Buffer.concat([KEEPALIVE, bad, KEEPALIVE]));
    assert.deepEqual(reader.next(), { type: 'keepalive' });
    const error = reader.next();
    assert.equal(error?.type, 'error');
    assert.deepEqual([(error as DecodeError).code, (error as DecodeError).subcode], [1, 1]);
    reader.push(KEEPALIVE);
    assert.equal(reader.next(), error);
    assert.equal(reader.next(), error);
    assert.equal(reader.pending, 0);
  });

  it('reports a header error as soon as the header is in, before the body', () => {
    const reader = new MessageReader();
    const header = Buffer.from(UPDATE_IPV4.subarray(0, 19));
    header.writeUInt16BE(5000, 16);
    reader.push(header);
    const error = reader.next() as DecodeError;
    assert.deepEqual([error.code, error.subcode, error.data.toString('hex')], [1, 2, '1388']);
  });

  it('goes on after an error that is not a framing error', () => {
    const reader = new MessageReader();
    const badOpen = Buffer.from(OPEN);
    badOpen[19] = 3; // version 3
    reader.push(Buffer.concat([badOpen, NOTIFICATION]));
    const error = reader.next() as DecodeError;
    assert.deepEqual([error.code, error.subcode], [2, 1]);
    assert.equal(reader.next()?.type, 'notification');
  });
});

describe('helpers', () => {
  it('describeNotification names codes and subcodes', () => {
    assert.equal(describeNotification(2, 2), 'OPEN Message Error / Bad Peer AS');
    assert.equal(describeNotification(6, 2), 'Cease / Administrative Shutdown');
    assert.equal(describeNotification(3, 11), 'UPDATE Message Error / Malformed AS_PATH');
    assert.equal(describeNotification(1, 2), 'Message Header Error / Bad Message Length');
    assert.equal(describeNotification(4, 0), 'Hold Timer Expired');
    assert.equal(describeNotification(6, 99), 'Cease / unknown subcode 99');
    assert.equal(describeNotification(42, 1), 'Unknown error code 42 / subcode 1');
  });

  it('twoOctetAS gives AS_TRANS for 4-byte ASNs', () => {
    assert.equal(twoOctetAS(64512), 64512);
    assert.equal(twoOctetAS(65535), 65535);
    assert.equal(twoOctetAS(65536), AS_TRANS);
    assert.equal(twoOctetAS(4200000001), 23456);
  });

  it('unsupportedCapability lists the required capabilities as we advertise them', () => {
    const n = unsupportedCapability({ fourOctetAS: 4200000001 });
    assert.deepEqual(n, { type: 'notification', code: ERROR.open, subcode: OPEN_SUBCODE.unsupportedCapability, data: Buffer.from('4104fa56ea01', 'hex') });
    const both = unsupportedCapability({ multiprotocol: ['ipv6-unicast'], fourOctetAS: 64512 });
    assert.equal(both.data.toString('hex'), '0104000200014104' + '0000fc00');
  });

  it('toNotification turns a DecodeError into the message to send', () => {
    const error = decode(Buffer.alloc(19)) as DecodeError;
    assert.deepEqual(toNotification(error), { type: 'notification', code: 1, subcode: 1, data: Buffer.alloc(0) });
  });
});

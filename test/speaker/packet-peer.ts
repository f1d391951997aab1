// Runs inside a test namespace: opens a PacketSocket on the interface named in argv,
// prints "ready", then "frame <hex>" for each frame received; reads "send <hex>" and
// "close" from stdin. The test drives it and checks what crossed the wire.
import { createInterface } from 'node:readline';
import { PacketSocket } from '../../src/speaker/l2/packet-socket.ts';

const ifname = process.argv[2] ?? '';
const socket = new PacketSocket(ifname, (frame) => process.stdout.write(`frame ${frame.toString('hex')}\n`));
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const [verb, arg] = line.split(' ');
  if (verb === 'send') {
    try {
      socket.send(Buffer.from(arg ?? '', 'hex'));
      process.stdout.write('sent\n');
    } catch (err) {
      process.stdout.write(`error ${(err as NodeJS.ErrnoException).code}\n`);
    }
  } else if (verb === 'stats') {
    process.stdout.write(`stats ${JSON.stringify(socket.stats())}\n`);
  } else if (verb === 'close') {
    socket.close();
    socket.close();
    process.stdout.write('closed\n');
  }
}

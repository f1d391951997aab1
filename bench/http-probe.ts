// A client's view of a service IP: requests at a fixed rate, each over a new TCP
// connection (as a browser or curl does after a failover, not a kept-alive stream that
// would hide a move), each with a short timeout. Run inside the lab's client namespace
// by bench/failover.ts; bounded in count and time, and stops on SIGTERM or when its
// standard input closes.
//
// usage: node bench/http-probe.ts URL [--rate 100] [--duration-ms 60000] [--timeout-ms 250]
// Prints "ready", then one line per finished request: "<wall-clock start ms> ok|fail".
import { request } from 'node:http';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rate: { type: 'string', default: '100' }, 'duration-ms': { type: 'string', default: '60000' }, 'timeout-ms': { type: 'string', default: '250' } },
});
const url = positionals[0];
const rate = Number(values.rate);
const duration = Number(values['duration-ms']);
const timeout = Number(values['timeout-ms']);
if (!url || !(rate > 0 && rate <= 1000) || !(duration > 0 && duration <= 30 * 60_000) || !(timeout > 0)) {
  console.error('usage: node bench/http-probe.ts URL [--rate 1-1000] [--duration-ms <= 1800000] [--timeout-ms N]');
  process.exit(2);
}

const limit = Math.ceil((rate * duration) / 1000);
const startedAt = Date.now();
let sent = 0;
let open = 0;
let stopping = false;

function once(): void {
  const start = Date.now();
  open++;
  let done = false;
  const finish = (ok: boolean) => {
    if (done) return;
    done = true;
    open--;
    process.stdout.write(`${start} ${ok ? 'ok' : 'fail'}\n`);
    if (stopping && open === 0) process.exit(0);
  };
  const req = request(url!, { agent: false, timeout }, (res) => {
    res.resume();
    res.on('end', () => finish(res.statusCode === 200));
    res.on('error', () => finish(false));
  });
  req.on('timeout', () => {
    req.destroy();
    finish(false);
  });
  req.on('error', () => finish(false));
  req.end();
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  clearInterval(tick);
  if (open === 0) process.exit(0);
  setTimeout(() => process.exit(0), timeout + 100).unref();
}

const tick = setInterval(() => {
  // Catch up after a late timer, so the rate holds on a loaded machine.
  const due = Math.min(limit, Math.floor(((Date.now() - startedAt) * rate) / 1000) + 1);
  while (sent < due) {
    sent++;
    once();
  }
  if (sent >= limit || Date.now() - startedAt >= duration) stop();
}, Math.max(1, Math.floor(1000 / rate)));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
console.log('ready');

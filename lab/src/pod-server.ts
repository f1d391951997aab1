// The lab's stand-in for every container image: an HTTP server that answers with its
// pod's name, like the tutorial's hostname-deployment, so a test can tell which pod a
// load-balanced request reached. The agent starts one per pod inside the pod's network
// namespace; GET /source answers with the client's address instead. Usage: pod-server.ts POD_NAME STATE_DIR PORT...
// (STATE_DIR is unused here; it marks the process as the lab's for `lab down`.)
import { createServer } from 'node:http';

const [name, , ...portArgs] = process.argv.slice(2);
if (!name) {
  console.error('usage: pod-server.ts POD_NAME STATE_DIR PORT...');
  process.exit(2);
}
const ports = portArgs.length > 0 ? portArgs.map(Number) : [80];

const servers = ports.map((port) =>
  createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    // Close each connection: a test that counts which pods answered must not see one
    // kept-alive connection reuse the same backend.
    res.setHeader('connection', 'close');
    // /source answers with the client address the pod saw: whether a load balancer
    // path preserves it (externalTrafficPolicy: Local) or masquerades it is a property
    // tests need to observe.
    // The server listens dual-stack, so IPv4 clients appear IPv4-mapped; say them plainly.
    if (req.url === '/source') res.end(`${(req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')}\n`);
    else res.end(`${name}\n`);
  }),
);

let listening = 0;
for (const [i, server] of servers.entries()) {
  server.on('error', (err) => {
    console.error(`${name}: port ${ports[i]}: ${err.message}`);
    process.exit(1);
  });
  server.listen(ports[i], () => {
    listening++;
    // The agent reads this line as "the container is ready".
    if (listening === servers.length) console.log('ready');
  });
}

function stop(): void {
  for (const s of servers) s.close();
  // Connections close after each answer, so closing is quick; the timer is a bound.
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

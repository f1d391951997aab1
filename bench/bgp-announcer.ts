// One node's BGP sender for bench/bgp-scale.ts: ferrolb's own session code (src/speaker/
// bgp/session.ts, the native connect, the encoder and the Adj-RIB-Out) peering with the
// lab router from the node namespace it runs in, with N host routes to announce. Driven
// by lines on stdin ("announce", "withdraw", "start", "stop"; "announce" before "start"
// gives a session that opens with the routes already in its Adj-RIB-Out, as GoBGP's
// neighbor enable does); reports by JSON lines on stdout.
//
// Run (by bench/bgp-scale.ts): ip netns exec NODE-NS node bench/bgp-announcer.ts NODE-IP ROUTES
import { createInterface } from 'node:readline';
import { BGPSession } from '../src/speaker/bgp/session.ts';
import { realClock } from '../src/time/clock.ts';
import { silentLogger } from '../src/observability/logging.ts';
import type { RouteAttributes } from '../src/planning/bgp-plan.ts';
import { nodeASN, routerASN } from '../lab/src/router.ts';
import { router } from '../lab/src/layout.ts';
import { scaleRoutes } from './bgp-scale-routes.ts';

const [nodeIP, count] = [process.argv[2] ?? '', Number(process.argv[3])];
if (!/^198\.18\.0\.\d+$/.test(nodeIP) || !(count >= 1 && count <= 65536)) throw new Error('usage: bgp-announcer.ts NODE-IP ROUTES(1-65536)');

const say = (event: string, extra: object = {}) => process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);
const none: RouteAttributes = { communities: [], largeCommunities: [] };
const routes = new Map(scaleRoutes(count).map((p) => [p, none]));

const session = new BGPSession({
  peer: {
    name: 'router', myASN: nodeASN, peerASN: routerASN, peerAddress: router.v4, peerPort: 179, holdTime: 9, keepaliveTime: 3,
    ebgpMultiHop: false, enableGracefulRestart: false, nodeSelectors: [], dualStackAddressFamily: false,
  },
  routerID: nodeIP,
  clock: realClock,
  log: silentLogger,
  minRetry: 1,
  onStateChange: (state) => say('state', { state }),
});
say('ready');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'announce') session.setRoutes(routes);
  else if (line === 'withdraw') session.setRoutes(new Map());
  else if (line === 'start') session.start();
  else if (line === 'stop') break;
}
session.stop();
setTimeout(() => process.exit(0), 200);

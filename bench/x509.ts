// What the webhook's certificate code costs the controller (issue 13 item 9): each
// figure from fresh processes, the median of --runs, so a library written in its place
// can be measured the same way. Two processes per run:
//   without: the controller component loaded (src/controller/controller.ts), as when the
//            webhook is disabled;
//   with:    the same, then the certificate code loaded (src/webhook/certificates.ts and
//            x509.ts) and one set issued (a CA and a serving certificate), as the
//            controller does at start when no Secret holds one.
// It prints load time, issue time and RSS for each, and the difference.
//
// Run: node bench/x509.ts [--runs 9] [--compiled]   (--compiled: the image's build/js)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' }, compiled: { type: 'boolean', default: false } } });
const RUNS = Number(values.runs);
if (!(RUNS >= 1 && RUNS <= 101)) throw new Error('--runs 1-101');
const root = new URL('..', import.meta.url).pathname;
const file = (ts: string) => (values.compiled ? `${root}build/js/${ts.replace(/\.ts$/, '.js')}` : `${root}${ts}`);
for (const f of ['src/controller/controller.ts', 'src/webhook/certificates.ts']) if (!existsSync(file(f))) throw new Error(`${file(f)} is missing (npm run build for --compiled)`);

interface Sample {
  readonly loadMs: number;
  readonly issueMs: number;
  readonly rssMB: number;
}

function child(withCerts: boolean): Sample {
  const script = `
    const t0 = performance.now();
    await import(${JSON.stringify(file('src/controller/controller.ts'))});
    let loadMs = 0, issueMs = 0;
    if (${withCerts}) {
      const t1 = performance.now();
      const { renewedSet } = await import(${JSON.stringify(file('src/webhook/certificates.ts'))});
      const t2 = performance.now();
      const set = renewedSet(undefined, ['ferrolb-webhook-service.metallb-system.svc', 'ferrolb-webhook-service.metallb-system.svc.cluster.local'], new Date());
      if (!set.tlsCert.includes('BEGIN CERTIFICATE')) throw new Error('no certificate');
      issueMs = performance.now() - t2;
      loadMs = t2 - t1;
    } else {
      loadMs = performance.now() - t0;
    }
    globalThis.gc?.();
    process.stdout.write(JSON.stringify({ loadMs, issueMs, rssMB: process.memoryUsage().rss / 1048576 }));
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Sample;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const without: Sample[] = [];
const withCerts: Sample[] = [];
for (let i = 0; i < RUNS; i++) {
  without.push(child(false));
  withCerts.push(child(true));
}
const m = (s: Sample[], k: keyof Sample) => median(s.map((x) => x[k]));
console.log(`node ${process.version}, ${values.compiled ? 'build/js' : 'src (type stripping)'}, median of ${RUNS} fresh processes each`);
console.log(`without the certificate code: controller loaded in ${m(without, 'loadMs').toFixed(1)} ms, RSS ${m(without, 'rssMB').toFixed(1)} MB`);
console.log(`with it: certificate code loaded in ${m(withCerts, 'loadMs').toFixed(1)} ms, a CA and serving certificate issued in ${m(withCerts, 'issueMs').toFixed(1)} ms, RSS ${m(withCerts, 'rssMB').toFixed(1)} MB`);
console.log(`difference: RSS +${(m(withCerts, 'rssMB') - m(without, 'rssMB')).toFixed(1)} MB, start-up +${(m(withCerts, 'loadMs') + m(withCerts, 'issueMs')).toFixed(1)} ms`);

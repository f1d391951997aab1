// The secure metrics endpoint over loopback: HTTPS with a certificate made in the test,
// every scrape's bearer token checked by a TokenReview and a SubjectAccessReview against
// a loopback API server that answers as the real one does (authentication.k8s.io/v1,
// authorization.k8s.io/v1), and the health port plain without a token. Bad TLS files
// stop the process before it listens, with a code and the file's name.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { KubeClient } from '../../src/k8s/client.ts';
import { ALLOWED_TTL_MS, DENIED_TTL_MS, metricsAuthorizer } from '../../src/k8s/access-review.ts';
import { ManualClock } from '../../src/time/clock.ts';
import { bearerToken, checkMetricsTLS, serveMetrics, SpeakerMetrics } from '../../src/observability/metrics.ts';
import { planDaemonEndpoints, readMetricsTLS } from '../../src/cli/daemon.ts';
import { connect } from 'node:tls';
import { main } from '../../src/cli/main.ts';
import { runtimeErrorCode } from '../../src/observability/errors.ts';
import { createCA, issueServingCert } from '../../src/webhook/x509.ts';

const now = new Date();
const ca = createCA('test-ca', { now, days: 1 });
const serving = issueServingCert({ ...ca, commonName: 'test-ca' }, ['localhost', '127.0.0.1'], { now, days: 1 });
const other = issueServingCert({ ...ca, commonName: 'test-ca' }, ['localhost'], { now, days: 1 });

/** The API server's two reviews: token "prom" is Prometheus' (allowed), "nobody" a user without the grant. */
function fakeAPIServer(): Promise<{ server: Server; url: URL; reviews: { kind: string; spec: Record<string, unknown> }[] }> {
  const reviews: { kind: string; spec: Record<string, unknown> }[] = [];
  const users: Record<string, { username: string; groups: string[] }> = {
    prom: { username: 'system:serviceaccount:monitoring:prometheus-k8s', groups: ['system:serviceaccounts'] },
    nobody: { username: 'system:serviceaccount:default:default', groups: ['system:serviceaccounts'] },
  };
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const object = JSON.parse(body) as { kind: string; spec: Record<string, unknown> };
      reviews.push(object);
      let status: unknown;
      if (req.method === 'POST' && req.url === '/apis/authentication.k8s.io/v1/tokenreviews') {
        const user = users[object.spec['token'] as string];
        status = user ? { authenticated: true, user } : { authenticated: false, error: 'invalid bearer token' };
      } else if (req.method === 'POST' && req.url === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
        const attrs = object.spec['nonResourceAttributes'] as { path: string; verb: string };
        status = { allowed: object.spec['user'] === users['prom']!.username && attrs.path === '/metrics' && attrs.verb === 'get' };
      } else {
        res.writeHead(404).end('{}');
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ ...object, status }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), reviews })));
}

function get(protocol: 'http' | 'https', port: number, path: string, token?: string): Promise<{ status: number; body: string; authorized?: boolean }> {
  return new Promise((resolve, reject) => {
    const headers = token !== undefined ? { authorization: `Bearer ${token}` } : {};
    const options = { host: '127.0.0.1', port, path, headers, ...(protocol === 'https' ? { ca: ca.certPem, servername: 'localhost' } : {}) };
    const req = (protocol === 'https' ? httpsRequest : httpRequest)(options, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('secure metrics: HTTPS, bearer tokens reviewed by the API server', () => {
  let api: Awaited<ReturnType<typeof fakeAPIServer>>;
  let client: KubeClient;
  let metrics: Server;
  let health: Server;
  let port: number;
  let healthPort: number;
  const registry = new SpeakerMetrics().registry;
  const clock = new ManualClock(1_000_000);

  before(async () => {
    api = await fakeAPIServer();
    client = new KubeClient({ server: api.url, insecureSkipTLSVerify: false, source: 'test' });
    metrics = (await serveMetrics(registry, '127.0.0.1:0', () => true, { tls: { cert: serving.certPem, key: serving.keyPem }, authorize: metricsAuthorizer(client, clock) })) as Server;
    health = (await serveMetrics(registry, '127.0.0.1:0', () => true, { metrics: false })) as Server;
    port = (metrics.address() as AddressInfo).port;
    healthPort = (health.address() as AddressInfo).port;
  });
  after(() => {
    metrics.close();
    health.close();
    api.server.close();
    client.close();
  });

  it("serves /metrics over TLS to a token whose user may get /metrics, after a TokenReview and a SubjectAccessReview for it", async () => {
    api.reviews.length = 0;
    const r = await get('https', port, '/metrics', 'prom');
    assert.equal(r.status, 200);
    assert.match(r.body, /^# HELP ferrolb_speaker_announced /m);
    assert.deepEqual(api.reviews.map((x) => x.kind), ['TokenReview', 'SubjectAccessReview']);
    assert.deepEqual(api.reviews[1]!.spec, { nonResourceAttributes: { path: '/metrics', verb: 'get' }, user: 'system:serviceaccount:monitoring:prometheus-k8s', groups: ['system:serviceaccounts'] });
  });

  it('refuses no token and a bad token with 401, a user without the grant with 403, and asks the API server nothing for health', async () => {
    assert.equal((await get('https', port, '/metrics')).status, 401);
    assert.equal((await get('https', port, '/metrics', 'forged')).status, 401);
    const forbidden = await get('https', port, '/metrics', 'nobody');
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.body, /system:serviceaccount:default:default.*\/metrics/);
    api.reviews.length = 0;
    assert.equal((await get('https', port, '/healthz')).status, 200);
    assert.deepEqual(api.reviews, []);
  });

  it('answers are reused per token for a while (allowed a minute, refused 10 s), then asked again: a revoked grant ends within the minute', async () => {
    clock.advance(ALLOWED_TTL_MS + 1);
    api.reviews.length = 0;
    assert.equal((await get('https', port, '/metrics', 'prom')).status, 200);
    assert.equal((await get('https', port, '/metrics', 'prom')).status, 200);
    assert.equal(api.reviews.length, 2, 'one TokenReview and one SubjectAccessReview for two scrapes');
    clock.advance(ALLOWED_TTL_MS - 1);
    assert.equal((await get('https', port, '/metrics', 'prom')).status, 200);
    assert.equal(api.reviews.length, 2);
    clock.advance(2);
    assert.equal((await get('https', port, '/metrics', 'prom')).status, 200);
    assert.equal(api.reviews.length, 4, 'asked again after a minute');
    clock.advance(DENIED_TTL_MS + 1);
    api.reviews.length = 0;
    assert.equal((await get('https', port, '/metrics', 'nobody')).status, 403);
    assert.equal((await get('https', port, '/metrics', 'nobody')).status, 403);
    assert.equal(api.reviews.length, 2);
    clock.advance(DENIED_TTL_MS + 1);
    assert.equal((await get('https', port, '/metrics', 'nobody')).status, 403);
    assert.equal(api.reviews.length, 4, 'a refusal is asked again after 10 s');
  });

  it('the health port is plain HTTP with /healthz and /readyz only: no metrics without TLS', async () => {
    assert.equal((await get('http', healthPort, '/healthz')).status, 200);
    assert.equal((await get('http', healthPort, '/readyz')).status, 200);
    assert.equal((await get('http', healthPort, '/metrics')).status, 404);
  });

  it('plain HTTP is refused on the TLS port (no metrics leak without TLS)', async () => {
    await assert.rejects(get('http', port, '/metrics', 'prom'));
  });

  it('--metrics-secure without --metrics-cert-dir: a certificate made at start, for localhost, and tokens checked', async () => {
    // A free loopback port (the plan takes HOST:PORT, as the flags do).
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const free = (probe.address() as AddressInfo).port;
    probe.close();
    const plan = planDaemonEndpoints('speaker', { 'metrics-addr': `127.0.0.1:${free}` }, new Set(['metrics-secure']), { stdout: () => undefined, stderr: (t) => assert.fail(t), cwd: '.' });
    const endpoints = await plan!.start(registry, () => true, client);
    try {
      assert.deepEqual(endpoints.describe, { metrics: `127.0.0.1:${free}`, metricsTLS: 'self-signed' });
      const peer = await new Promise<{ subjectaltname?: string; issuer: { CN?: string } }>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: free, servername: 'localhost', rejectUnauthorized: false }, () => {
          resolve(socket.getPeerCertificate() as unknown as { subjectaltname?: string; issuer: { CN?: string } });
          socket.end();
        });
        socket.on('error', reject);
      });
      assert.match(peer.subjectaltname ?? '', /DNS:localhost/);
      assert.equal(peer.issuer.CN, 'ferrolb-speaker-metrics-ca');
      const unauthenticated = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port: free, path: '/metrics', rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(unauthenticated, 401);
    } finally {
      endpoints.close();
    }
  });

  it('503 when the API server does not answer: nothing is served unchecked', async () => {
    const down = new KubeClient({ server: new URL('http://127.0.0.1:1'), insecureSkipTLSVerify: false, source: 'test' });
    const s = (await serveMetrics(registry, '127.0.0.1:0', () => true, { tls: { cert: serving.certPem, key: serving.keyPem }, authorize: metricsAuthorizer(down, new ManualClock()) })) as Server;
    try {
      assert.equal((await get('https', (s.address() as AddressInfo).port, '/metrics', 'prom')).status, 503);
    } finally {
      s.close();
      down.close();
    }
  });
});

describe('secure metrics: the TLS files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferrolb-metrics-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const pair = (name: string, cert: string, key: string) => {
    const d = join(dir, name);
    mkdirSync(d);
    writeFileSync(join(d, 'tls.crt'), cert);
    writeFileSync(join(d, 'tls.key'), key);
    return d;
  };

  it('a good pair loads (ours, and one made by openssl when it is on the PATH)', (t) => {
    const ok = readMetricsTLS(pair('good', serving.certPem, serving.keyPem));
    assert.ok(!('code' in ok));
    let opensslDir: string;
    try {
      opensslDir = join(dir, 'openssl');
      mkdirSync(opensslDir);
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(opensslDir, 'tls.key'), '-out', join(opensslDir, 'tls.crt')], { stdio: 'ignore' });
    } catch {
      t.diagnostic('openssl is not on the PATH: only the node:crypto pair was tried');
      return;
    }
    assert.ok(!('code' in readMetricsTLS(opensslDir)));
  });

  it('a missing, garbled or mismatched file is an error with a stable code naming that file', () => {
    const missing = readMetricsTLS(join(dir, 'nowhere'));
    assert.ok('code' in missing && missing.code === 'ETLSCERT' && missing.file === join(dir, 'nowhere', 'tls.crt'));
    const badCert = readMetricsTLS(pair('bad-cert', 'not a certificate\n', serving.keyPem));
    assert.ok('code' in badCert && badCert.code === 'ETLSCERT');
    assert.match(badCert.message, /bad-cert\/tls\.crt is not a PEM certificate/);
    const badKey = readMetricsTLS(pair('bad-key', serving.certPem, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'));
    assert.ok('code' in badKey && badKey.code === 'ETLSKEY' && badKey.file.endsWith('bad-key/tls.key'));
    const mismatch = checkMetricsTLS('c.crt', serving.certPem, 'k.key', other.keyPem);
    assert.deepEqual(mismatch, { code: 'ETLSKEY', file: 'k.key', message: 'k.key is not the key of the certificate in c.crt' });
    // The codes are runtime error codes (src/observability/errors.ts).
    assert.equal(runtimeErrorCode(`${mismatch.code}: x`), 'ETLSKEY');
  });

  it('the controller refuses to start on a key that is not its certificate\'s, naming the key file', async () => {
    const d = pair('controller-mismatch', serving.certPem, other.keyPem);
    let err = '';
    const code = await main(['controller', '--metrics-cert-dir', d], { stdout: () => undefined, stderr: (t) => void (err += t), cwd: process.cwd() });
    assert.equal(code, 1);
    assert.equal(err, `ferrolb controller: ETLSKEY: ${d}/tls.key is not the key of the certificate in ${d}/tls.crt\n`);
  });

  it('bearer tokens as RFC 6750 2.1 writes them', () => {
    assert.equal(bearerToken('Bearer abc.def-_~+/='), 'abc.def-_~+/=');
    assert.equal(bearerToken('bearer abc'), 'abc');
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken('Bearer '), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, issueServingCert } from './x509.ts';
import { renewalReason, renewedSet, type CertificateSet } from './certificates.ts';

const NOW = new Date('2026-11-29T12:00:00Z');
const HOSTS = ['ferrolb-webhook-service.metallb-system.svc', '127.0.0.1', '2001:db8:18::1'];

describe('x509: the webhook certificate', () => {
  const ca = createCA('ferrolb-webhook-ca', { now: NOW, days: 3650 });
  const tls = issueServingCert({ ...ca, commonName: 'ferrolb-webhook-ca' }, HOSTS, { now: NOW, days: 365 });

  it('node:crypto parses both; the CA is a CA and signed the serving certificate, which names every host', () => {
    const c = new X509Certificate(ca.certPem);
    const s = new X509Certificate(tls.certPem);
    assert.equal(c.ca, true);
    assert.equal(s.ca, false);
    assert.ok(c.verify(c.publicKey), 'self-signed');
    assert.ok(s.verify(c.publicKey));
    assert.equal(s.checkHost(HOSTS[0]!), HOSTS[0]);
    assert.equal(s.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(s.checkIP('2001:db8:18::1'), '2001:db8:18::1');
    assert.equal(s.checkHost('other.example'), undefined);
    assert.equal(s.issuer, 'CN=ferrolb-webhook-ca');
    assert.equal(Date.parse(s.validTo), NOW.getTime() + 365 * 86_400_000);
    assert.equal(Date.parse(s.validFrom), NOW.getTime() - 3_600_000);
    assert.ok(s.keyUsage === undefined || s.keyUsage.includes('1.3.6.1.5.5.7.3.1'), 'serverAuth');
    // The issuer's name and key identifiers chain up (RFC 5280 4.2.1.1, 4.2.1.2), and each
    // certificate holds the public half of the key stored beside it.
    assert.ok(s.checkIssued(c), 'issued by the CA');
    assert.ok(c.checkIssued(c), 'the CA issued itself');
    assert.ok(!c.checkIssued(s));
    assert.ok(c.checkPrivateKey(createPrivateKey(ca.keyPem)));
    assert.ok(s.checkPrivateKey(createPrivateKey(tls.keyPem)));
    assert.ok(!s.checkPrivateKey(createPrivateKey(ca.keyPem)));
    assert.ok(/^[0-7]/.test(s.serialNumber), 'a positive serial (RFC 5280 4.1.2.2)');
  });

  it('OpenSSL, an independent parser, verifies the chain and the purpose', { skip: spawnSync('openssl', ['version']).status !== 0 && 'no openssl' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'flb-x509-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), ca.certPem);
      writeFileSync(join(dir, 'tls.pem'), tls.certPem);
      const r = spawnSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'tls.pem')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr + r.stdout);
      const text = spawnSync('openssl', ['x509', '-in', join(dir, 'tls.pem'), '-noout', '-text'], { encoding: 'utf8' }).stdout;
      assert.match(text, /DNS:ferrolb-webhook-service\.metallb-system\.svc, IP Address:127\.0\.0\.1, IP Address:2001:DB8:18:0:0:0:0:1/);
      assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renewal: nothing stored, expiring soon, wrong hosts, a foreign signer; a good set is kept', () => {
    const set = renewedSet(undefined, HOSTS, NOW);
    assert.equal(renewalReason(set, HOSTS, NOW.getTime()), undefined);
    assert.equal(renewalReason(undefined, HOSTS, NOW.getTime()), 'no certificate yet');
    assert.match(renewalReason(set, HOSTS, NOW.getTime() + 340 * 86_400_000)!, /serving certificate expires/);
    assert.match(renewalReason(set, [...HOSTS, 'new.example'], NOW.getTime())!, /does not name new\.example/);
    const other = renewedSet(undefined, HOSTS, NOW);
    const mixed: CertificateSet = { ...set, tlsCert: other.tlsCert, tlsKey: other.tlsKey };
    assert.match(renewalReason(mixed, HOSTS, NOW.getTime())!, /not signed by the stored CA/);
    assert.match(renewalReason({ ...set, caCert: 'garbage' }, HOSTS, NOW.getTime())!, /does not parse/);
    // Renewing the serving certificate keeps a CA with years left (the caBundle stays valid).
    const renewed = renewedSet(set, HOSTS, new Date(NOW.getTime() + 340 * 86_400_000));
    assert.equal(renewed.caCert, set.caCert);
    assert.notEqual(renewed.tlsCert, set.tlsCert);
  });
});

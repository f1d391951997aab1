// Just enough X.509 (RFC 5280) to give the webhook a certificate without cert-manager
// or openssl: a self-signed CA and a serving certificate it signs, ECDSA P-256 with
// SHA-256 (RFC 5758 3.2). node:crypto makes the keys, signs and (in the tests) parses
// and verifies the result (X509Certificate); it cannot create a certificate, so the
// TBSCertificate is DER-encoded here (ITU-T X.690). Why not a library: docs/WEBHOOK.md
// "The certificate code".
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { parseIPv4, parseIPv6 } from '../net/ip.ts';

// --- DER (X.690 8, 10) ----------------------------------------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  // 10.1: definite length, minimal form.
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  if (n > 0xffff) throw new RangeError('DER value over 64 KiB');
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
const octets = (b: Buffer) => tlv(0x04, b);
const bitString = (b: Buffer, unusedBits = 0) => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b]));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));

/** 8.3: two's complement, minimal; a leading 0 keeps a positive value positive. */
function integer(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

/** 8.19: the first two arcs packed, then base-128 with continuation bits. */
function oid(text: string): Buffer {
  const arcs = text.split('.').map(Number);
  const out = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const septets = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) septets.unshift((v & 0x7f) | 0x80);
    out.push(...septets);
  }
  return tlv(0x06, Buffer.from(out));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:T]/g, '');
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii')) : tlv(0x18, Buffer.from(iso, 'ascii'));
}

const OID = {
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

function name(commonName: string): Buffer {
  return seq(set(seq(oid(OID.commonName), utf8(commonName))));
}

// --- Certificates -------------------------------------------------------------------

export interface KeyAndCert {
  readonly keyPem: string;
  readonly certPem: string;
}

interface Issuer {
  readonly name: string;
  readonly key: KeyObject;
  readonly keyId: Buffer;
}

export interface CertOptions {
  readonly now: Date;
  /** Validity, days from `now` (it starts an hour earlier, for clock skew). */
  readonly days: number;
}

/**
 * RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits, which for an EC key are
 * the uncompressed point 04 || x || y (SEC 1 2.3.3), taken from node:crypto's JWK.
 */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const { x, y } = publicKey.export({ format: 'jwk' });
  return createHash('sha1').update(Buffer.concat([Buffer.from([4]), Buffer.from(x!, 'base64url'), Buffer.from(y!, 'base64url')])).digest();
}

function certificate(subject: string, publicKey: KeyObject, issuer: Issuer | 'self', signer: KeyObject, extensions: Buffer[], opts: CertOptions): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // positive (RFC 5280 4.1.2.2)
  const algorithm = seq(oid(OID.ecdsaWithSHA256));
  const notBefore = new Date(opts.now.getTime() - 3600_000);
  const notAfter = new Date(opts.now.getTime() + opts.days * 86_400_000);
  const ownId = keyIdentifier(publicKey);
  const authorityId = issuer === 'self' ? ownId : issuer.keyId;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    name(issuer === 'self' ? subject : issuer.name),
    seq(time(notBefore), time(notAfter)),
    name(subject),
    spki,
    explicit(3, seq(
      ...extensions,
      extension(OID.subjectKeyIdentifier, false, octets(ownId)),
      extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, authorityId))),
    )),
  );
  const signature = sign('sha256', tbs, signer); // DER ECDSA-Sig-Value
  const der = seq(tbs, algorithm, bitString(signature));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** A CA that signs only certificates (keyCertSign, cRLSign; RFC 5280 4.2.1.3, 4.2.1.9). */
export function createCA(commonName: string, opts: CertOptions): KeyAndCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certPem = certificate(commonName, publicKey, 'self', privateKey, [
    extension(OID.basicConstraints, true, seq(bool(true))),
    extension(OID.keyUsage, true, bitString(Buffer.from([0x06]), 1)),
  ], opts);
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, certPem };
}

/** A serving certificate for `hosts` (DNS names or IP addresses), signed by `ca`. */
export function issueServingCert(ca: KeyAndCert & { readonly commonName: string }, hosts: readonly string[], opts: CertOptions): KeyAndCert {
  if (hosts.length === 0) throw new RangeError('a serving certificate needs at least one host name');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caKey = createPrivateKey(ca.keyPem);
  const names = hosts.map((h) => {
    const ip = parseIPv4(h) ?? parseIPv6(h);
    return ip ? tlv(0x87, ip) : tlv(0x82, Buffer.from(h, 'ascii')); // iPAddress, or dNSName (IA5String)
  });
  const certPem = certificate(hosts[0]!, publicKey, { name: ca.commonName, key: caKey, keyId: keyIdentifier(createPublicKey(caKey)) }, caKey, [
    extension(OID.basicConstraints, true, seq()),
    extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)), // digitalSignature
    extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
    extension(OID.subjectAltName, false, seq(...names)),
  ], opts);
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, certPem };
}

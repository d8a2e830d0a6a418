/**
 * A throwaway certificate authority and a server certificate it issued, made with `node:crypto`
 * alone (P-256 keys, X.509 v3 in DER written here), for loopback HTTPS stand-ins that a child
 * process trusts through `NODE_EXTRA_CA_CERTS`: TLS is verified as it would be against the real
 * service, with no CA of the machine's changed and no `openssl` binary needed.
 *
 * Only the DER this needs (RFC 5280 §4.1): names with one common name, UTCTime validity,
 * basic constraints, key usage, extended key usage and subject alternative names.
 */
import { generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';

/** DER length octets: short form under 128, else the long form (X.690 §8.1.3). */
function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, content: Buffer) =>
  Buffer.concat([Buffer.from([tag]), length(content.length), content]);
const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, content: Buffer) => tlv(0xa0 + n, content);
const octets = (content: Buffer) => tlv(0x04, content);
const bits = (content: Buffer, unused = 0) => tlv(0x03, Buffer.concat([Buffer.from([unused]), content]));
const TRUE = tlv(0x01, Buffer.from([0xff]));

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [40 * a + b];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-01-15T12:00:00.000Z
  return tlv(
    0x17,
    Buffer.from(
      `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`,
    ),
  );
}

const name = (commonName: string) =>
  sequence(set(sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName)))));
const ECDSA_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

function extension(id: string, value: Buffer, critical = false): Buffer {
  return sequence(oid(id), ...(critical ? [TRUE] : []), octets(value));
}

/** A positive serial number of 16 random bytes (RFC 5280 §4.1.2.2: at most 20 octets). */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return tlv(0x02, bytes);
}

function certificate(options: {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  extensions: Buffer[];
}): string {
  const now = Date.now();
  const tbs = sequence(
    explicit(0, tlv(0x02, Buffer.from([2]))), // v3
    serialNumber(),
    ECDSA_SHA256,
    name(options.issuer),
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 86_400_000))),
    name(options.subject),
    options.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...options.extensions)),
  );
  const der = sequence(tbs, ECDSA_SHA256, bits(sign('sha256', tbs, options.signingKey)));
  const lines = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

export interface TestCertificates {
  /** The CA's certificate, PEM: what the client trusts. */
  caPem: string;
  /** The server's certificate and key, PEM, for `https.createServer`. */
  certPem: string;
  keyPem: string;
}

/** A CA and a server certificate for `localhost` and `127.0.0.1`, valid for a day. */
export function createTestCertificates(): TestCertificates {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const server = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caPem = certificate({
    subject: 'Loopback test CA',
    issuer: 'Loopback test CA',
    publicKey: ca.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      extension('2.5.29.19', sequence(TRUE), true), // basicConstraints: CA
      extension('2.5.29.15', bits(Buffer.from([0x06]), 1), true), // keyUsage: keyCertSign, cRLSign
    ],
  });
  const certPem = certificate({
    subject: 'localhost',
    issuer: 'Loopback test CA',
    publicKey: server.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      extension('2.5.29.19', sequence(), true), // basicConstraints: not a CA
      extension('2.5.29.15', bits(Buffer.from([0x80]), 7), true), // keyUsage: digitalSignature
      extension('2.5.29.37', sequence(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
      // subjectAltName: dNSName localhost, iPAddress 127.0.0.1
      extension(
        '2.5.29.17',
        sequence(tlv(0x82, Buffer.from('localhost')), tlv(0x87, Buffer.from([127, 0, 0, 1]))),
      ),
    ],
  });
  // Parsed once here, so a mistake in the DER fails where it is made, not in a TLS handshake.
  const issued = new X509Certificate(certPem);
  if (!issued.checkIssued(new X509Certificate(caPem)) || !issued.verify(ca.publicKey)) {
    throw new Error('the test server certificate does not verify with the test CA');
  }
  return { caPem, certPem, keyPem: server.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

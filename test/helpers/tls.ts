/** TLS ClientHellos and QUIC v1 client Initials built in the test, protected with Node's crypto. */
import * as crypto from 'node:crypto';
import { be16 } from './packets';

/** TLS ClientHello bytes: version, cipher suites, extensions [type, body]. */
export function clientHello(version: number, ciphers: number[], exts: [number, Buffer][]): Buffer {
  const b16 = (n: number) => Buffer.from(be16(n));
  const extBytes = Buffer.concat(exts.map(([type, body]) => Buffer.concat([b16(type), b16(body.length), body])));
  const body = Buffer.concat([b16(version), Buffer.alloc(32, 7), Buffer.from([0]), b16(ciphers.length * 2),
    ...ciphers.map(b16), Buffer.from([1, 0]), b16(extBytes.length), extBytes]);
  const hs = Buffer.concat([Buffer.from([1, 0]), b16(body.length), body]);
  return Buffer.concat([Buffer.from([0x16, 3, 1]), b16(hs.length), hs]);
}

export const list16 = (type: number, values: number[], lenBytes = 2) => {
  const data = Buffer.concat(values.map((v) => Buffer.from(be16(v))));
  return [type, Buffer.concat([lenBytes === 2 ? Buffer.from([0, data.length]) : Buffer.from([data.length]), data])] as [number, Buffer];
};

/** The client's Initial secret, key, iv and header protection key for a destination connection id
 * (RFC 9001 5.2). */
export function quicInitialKeys(dcid: Buffer): { secret: Buffer; key: Buffer; iv: Buffer; hp: Buffer } {
  const hmac = (k: Buffer, m: Buffer) => crypto.createHmac('sha256', k).update(m).digest();
  const expand = (secret: Buffer, label: string, len: number) => {
    const l = Buffer.from(`tls13 ${label}`);
    return hmac(secret, Buffer.concat([Buffer.from([0, len, l.length]), l, Buffer.from([0, 1])])).subarray(0, len);
  };
  const initial = hmac(Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'), dcid);
  const secret = expand(initial, 'client in', 32);
  return { secret, key: expand(secret, 'quic key', 16), iv: expand(secret, 'quic iv', 12), hp: expand(secret, 'quic hp', 16) };
}

/** A client's QUIC v1 Initial carrying `handshake` in one CRYPTO frame, PADDING to a 1200-byte
 * datagram (RFC 9000 14.1), protected as RFC 9001 says; the packet number `pn` in `pnLen` bytes (1-4). */
export function quicInitial(handshake: Buffer, dcid: Buffer, pn = 0, pnLen = 1): Buffer {
  const { key, iv, hp } = quicInitialKeys(dcid);
  const frame = Buffer.concat([Buffer.from([0x06, 0x00, 0x40 | (handshake.length >> 8), handshake.length & 0xff]), handshake]);
  const plain = Buffer.concat([frame, Buffer.alloc(Math.max(0, 1200 - (10 + dcid.length + pnLen + 16) - frame.length))]);
  const length = pnLen + plain.length + 16;
  const pnBytes = Buffer.alloc(pnLen);
  pnBytes.writeUIntBE(pn, 0, pnLen);
  const header = Buffer.concat([Buffer.from([0xc0 | (pnLen - 1), 0, 0, 0, 1, dcid.length]), dcid,
    Buffer.from([0, 0, 0x40 | (length >> 8), length & 0xff]), pnBytes]);
  const nonce = Buffer.from(iv);
  for (let i = 0; i < pnLen; i++) nonce[12 - pnLen + i] ^= pnBytes[i];
  const gcm = crypto.createCipheriv('aes-128-gcm', key, nonce);
  gcm.setAAD(header);
  const sealed = Buffer.concat([gcm.update(plain), gcm.final(), gcm.getAuthTag()]);
  // header protection: the sample starts 4 bytes past the packet number's start
  const mask = crypto.createCipheriv('aes-128-ecb', hp, null).update(sealed.subarray(4 - pnLen, 20 - pnLen));
  header[0] ^= mask[0] & 0x0f;
  for (let i = 0; i < pnLen; i++) header[header.length - pnLen + i] ^= mask[1 + i];
  return Buffer.concat([header, sealed]);
}

import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Test tokens signed with node:crypto (independent of the emulator's own signing code). */

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export function hs256(payload: Record<string, unknown>, secret: Buffer | string, header: Record<string, unknown> = {}): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', ...header })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export function rs256(payload: Record<string, unknown>, key: KeyObject, header: Record<string, unknown> = {}): string {
  const input = `${b64({ alg: 'RS256', typ: 'JWT', ...header })}.${b64(payload)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}

export function unsigned(payload: Record<string, unknown>): string {
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}

let pair: { privateKey: KeyObject; publicKey: KeyObject; n: string; e: string } | undefined;

/** One RSA key pair per test run (key generation is the slow part). */
export function rsaPair(): { privateKey: KeyObject; publicKey: KeyObject; n: string; e: string } {
  if (!pair) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' });
    pair = { privateKey, publicKey, n: jwk.n!, e: jwk.e! };
  }
  return pair;
}

/** Epoch seconds of a VirtualClock's now. */
export const secs = (ms: number): number => Math.floor(ms / 1000);

/**
 * System.Security.Cryptography hashes/HMACs, System.Guid, System.Random and APIM's byte[] Encrypt/Decrypt helpers.
 *
 * Provides: MD5/SHA1/SHA256/SHA384/SHA512 .Create() → HashAlgorithm.ComputeHash(bytes[, offset, count]), HashData;
 * new HMACMD5/HMACSHA1/HMACSHA256/HMACSHA384/HMACSHA512(key) → ComputeHash, Key; Guid (NewGuid(random?), Parse,
 * TryParse, ParseExact, Empty, ToString(N|D|B|P|X), ToByteArray, Equals, CompareTo); Random (seeded: .NET's exact
 * legacy subtractive generator, so `new Random(42).Next(100)` matches .NET; Next, Next(max), Next(min, max),
 * NextDouble, NextBytes); encrypt/decrypt (`bytes.Encrypt("Aes", key, iv)` / `Decrypt`: AES-CBC with PKCS7).
 * Randomness for NewGuid and unseeded Random comes from an injectable RandomSource.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomFillSync } from 'node:crypto';
import { DotNetException, argumentNull, argumentOutOfRange, formatError } from './exceptions.js';
import type { DotNetFormattable } from './format.js';

/** Fills a buffer with random bytes (inject a deterministic one in tests). */
export type RandomSource = (buffer: Uint8Array) => void;

export const defaultRandomSource: RandomSource = (b) => {
  randomFillSync(b);
};

// ---- hashes --------------------------------------------------------------------------------------------------------

export type HashName = 'MD5' | 'SHA1' | 'SHA256' | 'SHA384' | 'SHA512';

const NODE_NAMES: Record<HashName, string> = { MD5: 'md5', SHA1: 'sha1', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' };
const HASH_BITS: Record<HashName, number> = { MD5: 128, SHA1: 160, SHA256: 256, SHA384: 384, SHA512: 512 };

function slice(buffer: Uint8Array | null, offset?: number, count?: number): Uint8Array {
  if (buffer === null) throw argumentNull('buffer');
  if (offset === undefined) return buffer;
  const c = count ?? buffer.length - offset;
  if (offset < 0) throw argumentOutOfRange('offset', 'Non-negative number required.');
  if (c < 0 || offset + c > buffer.length)
    throw new DotNetException(
      'ArgumentException',
      'Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.',
    );
  return buffer.subarray(offset, offset + c);
}

export class HashAlgorithm {
  constructor(readonly name: HashName) {}
  get HashSize(): number {
    return HASH_BITS[this.name];
  }
  ComputeHash(buffer: Uint8Array | null, offset?: number, count?: number): Uint8Array {
    return new Uint8Array(
      createHash(NODE_NAMES[this.name])
        .update(slice(buffer, offset, count))
        .digest(),
    );
  }
  Dispose(): void {}
}

/** SHA256.Create() etc. */
export function createHashAlgorithm(name: HashName): HashAlgorithm {
  return new HashAlgorithm(name);
}

/** SHA256.HashData(bytes) etc. */
export function hashData(name: HashName, bytes: Uint8Array | null): Uint8Array {
  return new HashAlgorithm(name).ComputeHash(bytes);
}

export class HMAC {
  readonly Key: Uint8Array;
  constructor(
    readonly name: HashName,
    key?: Uint8Array | null,
    random: RandomSource = defaultRandomSource,
  ) {
    if (key === null) throw argumentNull('key');
    if (key === undefined) {
      // The parameterless constructors generate a random key (64 bytes; 128 for SHA384/512).
      const k = new Uint8Array(name === 'SHA384' || name === 'SHA512' ? 128 : 64);
      random(k);
      this.Key = k;
    } else this.Key = key;
  }
  get HashSize(): number {
    return HASH_BITS[this.name];
  }
  ComputeHash(buffer: Uint8Array | null, offset?: number, count?: number): Uint8Array {
    return new Uint8Array(
      createHmac(NODE_NAMES[this.name], this.Key)
        .update(slice(buffer, offset, count))
        .digest(),
    );
  }
  Dispose(): void {}
}

/** new HMACSHA256(key) etc. */
export function createHmacAlgorithm(name: HashName, key?: Uint8Array | null, random?: RandomSource): HMAC {
  return new HMAC(name, key, random);
}

// ---- Guid ----------------------------------------------------------------------------------------------------------

const BAD_GUID = 'Unrecognized Guid format.';

export class Guid implements DotNetFormattable {
  static readonly Empty = new Guid('00000000000000000000000000000000');

  /** hex: 32 hex digits in display order (use Parse for user text). */
  constructor(hex: string) {
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw formatError(BAD_GUID);
    this.hex = hex.toLowerCase();
  }
  private readonly hex: string;

  /** Guid.NewGuid(): a version 4 GUID from the random source. */
  static NewGuid(random: RandomSource = defaultRandomSource): Guid {
    const b = new Uint8Array(16);
    random(b);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    return new Guid(Buffer.from(b).toString('hex'));
  }

  /** new Guid(string) / Guid.Parse: formats N, D, B, P (and X), case-insensitive, surrounding white space allowed. */
  static Parse(input: string | null): Guid {
    if (input === null) throw argumentNull('input');
    const g = tryParseGuid(input);
    if (!g) throw formatError(BAD_GUID);
    return g;
  }

  static TryParse(input: string | null): { ok: boolean; value: Guid } {
    const g = input === null ? null : tryParseGuid(input);
    return g ? { ok: true, value: g } : { ok: false, value: Guid.Empty };
  }

  static ParseExact(input: string | null, format: string): Guid {
    if (input === null) throw argumentNull('input');
    const g = tryParseGuid(input.trim(), format.toUpperCase());
    if (!g) throw formatError(BAD_GUID);
    return g;
  }

  /** new Guid(byte[16]) with .NET's mixed-endian layout. */
  static fromByteArray(b: Uint8Array): Guid {
    if (b.length !== 16) throw new DotNetException('ArgumentException', "Byte array for Guid must be exactly 16 bytes long. (Parameter 'b')", 'b');
    const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    return new Guid(order.map((i) => b[i]!.toString(16).padStart(2, '0')).join(''));
  }

  ToByteArray(): Uint8Array {
    const d = Buffer.from(this.hex, 'hex');
    const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    return new Uint8Array(order.map((i) => d[i]!));
  }

  Equals(other: unknown): boolean {
    return other instanceof Guid && other.hex === this.hex;
  }

  CompareTo(other: Guid): number {
    return this.hex < other.hex ? -1 : this.hex > other.hex ? 1 : 0;
  }

  ToString(format?: string | null): string {
    const h = this.hex;
    const d = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    switch (format ?? '') {
      case '':
      case 'D':
      case 'd':
        return d;
      case 'N':
      case 'n':
        return h;
      case 'B':
      case 'b':
        return `{${d}}`;
      case 'P':
      case 'p':
        return `(${d})`;
      case 'X':
      case 'x': {
        const b = (s: string) => `0x${s}`;
        const rest = [h.slice(16, 18), h.slice(18, 20), h.slice(20, 22), h.slice(22, 24), h.slice(24, 26), h.slice(26, 28), h.slice(28, 30), h.slice(30, 32)]
          .map(b)
          .join(',');
        return `{${b(h.slice(0, 8))},${b(h.slice(8, 12))},${b(h.slice(12, 16))},{${rest}}}`;
      }
      default:
        throw formatError('Format string can be only "D", "d", "N", "n", "P", "p", "B", "b", "X" or "x".');
    }
  }

  toString(): string {
    return this.ToString();
  }

  toDotNetString(format?: string): string {
    return this.ToString(format);
  }
}

function tryParseGuid(input: string, only?: string): Guid | null {
  const t = input.trim();
  const hex = '[0-9a-fA-F]';
  const forms: Record<string, RegExp> = {
    N: new RegExp(`^(${hex}{32})$`),
    D: new RegExp(`^(${hex}{8})-(${hex}{4})-(${hex}{4})-(${hex}{4})-(${hex}{12})$`),
    B: new RegExp(`^\\{(${hex}{8})-(${hex}{4})-(${hex}{4})-(${hex}{4})-(${hex}{12})\\}$`),
    P: new RegExp(`^\\((${hex}{8})-(${hex}{4})-(${hex}{4})-(${hex}{4})-(${hex}{12})\\)$`),
  };
  for (const [k, re] of Object.entries(forms)) {
    if (only && only !== k) continue;
    const m = re.exec(t);
    if (m) return new Guid(m.slice(1).join('').toLowerCase());
  }
  if (!only || only === 'X') {
    const x = /^\{0[xX]([0-9a-fA-F]{1,8}),0[xX]([0-9a-fA-F]{1,4}),0[xX]([0-9a-fA-F]{1,4}),\{((?:0[xX][0-9a-fA-F]{1,2},){7}0[xX][0-9a-fA-F]{1,2})\}\}$/.exec(
      t.replace(/\s+/g, ''),
    );
    if (x) {
      const bytes = x[4]!.split(',').map((b) => b.slice(2).padStart(2, '0'));
      const h = x[1]!.padStart(8, '0') + x[2]!.padStart(4, '0') + x[3]!.padStart(4, '0') + bytes.join('');
      return new Guid(h.toLowerCase());
    }
  }
  return null;
}

// ---- Random --------------------------------------------------------------------------------------------------------

const MBIG = 2147483647;
const MSEED = 161803398;

/** System.Random with .NET's seeded (legacy subtractive, Knuth) algorithm; unseeded instances seed from a RandomSource. */
export class Random {
  private readonly seedArray = new Int32Array(56);
  private inext = 0;
  private inextp = 21;

  constructor(seed?: number, random: RandomSource = defaultRandomSource) {
    let s = seed;
    if (s === undefined) {
      const b = new Uint8Array(4);
      random(b);
      s = new DataView(b.buffer).getInt32(0);
    }
    const sa = this.seedArray;
    const subtraction = s === -2147483648 ? MBIG : Math.abs(s | 0);
    let mj = MSEED - subtraction;
    sa[55] = mj;
    let mk = 1;
    for (let i = 1; i < 55; i++) {
      const ii = (21 * i) % 55;
      sa[ii] = mk;
      mk = mj - mk;
      if (mk < 0) mk += MBIG;
      mj = sa[ii]!;
    }
    for (let k = 1; k < 5; k++) {
      for (let i = 1; i < 56; i++) {
        sa[i] = sa[i]! - sa[1 + ((i + 30) % 55)]!;
        if (sa[i]! < 0) sa[i] = sa[i]! + MBIG;
      }
    }
  }

  private internalSample(): number {
    let locINext = this.inext;
    let locINextp = this.inextp;
    if (++locINext >= 56) locINext = 1;
    if (++locINextp >= 56) locINextp = 1;
    let ret = this.seedArray[locINext]! - this.seedArray[locINextp]!;
    if (ret === MBIG) ret--;
    if (ret < 0) ret += MBIG;
    this.seedArray[locINext] = ret;
    this.inext = locINext;
    this.inextp = locINextp;
    return ret;
  }

  private sample(): number {
    return this.internalSample() * (1.0 / MBIG);
  }

  private largeRangeSample(): number {
    let result = this.internalSample();
    if (this.internalSample() % 2 === 0) result = -result;
    let d = result;
    d += MBIG - 1;
    d /= 2 * MBIG - 1;
    return d;
  }

  /** Next() / Next(maxValue) / Next(minValue, maxValue). */
  Next(a?: number, b?: number): number {
    if (a === undefined) return this.internalSample();
    if (b === undefined) {
      if (a < 0) throw argumentOutOfRange('maxValue', "'maxValue' must be greater than zero.");
      return Math.trunc(this.sample() * a);
    }
    if (a > b) throw argumentOutOfRange('minValue', "'minValue' cannot be greater than maxValue.");
    const range = b - a;
    if (range <= MBIG) return Math.trunc(this.sample() * range) + a;
    return Math.trunc(this.largeRangeSample() * range) + a;
  }

  NextDouble(): number {
    return this.sample();
  }

  NextBytes(buffer: Uint8Array | null): void {
    if (buffer === null) throw argumentNull('buffer');
    for (let i = 0; i < buffer.length; i++) buffer[i] = this.internalSample() % 256;
  }
}

// ---- APIM Encrypt / Decrypt ----------------------------------------------------------------------------------------

function aesCipherName(key: Uint8Array): string {
  switch (key.length) {
    case 16:
      return 'aes-128-cbc';
    case 24:
      return 'aes-192-cbc';
    case 32:
      return 'aes-256-cbc';
    default:
      throw new DotNetException('CryptographicException', 'Specified key is not a valid size for this algorithm.');
  }
}

function checkAlgorithm(alg: string): void {
  if (!/^(Aes|AES|Rijndael|System\.Security\.Cryptography\.(Aes|Rijndael)(Managed)?)$/.test(alg)) {
    throw new DotNetException(
      'NotSupportedException',
      `Encryption algorithm '${alg}' is not supported by the emulator (supported: Aes, Rijndael with CBC and PKCS7).`,
    );
  }
}

function checkIv(iv: Uint8Array): void {
  if (iv.length !== 16)
    throw new DotNetException('CryptographicException', 'Specified initialization vector (IV) does not match the block size for this algorithm.');
}

/** APIM `byte[].Encrypt(algorithm, key, iv)`: AES-CBC with PKCS7 padding (the .NET Aes defaults). */
export function encrypt(input: Uint8Array | null, algorithm: string, key: Uint8Array, iv: Uint8Array): Uint8Array {
  if (input === null) throw argumentNull('input');
  checkAlgorithm(algorithm);
  checkIv(iv);
  const c = createCipheriv(aesCipherName(key), key, iv);
  return new Uint8Array(Buffer.concat([c.update(input), c.final()]));
}

/** APIM `byte[].Decrypt(algorithm, key, iv)`. */
export function decrypt(input: Uint8Array | null, algorithm: string, key: Uint8Array, iv: Uint8Array): Uint8Array {
  if (input === null) throw argumentNull('input');
  checkAlgorithm(algorithm);
  checkIv(iv);
  const d = createDecipheriv(aesCipherName(key), key, iv);
  try {
    return new Uint8Array(Buffer.concat([d.update(input), d.final()]));
  } catch {
    throw new DotNetException('CryptographicException', 'Padding is invalid and cannot be removed.');
  }
}

/**
 * System.Security.Cryptography.SymmetricAlgorithm as APIM's allowed-types list exposes it: `SymmetricAlgorithm.Create
 * ("Aes")` gives an AES instance with a random 256-bit Key and 128-bit IV (the .NET defaults), usable with APIM's
 * `byte[].Encrypt(alg)` / `Decrypt(alg)`. CBC with PKCS7 padding, .NET's defaults, is the only mode emulated.
 */
export class SymmetricAlgorithm {
  static readonly clrTypeName = 'System.Security.Cryptography.SymmetricAlgorithm';
  private key: Uint8Array;
  private iv: Uint8Array;
  constructor(readonly algorithm: string) {
    this.key = randomBytesOf(32);
    this.iv = randomBytesOf(16);
  }
  static Create(name: string | null): SymmetricAlgorithm {
    if (name === null) throw argumentNull('algName');
    checkAlgorithm(name);
    return new SymmetricAlgorithm(name);
  }
  get Key(): Uint8Array {
    return this.key.slice();
  }
  set Key(k: Uint8Array) {
    if (k === null || k === undefined) throw argumentNull('value');
    aesCipherName(k);
    this.key = k.slice();
  }
  get IV(): Uint8Array {
    return this.iv.slice();
  }
  set IV(v: Uint8Array) {
    if (v === null || v === undefined) throw argumentNull('value');
    checkIv(v);
    this.iv = v.slice();
  }
  get KeySize(): number {
    return this.key.length * 8;
  }
  get BlockSize(): number {
    return 128;
  }
  GenerateKey(): void {
    this.key = randomBytesOf(this.key.length);
  }
  GenerateIV(): void {
    this.iv = randomBytesOf(16);
  }
}

function randomBytesOf(n: number): Uint8Array {
  const b = new Uint8Array(n);
  randomFillSync(b);
  return b;
}

/** APIM `byte[].Encrypt(SymmetricAlgorithm[, key, iv])`: the algorithm's own Key and IV unless given. */
export function encryptWith(input: Uint8Array | null, alg: SymmetricAlgorithm | null, key?: Uint8Array, iv?: Uint8Array): Uint8Array {
  if (alg === null) throw argumentNull('alg');
  return encrypt(input, alg.algorithm, key ?? alg.Key, iv ?? alg.IV);
}
export function decryptWith(input: Uint8Array | null, alg: SymmetricAlgorithm | null, key?: Uint8Array, iv?: Uint8Array): Uint8Array {
  if (alg === null) throw argumentNull('alg');
  return decrypt(input, alg.algorithm, key ?? alg.Key, iv ?? alg.IV);
}

import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Compact signed tokens: base64url(payload) "." base64url(HMAC-SHA256(secret, kind ‖ payload)).
 * The kind byte keeps a user token from ever passing as a queue token and vice versa.
 * Checking one needs no store, so any instance sharing the secret can do it.
 */
export class Signer {
  constructor(private readonly secret: Buffer) {}

  private mac(kind: number, payload: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(Buffer.of(kind)).update(payload).digest();
  }

  sign(kind: number, payload: Buffer): string {
    return `${payload.toString('base64url')}.${this.mac(kind, payload).toString('base64url')}`;
  }

  /** The payload when the token is well formed and its signature is right, else null. */
  open(kind: number, token: string): Buffer | null {
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.') || token.length > 512) return null;
    const encoded = token.slice(0, dot);
    const payload = Buffer.from(encoded, 'base64url');
    // base64url decoding is lenient (padding bits, stray characters): comparing the canonical
    // encodings means exactly one spelling of each token is accepted.
    if (payload.toString('base64url') !== encoded) return null;
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(kind, payload).toString('base64url'));
    return given.length === expected.length && timingSafeEqual(given, expected) ? payload : null;
  }
}

/**
 * Tokens already verified, with what they name. A token's verdict under a secret never
 * changes, so a hot token (a buyer polling every second) costs one HMAC instead of one per
 * request. Bounded: when full it starts over, which only costs re-verification.
 */
export class VerifiedTokens<T> {
  private readonly known = new Map<string, T>();

  constructor(private readonly capacity = 100_000) {}

  verify(token: string, check: (token: string) => T | null): T | null {
    const hit = this.known.get(token);
    if (hit !== undefined) return hit;
    const value = check(token);
    if (value !== null) {
      if (this.known.size >= this.capacity) this.known.clear();
      this.known.set(token, value);
    }
    return value;
  }
}

export const TOKEN_KIND = { user: 1, queue: 2 } as const;

export function uuidToBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

export function bytesToUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

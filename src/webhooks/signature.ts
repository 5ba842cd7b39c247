import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `Boxoffice-Signature` header of API.md: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<raw body>" keyed by WEBHOOK_SECRET>`. The time is inside the signed text, so a receiver
 * that refuses old `t` values also refuses replays of a captured request.
 */
export const SIGNATURE_HEADER = 'boxoffice-signature';

export function signatureOf(secret: string, unixSeconds: number, body: string): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/**
 * What a receiver does (and the tests do): recompute the HMAC over the raw body as received and
 * compare in constant time. Returns the signed time (unix seconds) when it verifies, else null.
 */
export function verifySignature(secret: string, header: string | undefined, body: string): number | null {
  if (!header) return null;
  const parts = new Map(
    header.split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (!t || !/^\d+$/.test(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return null;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex')) ? Number(t) : null;
}

import { sign, verify } from 'node:crypto';
import { AppError } from '../shared/errors.js';
import { KID_PATTERN, type TicketKeys } from './ticket-keys.js';

/**
 * What a ticket code says: the ticket (the reservation of a paid seat), its show and its place,
 * so a gate offline can show the usher where the holder sits.
 */
export interface TicketClaims {
  /** Ticket id: the reservation id of the paid seat. */
  tid: string;
  /** Concert id. */
  cid: string;
  /** Show date, YYYY-MM-DD. */
  date: string;
  /** Seat number within the show. */
  seat: number;
  /** Section name, row (1 = front) and number in the row. */
  sec: string;
  row: number;
  num: number;
}

/**
 * Ticket codes are compact JWS (RFC 7515) signed with Ed25519 (RFC 8037, alg EdDSA):
 * base64url(header) '.' base64url(claims) '.' base64url(signature), the header being
 * {"alg":"EdDSA","kid":…}. A standard form, so a gate can verify a code offline with any JOSE
 * library (or WebCrypto's Ed25519) and the JWK set of GET /api/v1/tickets/keys.
 *
 * Far longer than any code this service signs (about 400 characters): the length is checked
 * before anything is decoded or parsed, so a huge input costs nothing.
 */
export const MAX_CODE_LENGTH = 1024;

const PART = '[A-Za-z0-9_-]+';
const SHAPE = new RegExp(`^${PART}\\.${PART}\\.${PART}$`);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DATE = /^20[0-9]{2}-[0-9]{2}-[0-9]{2}$/;
const ED25519_SIGNATURE_BYTES = 64;

export function signTicket(keys: TicketKeys, claims: TicketClaims): string {
  const { kid, privateKey } = keys.signing;
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid })).toString('base64url');
  const payload = Buffer.from(
    JSON.stringify({
      tid: claims.tid,
      cid: claims.cid,
      date: claims.date,
      seat: claims.seat,
      sec: claims.sec,
      row: claims.row,
      num: claims.num,
    }),
  ).toString('base64url');
  const signature = sign(null, Buffer.from(`${header}.${payload}`, 'ascii'), privateKey);
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

function invalid(why: string): AppError {
  return new AppError('TICKET_CODE_INVALID', `The ticket code is not one this service signed (${why})`);
}

/**
 * base64url in its one canonical spelling only: Node's decoder skips stray characters and
 * ignores the unused low bits of the last character, so without this check a code with such
 * a bit flipped would decode to the same bytes and still verify.
 */
function decodePart(part: string): Buffer | undefined {
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : undefined;
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isClaims(value: unknown): value is TicketClaims {
  if (!isObject(value)) return false;
  const { tid, cid, date, seat, sec, row, num } = value;
  return (
    typeof tid === 'string' &&
    UUID.test(tid) &&
    typeof cid === 'string' &&
    UUID.test(cid) &&
    typeof date === 'string' &&
    DATE.test(date) &&
    Number.isSafeInteger(seat) &&
    typeof sec === 'string' &&
    Number.isSafeInteger(row) &&
    Number.isSafeInteger(num)
  );
}

/**
 * The claims of a code this service signed, or TICKET_CODE_INVALID: anything too long, not
 * three canonical base64url parts, a header other than EdDSA with a known kid, or a signature
 * that does not verify. The signature is checked before the claims are parsed at all.
 */
export async function verifyTicket(keys: TicketKeys, code: string): Promise<TicketClaims> {
  if (code.length === 0) throw invalid('empty');
  if (code.length > MAX_CODE_LENGTH) throw invalid('too long');
  if (!SHAPE.test(code)) throw invalid('not three base64url parts');
  const [headerPart, payloadPart, signaturePart] = code.split('.') as [string, string, string];
  const headerBytes = decodePart(headerPart);
  const payloadBytes = decodePart(payloadPart);
  const signature = decodePart(signaturePart);
  if (!headerBytes || !payloadBytes || !signature) throw invalid('not canonical base64url');
  const header = parseJson(headerBytes);
  if (
    !isObject(header) ||
    Object.keys(header).length !== 2 ||
    header.alg !== 'EdDSA' ||
    typeof header.kid !== 'string' ||
    !KID_PATTERN.test(header.kid)
  ) {
    throw invalid('bad header');
  }
  const publicKey = await keys.publicKey(header.kid);
  if (!publicKey) throw invalid('unknown key');
  if (signature.length !== ED25519_SIGNATURE_BYTES) throw invalid('bad signature');
  if (!verify(null, Buffer.from(`${headerPart}.${payloadPart}`, 'ascii'), publicKey, signature)) {
    throw invalid('bad signature');
  }
  const claims = parseJson(payloadBytes);
  // Only this service's own signature gets here: a malformed claim set means a bug, still refused.
  if (!isClaims(claims)) throw invalid('bad claims');
  return claims;
}

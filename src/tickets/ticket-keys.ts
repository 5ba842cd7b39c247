import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import { ConfigError } from '../config.js';
import type { Db } from '../db/client.js';
import { ticketKeys } from '../db/schema.js';

/** A ticket key that cannot be used: start-up stops rather than sign with, or trust, a broken key. */
export class TicketKeyError extends ConfigError {
  override name = 'TicketKeyError';
}

/** One public key of the JWK set a gate verifies codes with (RFC 8037: an Ed25519 OKP key). */
export interface TicketJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

/** A kid: the first 12 bytes of the SHA-256 of the raw public key, base64url (16 characters). */
export const KID_PATTERN = /^[A-Za-z0-9_-]{16}$/;

/**
 * The key a public key is known by: derived from the key itself, so every instance names one
 * key alike without agreeing on anything, and a kid can never be re-pointed at another key.
 */
export function kidOf(publicKey: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(publicKey)).digest().subarray(0, 12).toString('base64url');
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  return Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
}

function jwkOf(kid: string, publicKey: KeyObject): TicketJwk {
  return {
    kty: 'OKP',
    crv: 'Ed25519',
    x: publicKey.export({ format: 'jwk' }).x as string,
    kid,
    alg: 'EdDSA',
    use: 'sig',
  };
}

/** Parses a private key and insists it is Ed25519; `where` names its source in the error. */
function ed25519PrivateKey(pem: string | null, where: string): KeyObject {
  if (!pem?.trim()) throw new TicketKeyError(`${where} is empty`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new TicketKeyError(`${where} is not a readable private key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TicketKeyError(
      `${where} is a ${key.asymmetricKeyType} key; ticket codes are signed with Ed25519`,
    );
  }
  return key;
}

function ed25519PublicKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new TicketKeyError(`${where} is not a readable public key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new TicketKeyError(`${where} is not an Ed25519 key`);
  return key;
}

/**
 * The keys of ticket codes: the one that signs new codes, and every key that ever signed one
 * (the table ticket_keys), which verify. Keys never leave the table, so a code issued before
 * TICKET_SIGNING_KEY was set or changed still verifies, and /tickets/keys lists them all.
 */
export class TicketKeys {
  private constructor(
    private readonly db: Db,
    /** The key new codes are signed with, and its kid. */
    readonly signing: { kid: string; privateKey: KeyObject },
    /** Public keys by kid; rows never change (a kid is its key's hash), so a key read once is kept. */
    private readonly known: Map<string, KeyObject>,
  ) {}

  /**
   * Settles the signing key at start-up. TICKET_SIGNING_KEY wins when set: its public key is
   * recorded as a 'configured' row (the private key stays in the setting only). Otherwise the
   * database keeps one generated key (PGlite in DATA_DIR, or the PostgreSQL server every
   * instance shares): each starting instance offers a fresh key with INSERT … ON CONFLICT DO
   * NOTHING on the one-generated index (ticket_keys_one_generated), then reads back the row
   * that won, so instances starting together sign with one key, whichever inserted it.
   * Every stored key is checked; a damaged one stops start-up with a message saying which.
   */
  static async load(db: Db, configuredPem: string | undefined, now: number): Promise<TicketKeys> {
    const createdAt = new Date(now);
    let signing: { kid: string; privateKey: KeyObject };
    if (configuredPem !== undefined) {
      const privateKey = ed25519PrivateKey(configuredPem, 'TICKET_SIGNING_KEY');
      const publicKey = createPublicKey(privateKey);
      const kid = kidOf(publicKey);
      await db
        .insert(ticketKeys)
        .values({
          kid,
          origin: 'configured',
          publicKey: publicKey.export({ format: 'pem', type: 'spki' }) as string,
          privateKey: null,
          createdAt,
        })
        .onConflictDoNothing();
      signing = { kid, privateKey };
    } else {
      const offered = generateKeyPairSync('ed25519');
      await db
        .insert(ticketKeys)
        .values({
          kid: kidOf(offered.publicKey),
          origin: 'generated',
          publicKey: offered.publicKey.export({ format: 'pem', type: 'spki' }) as string,
          privateKey: offered.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
          createdAt,
        })
        // No target: the conflict that matters is the partial one-generated index.
        .onConflictDoNothing();
      const [row] = await db.select().from(ticketKeys).where(eq(ticketKeys.origin, 'generated'));
      if (!row) throw new TicketKeyError('the generated ticket key was neither inserted nor found');
      const where = `the generated ticket key ${row.kid} stored in ticket_keys`;
      const privateKey = ed25519PrivateKey(row.privateKey, where);
      const publicKey = createPublicKey(privateKey);
      if (kidOf(publicKey) !== row.kid || kidOf(ed25519PublicKey(row.publicKey, where)) !== row.kid) {
        throw new TicketKeyError(`${where} does not match its kid or public key (damaged)`);
      }
      signing = { kid: row.kid, privateKey };
    }
    const known = new Map<string, KeyObject>();
    for (const row of await db
      .select()
      .from(ticketKeys)
      .orderBy(asc(ticketKeys.createdAt), asc(ticketKeys.kid))) {
      known.set(row.kid, TicketKeys.checkedPublicKey(row.kid, row.publicKey));
    }
    return new TicketKeys(db, signing, known);
  }

  private static checkedPublicKey(kid: string, pem: string): KeyObject {
    const where = `the ticket key ${kid} stored in ticket_keys`;
    const key = ed25519PublicKey(pem, where);
    if (kidOf(key) !== kid) throw new TicketKeyError(`${where} does not match its kid (damaged)`);
    return key;
  }

  /**
   * The public key of `kid`, or undefined when no such key ever signed. A kid this instance
   * has not seen yet (another instance started with a new TICKET_SIGNING_KEY since) is looked
   * up in the database: one primary-key read, the same cost as the check-in it precedes.
   */
  async publicKey(kid: string): Promise<KeyObject | undefined> {
    const cached = this.known.get(kid);
    if (cached) return cached;
    if (!KID_PATTERN.test(kid)) return undefined;
    const [row] = await this.db
      .select({ publicKey: ticketKeys.publicKey })
      .from(ticketKeys)
      .where(eq(ticketKeys.kid, kid));
    if (!row) return undefined;
    let key: KeyObject;
    try {
      key = TicketKeys.checkedPublicKey(kid, row.publicKey);
    } catch {
      return undefined;
    }
    this.known.set(kid, key);
    return key;
  }

  /** Every key that ever signed a code, oldest first, as a JWK set (read fresh: rows only accrue). */
  async jwks(): Promise<{ keys: TicketJwk[] }> {
    const rows = await this.db
      .select({ kid: ticketKeys.kid, publicKey: ticketKeys.publicKey })
      .from(ticketKeys)
      .orderBy(asc(ticketKeys.createdAt), asc(ticketKeys.kid));
    const keys: TicketJwk[] = [];
    for (const row of rows) {
      const key = await this.publicKey(row.kid);
      if (key) keys.push(jwkOf(row.kid, key));
    }
    return { keys };
  }
}

/** For tests and operators: a fresh Ed25519 private key in the PKCS#8 PEM form TICKET_SIGNING_KEY takes. */
export function newSigningKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
}

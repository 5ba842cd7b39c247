import { bytesToUuid, type Signer, TOKEN_KIND, uuidToBytes, VerifiedTokens } from '../auth/signer.js';

/** A user's bearer token: the user id under the server's signature. */
export class AccessTokens {
  private readonly verified = new VerifiedTokens<string>();

  constructor(private readonly signer: Signer) {}

  issue(userId: string): string {
    return this.signer.sign(TOKEN_KIND.user, uuidToBytes(userId));
  }

  /** The user id, or null for anything not issued by this server. */
  verify(token: string): string | null {
    return this.verified.verify(token, (t) => {
      const payload = this.signer.open(TOKEN_KIND.user, t);
      return payload?.length === 16 ? bytesToUuid(payload) : null;
    });
  }
}

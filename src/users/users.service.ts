import { randomUUID } from 'node:crypto';
import type { Db } from '../db/client.js';
import { users } from '../db/schema.js';
import type { AccessTokens } from './access-token.js';

export class UsersService {
  constructor(
    private readonly db: Db,
    private readonly tokens: AccessTokens,
  ) {}

  async create(name: string | undefined, now: number): Promise<{ userId: string; accessToken: string }> {
    const userId = randomUUID();
    await this.db.insert(users).values({ id: userId, name: name ?? null, createdAt: new Date(now) });
    return { userId, accessToken: this.tokens.issue(userId) };
  }
}

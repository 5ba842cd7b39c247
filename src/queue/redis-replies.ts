import type { AdvanceResult, JoinResult, QueueSettings, TicketView } from './queue-store.js';

/** Decoding the line scripts' replies (src/queue/lua) into the store's types. */

export function toInt(value: unknown, what: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw new Error(`queue store: ${what} is not a number: ${String(value)}`);
  }
  return n;
}

export function toArray(reply: unknown, what: string): unknown[] {
  if (!Array.isArray(reply)) throw new Error(`queue store: ${what} reply is not an array`);
  return reply;
}

export function decodeSettings(values: unknown[], offset: number): QueueSettings {
  return {
    maxActive: toInt(values[offset], 'maxActive'),
    admitPerSecond: toInt(values[offset + 1], 'admitPerSecond'),
    paused: toInt(values[offset + 2], 'paused') === 1,
  };
}

/** Decodes a view as lua/includes/view.lua encodes it, starting at `offset`. */
export function decodeView(values: unknown[], offset: number): TicketView {
  const state = toInt(values[offset], 'state');
  if (state === 0)
    return toInt(values[offset + 1], 'lost') === 1 ? { state: 'EXPIRED', lost: true } : { state: 'EXPIRED' };
  if (state === 1) return { state: 'ACTIVE', activeUntil: toInt(values[offset + 1], 'activeUntil') };
  return {
    state: 'WAITING',
    position: toInt(values[offset + 1], 'position'),
    admissions: {
      count: toInt(values[offset + 2], 'admissions count'),
      spanMs: toInt(values[offset + 3], 'admissions span'),
    },
    settings: decodeSettings(values, offset + 4),
  };
}

/** join-10.lua's reply: per user, the ticket, created, started, then the view. */
export function decodeJoined(reply: unknown): JoinResult[] {
  return toArray(reply, 'joinMany').map((item) => {
    const values = toArray(item, 'joinMany item');
    return {
      ticket: toInt(values[0], 'ticket'),
      created: toInt(values[1], 'created') === 1,
      started: toInt(values[2], 'started') === 1,
      view: decodeView(values, 3),
    };
  });
}

/** advance-10.lua's reply: admitted, settingsMissing, waiting, active, lost. */
export function decodeAdvance(reply: unknown): AdvanceResult {
  const values = toArray(reply, 'advance');
  return {
    admitted: toInt(values[0], 'admitted'),
    settingsMissing: toInt(values[1], 'settingsMissing') === 1,
    live: toInt(values[2], 'waiting') + toInt(values[3], 'active') > 0,
    lost: toInt(values[4], 'lost') === 1,
  };
}

import { describe, expect, test } from 'vitest';
import { addDays, todayUtc } from '../../src/concerts/dates.js';
import { holdExpiry } from '../../src/reservations/reservation-rules.js';
import { isChargeAmount } from '../../src/shared/money.js';

describe('hold expiry', () => {
  const now = Date.parse('2026-12-01T12:00:00.000Z');

  // What a hold's status reads as at its expiry is the database's rule (reservation_status):
  // test/db/hold-rules.test.ts.
  test('when a seat is held for the hold time, then it ends that many milliseconds later', () => {
    expect(holdExpiry(now, 300_000).toISOString()).toBe('2026-12-01T12:05:00.000Z');
  });
});

describe('money limits', () => {
  test('when a charge is not a whole number of won from 1 to 10,000,000, then it is not a charge', () => {
    expect([1, 10_000_000].map(isChargeAmount)).toEqual([true, true]);
    expect([0, -1, 1.5, 10_000_001, Number.NaN, 2 ** 53].map(isChargeAmount)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('show dates', () => {
  test('when it is late on a UTC day, then today is still that UTC day', () => {
    expect(todayUtc(Date.parse('2026-12-24T23:59:59.999Z'))).toBe('2026-12-24');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
  });
});

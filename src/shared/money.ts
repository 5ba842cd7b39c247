/** Money is an integer number of won (KRW has no minor unit). */
export const MAX_BALANCE = 1_000_000_000;
export const MIN_CHARGE = 1;
export const MAX_CHARGE = 10_000_000;
export const MAX_PRICE = 10_000_000;

/** A charge is a whole number of won within API.md's range. */
export function isChargeAmount(amount: number): boolean {
  return Number.isSafeInteger(amount) && amount >= MIN_CHARGE && amount <= MAX_CHARGE;
}

/** Money is an integer number of won (KRW has no minor unit). */
export const MAX_BALANCE = 1_000_000_000;
export const MIN_CHARGE = 1;
export const MAX_CHARGE = 10_000_000;
export const MAX_PRICE = 10_000_000;

/** Whether a charge keeps the balance within its limit. */
export function canCharge(balance: number, amount: number): boolean {
  return (
    Number.isSafeInteger(amount) &&
    amount >= MIN_CHARGE &&
    amount <= MAX_CHARGE &&
    balance + amount <= MAX_BALANCE
  );
}

/** Whether the balance covers a price. */
export function canPay(balance: number, price: number): boolean {
  return balance >= price;
}

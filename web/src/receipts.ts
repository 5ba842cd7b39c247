import { api, type Payment } from './api';

// A payment just made is shown at once; after a reload it is found in GET /payments.
const recent = new Map<string, Payment>();

export function rememberPayment(payment: Payment): void {
  recent.set(payment.paymentId, payment);
}

/** After a refund: the payment kept from its POST answer is out of date. */
export function forgetPayment(paymentId: string): void {
  recent.delete(paymentId);
}

export async function findPayment(accessToken: string, paymentId: string): Promise<Payment | null> {
  const known = recent.get(paymentId);
  if (known) return known;
  const payments = await api.listPayments(accessToken);
  return payments.find((payment) => payment.paymentId === paymentId) ?? null;
}

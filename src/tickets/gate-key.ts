import type { AttemptBudget } from '../http/attempt-budget.js';
import { type Hook, requireKey } from '../http/auth.js';

/**
 * `Gate-Key: <GATE_KEY>` for the gate scanners. Wrong keys spend the same per-address attempt
 * budget as wrong admin keys (ADMIN_KEY_FAILURES_PER_HOUR), so guessing one key does not buy
 * guesses at the other. With GATE_KEY unset, check-in is off: 401 UNAUTHENTICATED, as API.md
 * says for a missing key, with a detail that says it is off (not 404: the path exists, and a
 * scanner misconfigured either way shows the same "not authorised" state).
 */
export function requireGateKey(gateKey: string | undefined, budget: AttemptBudget): Hook {
  return requireKey({
    expected: gateKey,
    given: (request) => {
      const value = request.headers['gate-key'];
      return typeof value === 'string' && value !== '' ? value : undefined;
    },
    budget,
    missingDetail: 'Send the Gate-Key header',
    offDetail: 'Check-in is off: start the server with GATE_KEY set',
  });
}

// One solver of a proof-of-work challenge, off the page's thread (see proof-of-work.ts). The
// library's own browser message handler, with WebCrypto's PBKDF2: native code in the browser,
// as fast per core as a bot's.
import { deriveKey } from 'altcha-lib/algorithms/web/pbkdf2';
import { handler } from 'altcha-lib/workers/shared';

handler({ deriveKey });

/**
 * Generated from the server's OpenAPI document by scripts/web-types.ts: do not edit.
 * Regenerate with `npm run generate:web-types` after changing a route's schema or an error code.
 */

export interface paths {
  '/api/v1/users': {
    /** Create a user and get its access token */
    post: {
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            /** @description solved GET /api/v1/challenge; needed when SIGNUP_CHALLENGE is on */
            proof?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              userId: string;
              accessToken: string;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        403: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/queue/tokens': {
    /** Join the line of a concert (or get your current token back) */
    post: {
      requestBody: {
        content: {
          'application/json': {
            /**
             * Format: uuid
             * @description UUID
             */
            concertId: string;
            /** @description solved GET /api/v1/challenge (base64 ALTCHA payload); needed while the concert asks */
            proof?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              token: string;
              /**
               * Format: uuid
               * @description UUID
               */
              concertId: string;
              status: 'WAITING' | 'ACTIVE' | 'EXPIRED';
              position: number | null;
              estimatedWaitSeconds: number | null;
              activeUntil: string | null;
              /** @description the token’s ticket number, as the draw lists it */
              ticket: number;
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              saleOpensAt?: string;
            };
          };
        };
        /** @description Default Response */
        201: {
          content: {
            'application/json': {
              token: string;
              /**
               * Format: uuid
               * @description UUID
               */
              concertId: string;
              status: 'WAITING' | 'ACTIVE' | 'EXPIRED';
              position: number | null;
              estimatedWaitSeconds: number | null;
              activeUntil: string | null;
              /** @description the token’s ticket number, as the draw lists it */
              ticket: number;
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              saleOpensAt?: string;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        403: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        409: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/queue/status': {
    /** Your place in line; polling this keeps it */
    get: {
      parameters: {
        header?: {
          'queue-token'?: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              token: string;
              /**
               * Format: uuid
               * @description UUID
               */
              concertId: string;
              status: 'WAITING' | 'ACTIVE' | 'EXPIRED';
              position: number | null;
              estimatedWaitSeconds: number | null;
              activeUntil: string | null;
              /** @description the token’s ticket number, as the draw lists it */
              ticket: number;
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              saleOpensAt?: string;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/queue/tokens/current': {
    /** Leave the line, or give back an active slot */
    delete: {
      parameters: {
        header?: {
          'queue-token'?: string;
        };
      };
      responses: {
        /** @description Default Response */
        204: {
          content: never;
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/queue/events': {
    /**
     * Server-Sent Events: the queue status whenever it changes (heartbeat every 15 s)
     * @description At most 3 open streams per queue token (a fourth is 429 RATE_LIMITED); an instance at its stream capacity answers 503 UNAVAILABLE with Retry-After, and the client polls /api/v1/queue/status instead.
     */
    get: {
      parameters: {
        query: {
          token: string;
        };
      };
      responses: {
        /** @description text/event-stream: each event’s data is a queue status object */
        200: {
          content: {
            'text/event-stream': string;
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        503: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/challenge': {
    /**
     * A proof-of-work challenge (ALTCHA), valid 5 minutes
     * @description Solve it (altcha-lib solveChallenge, or the altcha widget) and send base64(JSON {challenge, solution}) as "proof" when joining a line whose concert asks for it, or signing up when SIGNUP_CHALLENGE is on. Each challenge is accepted once.
     */
    get: {
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              parameters: {
                algorithm: string;
                nonce: string;
                salt: string;
                cost: number;
                keyLength: number;
                keyPrefix: string;
                keySignature: string;
                /** @description seconds since the epoch */
                expiresAt: number;
                [key: string]: unknown;
              };
              signature: string;
              [key: string]: unknown;
            };
          };
        };
      };
    };
  };
  '/api/v1/concerts': {
    /** Concerts and their upcoming dates */
    get: {
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              concertId: string;
              title: string;
              venue: string;
              dates: string[];
              /** @description scheduled opening; null: on sale now */
              saleOpensAt: string | null;
            }[];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/concerts/{concertId}/dates': {
    /** Dates not in the past with seats left (gated) */
    get: {
      parameters: {
        header?: {
          'queue-token'?: string;
        };
        path: {
          /** @description UUID */
          concertId: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: date
               * @description YYYY-MM-DD
               */
              date: string;
              totalSeats: number;
              availableSeats: number;
            }[];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        403: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/concerts/{concertId}/dates/{date}/seats': {
    /**
     * The seats of a show, or of one section, with price and state (gated)
     * @description Without `section`, every seat of a show of at most 5000 seats.
     */
    get: {
      parameters: {
        query?: {
          section?: string;
        };
        header?: {
          'queue-token'?: string;
        };
        path: {
          /** @description UUID */
          concertId: string;
          /**
           * @description YYYY-MM-DD
           * @example 2026-12-24
           */
          date: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: date
               * @description YYYY-MM-DD
               */
              date: string;
              availableSeats: number;
              seats: {
                seatNumber: number;
                section: string;
                /** @description 1 = the front row of its section */
                row: number;
                /** @description place in the row, from the left */
                number: number;
                grade: string;
                price: number;
                status: 'AVAILABLE' | 'HELD' | 'SOLD';
              }[];
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        403: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/concerts/{concertId}/dates/{date}/sections': {
    /** The venue at a glance: each section with its grade, price and seats left (gated) */
    get: {
      parameters: {
        header?: {
          'queue-token'?: string;
        };
        path: {
          /** @description UUID */
          concertId: string;
          /**
           * @description YYYY-MM-DD
           * @example 2026-12-24
           */
          date: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              section: string;
              grade: string;
              price: number;
              totalSeats: number;
              availableSeats: number;
            }[];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        403: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/concerts/{concertId}/draw': {
    /**
     * The pre-queue draw of a scheduled sale: commitment before, seed and order after
     * @description Recompute the order with scripts/verify-draw.mjs: SHA-256(seed) must equal seedCommitment, and the Fisher–Yates shuffle of the sorted tickets keyed by SHA-256(seed ‖ SHA-256(tickets joined by ",")) must give `tickets`.
     */
    get: {
      parameters: {
        path: {
          /** @description UUID */
          concertId: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              saleOpensAt: string;
              /** @description hex SHA-256 of the seed bytes */
              seedCommitment: string;
              /** @description hex; revealed once the sale has opened */
              seed: string | null;
              /** @description pre-queued tickets in drawn order (first is admitted first) */
              tickets: number[] | null;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/reservations': {
    /** Your reservations, newest first */
    get: {
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              reservationId: string;
              /**
               * Format: uuid
               * @description UUID
               */
              concertId: string;
              /**
               * Format: date
               * @description YYYY-MM-DD
               */
              date: string;
              seatNumber: number;
              section: string;
              /** @description 1 = the front row of its section */
              row: number;
              /** @description place in the row */
              number: number;
              grade: string;
              price: number;
              status: 'HELD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED' | 'REFUNDED';
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              holdExpiresAt: string;
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              createdAt: string;
            }[];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    /** Hold a seat, these seats, or the best seats for HOLD_TTL_SECONDS (gated by the body’s concert) */
    post: {
      parameters: {
        header?: {
          'queue-token'?: string;
        };
      };
      requestBody: {
        content: {
          'application/json':
            | {
                /**
                 * Format: uuid
                 * @description UUID
                 */
                concertId: string;
                /**
                 * Format: date
                 * @description YYYY-MM-DD
                 */
                date: string;
                seatNumber: number;
              }
            | {
                /**
                 * Format: uuid
                 * @description UUID
                 */
                concertId: string;
                /**
                 * Format: date
                 * @description YYYY-MM-DD
                 */
                date: string;
                seatNumbers: number[];
              }
            | {
                /**
                 * Format: uuid
                 * @description UUID
                 */
                concertId: string;
                /**
                 * Format: date
                 * @description YYYY-MM-DD
                 */
                date: string;
                quantity: number;
                section?: string;
                grade?: string;
              };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          content: {
            'application/json':
              | {
                  /**
                   * Format: uuid
                   * @description UUID
                   */
                  reservationId: string;
                  /**
                   * Format: uuid
                   * @description UUID
                   */
                  concertId: string;
                  /**
                   * Format: date
                   * @description YYYY-MM-DD
                   */
                  date: string;
                  seatNumber: number;
                  section: string;
                  /** @description 1 = the front row of its section */
                  row: number;
                  /** @description place in the row */
                  number: number;
                  grade: string;
                  price: number;
                  status: 'HELD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED' | 'REFUNDED';
                  /**
                   * Format: date-time
                   * @description ISO-8601, UTC
                   */
                  holdExpiresAt: string;
                  /**
                   * Format: date-time
                   * @description ISO-8601, UTC
                   */
                  createdAt: string;
                }
              | {
                  reservations: {
                    /**
                     * Format: uuid
                     * @description UUID
                     */
                    reservationId: string;
                    /**
                     * Format: uuid
                     * @description UUID
                     */
                    concertId: string;
                    /**
                     * Format: date
                     * @description YYYY-MM-DD
                     */
                    date: string;
                    seatNumber: number;
                    section: string;
                    /** @description 1 = the front row of its section */
                    row: number;
                    /** @description place in the row */
                    number: number;
                    grade: string;
                    price: number;
                    status: 'HELD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED' | 'REFUNDED';
                    /**
                     * Format: date-time
                     * @description ISO-8601, UTC
                     */
                    holdExpiresAt: string;
                    /**
                     * Format: date-time
                     * @description ISO-8601, UTC
                     */
                    createdAt: string;
                  }[];
                };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        403: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        409: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/reservations/{reservationId}': {
    /** One of your reservations */
    get: {
      parameters: {
        path: {
          /** @description UUID */
          reservationId: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              reservationId: string;
              /**
               * Format: uuid
               * @description UUID
               */
              concertId: string;
              /**
               * Format: date
               * @description YYYY-MM-DD
               */
              date: string;
              seatNumber: number;
              section: string;
              /** @description 1 = the front row of its section */
              row: number;
              /** @description place in the row */
              number: number;
              grade: string;
              price: number;
              status: 'HELD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED' | 'REFUNDED';
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              holdExpiresAt: string;
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              createdAt: string;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    /** Cancel a held seat; it is free at once */
    delete: {
      parameters: {
        path: {
          /** @description UUID */
          reservationId: string;
        };
      };
      responses: {
        /** @description Default Response */
        204: {
          content: never;
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        409: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/balance': {
    /** Your balance in won */
    get: {
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              userId: string;
              balance: number;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/balance/charges': {
    /** Charge your balance (idempotent with Idempotency-Key) */
    post: {
      parameters: {
        header?: {
          /** @description Repeat a write safely: same key, same body */
          'idempotency-key'?: string;
        };
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description won */
            amount: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              userId: string;
              balance: number;
              charged: number;
              /**
               * Format: uuid
               * @description UUID
               */
              transactionId: string;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        409: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/balance/history': {
    /** Every change of your balance, newest first; it sums to the balance */
    get: {
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              transactionId: string;
              type: 'CHARGE' | 'PAYMENT' | 'REFUND';
              /** @description signed: a PAYMENT is negative */
              amount: number;
              balanceAfter: number;
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              createdAt: string;
            }[];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/payments': {
    /** Your payments, newest first */
    get: {
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              paymentId: string;
              /**
               * Format: uuid
               * @description UUID
               */
              concertId: string;
              /**
               * Format: date
               * @description YYYY-MM-DD
               */
              date: string;
              status: 'PAID' | 'REFUNDED';
              /** @description the total */
              amount: number;
              /** @description what is left after this payment */
              balance: number;
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              paidAt: string;
              reservationIds: string[];
              seats: {
                /**
                 * Format: uuid
                 * @description UUID
                 */
                reservationId: string;
                seatNumber: number;
                section: string;
                row: number;
                number: number;
                grade: string;
                price: number;
              }[];
              /**
               * Format: uuid
               * @description UUID
               */
              reservationId?: string;
              seatNumber?: number;
            }[];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    /** Pay for held seats of one show from the balance, all or none (gated, idempotent with Idempotency-Key) */
    post: {
      parameters: {
        header?: {
          /** @description Repeat a write safely: same key, same body */
          'idempotency-key'?: string;
          'queue-token'?: string;
        };
      };
      requestBody: {
        content: {
          'application/json':
            | {
                /**
                 * Format: uuid
                 * @description UUID
                 */
                reservationId: string;
              }
            | {
                reservationIds: string[];
              };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              paymentId: string;
              /**
               * Format: uuid
               * @description UUID
               */
              concertId: string;
              /**
               * Format: date
               * @description YYYY-MM-DD
               */
              date: string;
              status: 'PAID' | 'REFUNDED';
              /** @description the total */
              amount: number;
              /** @description what is left after this payment */
              balance: number;
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              paidAt: string;
              reservationIds: string[];
              seats: {
                /**
                 * Format: uuid
                 * @description UUID
                 */
                reservationId: string;
                seatNumber: number;
                section: string;
                row: number;
                number: number;
                grade: string;
                price: number;
              }[];
              /**
               * Format: uuid
               * @description UUID
               */
              reservationId?: string;
              seatNumber?: number;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        403: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        409: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        410: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/admin/concerts': {
    /** Create a concert with its dates and seats */
    post: {
      requestBody: {
        content: {
          'application/json': {
            title: string;
            venue: string;
            /**
             * Format: date-time
             * @description ISO-8601, UTC
             */
            saleOpensAt?: string;
            seating?: {
              section: string;
              grade: string;
              price: number;
              /** @description front row first */
              rows: number[];
            }[];
            dates: {
              /**
               * Format: date
               * @description YYYY-MM-DD
               */
              date: string;
              /** @description default 50 */
              seats?: number;
              price?: number;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              concertId: string;
              title: string;
              venue: string;
              dates: string[];
              /** @description scheduled opening; null: on sale now */
              saleOpensAt: string | null;
              /** @description seats of each show */
              totalSeats: number;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/admin/concerts/{concertId}/seating': {
    /** Seats sold, held and free per section, for every date of a concert */
    get: {
      parameters: {
        path: {
          /** @description UUID */
          concertId: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: date
               * @description YYYY-MM-DD
               */
              date: string;
              sections: {
                section: string;
                grade: string;
                price: number;
                totalSeats: number;
                availableSeats: number;
                heldSeats: number;
                soldSeats: number;
              }[];
            }[];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/admin/concerts/{concertId}/queue': {
    /** The line of a concert and its settings */
    get: {
      parameters: {
        path: {
          /** @description UUID */
          concertId: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /** @description in line, pre-queue included */
              waiting: number;
              /** @description in the pre-queue of a scheduled sale, waiting for the draw */
              prequeued: number;
              active: number;
              maxActive: number;
              admitPerSecond: number;
              paused: boolean;
              saleOpensAt: string | null;
              /** @description every join needs a proof of work */
              challenge: boolean;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    /** Steer the line: max active, admission rate, pause, opening time */
    patch: {
      parameters: {
        path: {
          /** @description UUID */
          concertId: string;
        };
      };
      requestBody: {
        content: {
          'application/json': {
            maxActive?: number;
            admitPerSecond?: number;
            paused?: boolean;
            saleOpensAt?: string | null;
            challenge?: boolean;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /** @description in line, pre-queue included */
              waiting: number;
              /** @description in the pre-queue of a scheduled sale, waiting for the draw */
              prequeued: number;
              active: number;
              maxActive: number;
              admitPerSecond: number;
              paused: boolean;
              saleOpensAt: string | null;
              /** @description every join needs a proof of work */
              challenge: boolean;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/admin/concerts/{concertId}/stats': {
    /** A live view of a sale: line, admissions and seats */
    get: {
      parameters: {
        path: {
          /** @description UUID */
          concertId: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /** @description in line, pre-queue included */
              waiting: number;
              /** @description in the pre-queue of a scheduled sale, waiting for the draw */
              prequeued: number;
              active: number;
              maxActive: number;
              admitPerSecond: number;
              paused: boolean;
              saleOpensAt: string | null;
              /** @description every join needs a proof of work */
              challenge: boolean;
              /** @description admitted by this instance since it started */
              admittedTotal: number;
              seatsTotal: number;
              seatsHeld: number;
              seatsSold: number;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/admin/concerts/{concertId}/samples': {
    /** The last 30 minutes of a sale, one sample every 5 s (the same on every instance) */
    get: {
      parameters: {
        path: {
          /** @description UUID */
          concertId: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              periodSeconds: number;
              samples: {
                /**
                 * Format: date-time
                 * @description ISO-8601, UTC
                 */
                at: string;
                waiting: number;
                prequeued: number;
                active: number;
                admittedPerSecond: number;
                held: number;
                sold: number;
                /** @description won taken so far */
                revenue: number;
              }[];
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/payments/{paymentId}/refund': {
    /** Return a whole payment: the seats are free again, the balance credited less the fee (idempotent) */
    post: {
      parameters: {
        header?: {
          /** @description Repeat a write safely: same key, same body */
          'idempotency-key'?: string;
        };
        path: {
          /** @description UUID */
          paymentId: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              paymentId: string;
              /** @enum {string} */
              status: 'REFUNDED';
              /** @description what went back to the balance */
              refunded: number;
              /** @description floor(amount × REFUND_FEE_PERCENT / 100), kept */
              fee: number;
              balance: number;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        409: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/refund-policy': {
    /** The refund fee (REFUND_FEE_PERCENT) and how long before a show returns close (REFUND_CUTOFF_HOURS) */
    get: {
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /** @description fee = floor(amount × feePercent / 100) */
              feePercent: number;
              /** @description returns close this long before 00:00 UTC of the show's date */
              cutoffHours: number;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/admin/concerts/{concertId}/dates/{date}/cancel': {
    /** How far the cancellation of a show has come */
    get: {
      parameters: {
        path: {
          /** @description UUID */
          concertId: string;
          /**
           * @description YYYY-MM-DD
           * @example 2026-12-24
           */
          date: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: date
               * @description YYYY-MM-DD
               */
              date: string;
              status: 'CANCELLING' | 'CANCELLED';
              /** @description payments of the show */
              payments: number;
              /** @description of them refunded so far */
              refunded: number;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
    /** Cancel a show: closed at once, every payment refunded in full by a resumable job */
    post: {
      parameters: {
        path: {
          /** @description UUID */
          concertId: string;
          /**
           * @description YYYY-MM-DD
           * @example 2026-12-24
           */
          date: string;
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          content: {
            'application/json': {
              /**
               * Format: date
               * @description YYYY-MM-DD
               */
              date: string;
              status: 'CANCELLING' | 'CANCELLED';
              /** @description payments of the show */
              payments: number;
              /** @description of them refunded so far */
              refunded: number;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        409: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/admin/webhooks': {
    /** Webhook events with their delivery attempts, newest first */
    get: {
      parameters: {
        query?: {
          status?: 'pending' | 'delivered' | 'failed';
          /** @description 1..200, default 50 */
          limit?: string;
          /** @description nextCursor of the previous page */
          cursor?: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              events: {
                /**
                 * Format: uuid
                 * @description UUID
                 */
                id: string;
                /** @description payment.succeeded, payment.refunded, show.cancelled or ticket.checked_in */
                type: string;
                /**
                 * Format: date-time
                 * @description ISO-8601, UTC
                 */
                createdAt: string;
                /** @description what the receiver gets as "data" */
                data: unknown;
                status: 'pending' | 'delivered' | 'failed';
                /** @description delivery attempts so far */
                attempts: number;
                nextAttemptAt: string | null;
                lastAttemptAt: string | null;
                lastError: string | null;
                deliveredAt: string | null;
              }[];
              /** @description null on the last page */
              nextCursor: string | null;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/admin/webhooks/{id}/retry': {
    /** Send a webhook event again now (pending, due at once) */
    post: {
      parameters: {
        path: {
          /** @description UUID */
          id: string;
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              id: string;
              /** @description payment.succeeded, payment.refunded, show.cancelled or ticket.checked_in */
              type: string;
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              createdAt: string;
              /** @description what the receiver gets as "data" */
              data: unknown;
              status: 'pending' | 'delivered' | 'failed';
              /** @description delivery attempts so far */
              attempts: number;
              nextAttemptAt: string | null;
              lastAttemptAt: string | null;
              lastError: string | null;
              deliveredAt: string | null;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        404: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/health/live': {
    /** The process is running */
    get: {
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              status: string;
            };
          };
        };
      };
    };
  };
  '/health/ready': {
    /** The database (and Redis, where configured) answer */
    get: {
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              status: string;
              queueDataLosses: number;
              queueDataLostAt: string | null;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        503: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/metrics': {
    /** Prometheus metrics */
    get: {
      responses: {
        /** @description Default Response */
        200: {
          content: never;
        };
      };
    };
  };
  '/api/v1/tickets': {
    /** Your tickets, one per paid seat, newest first, each with its signed code */
    get: {
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              ticketId: string;
              /**
               * Format: uuid
               * @description UUID
               */
              paymentId: string;
              /**
               * Format: uuid
               * @description UUID
               */
              concertId: string;
              title: string;
              venue: string;
              /**
               * Format: date
               * @description YYYY-MM-DD
               */
              date: string;
              seatNumber: number;
              section: string;
              row: number;
              number: number;
              grade: string;
              status: 'VALID' | 'USED' | 'VOID';
              /** @description when it entered the gate */
              checkedInAt: string | null;
              /** @description What the QR code carries: a compact JWS (EdDSA / Ed25519) of {tid, cid, date, seat, sec, row, num}; verify with GET /api/v1/tickets/keys */
              code: string;
            }[];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/tickets/keys': {
    /** The public keys ticket codes are signed with (a JWK set): every key that ever signed one */
    get: {
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              keys: {
                /** @enum {string} */
                kty: 'OKP';
                /** @enum {string} */
                crv: 'Ed25519';
                /** @description the raw public key, base64url */
                x: string;
                kid: string;
                /** @enum {string} */
                alg: 'EdDSA';
                /** @enum {string} */
                use: 'sig';
              }[];
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
  '/api/v1/gate/checkins': {
    /** Check a ticket in at the gate: the first scan is 200, every later one 409 */
    post: {
      requestBody: {
        content: {
          'application/json': {
            code: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          content: {
            'application/json': {
              /**
               * Format: uuid
               * @description UUID
               */
              ticketId: string;
              /**
               * Format: date
               * @description YYYY-MM-DD
               */
              date: string;
              seatNumber: number;
              section: string;
              row: number;
              number: number;
              /**
               * Format: date-time
               * @description ISO-8601, UTC
               */
              checkedInAt: string;
            };
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        400: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        401: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        409: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
        /** @description RFC 9457 problem details (application/problem+json) */
        429: {
          content: {
            'application/json': components['schemas']['Problem'];
          };
        };
      };
    };
  };
}

export type webhooks = Record<string, never>;

export interface components {
  schemas: {
    /** @description RFC 9457 problem details (application/problem+json) */
    Problem: {
      type: string;
      title: string;
      status: number;
      /**
       * @description Stable machine-readable error code
       * @enum {string}
       */
      code:
        | 'VALIDATION_FAILED'
        | 'UNAUTHENTICATED'
        | 'QUEUE_TOKEN_INVALID'
        | 'QUEUE_TOKEN_EXPIRED'
        | 'QUEUE_TOKEN_FORBIDDEN'
        | 'QUEUE_NOT_ACTIVE'
        | 'CHALLENGE_FAILED'
        | 'MALFORMED_REQUEST'
        | 'NOT_FOUND'
        | 'METHOD_NOT_ALLOWED'
        | 'REQUEST_TIMEOUT'
        | 'CONCERT_NOT_FOUND'
        | 'DATE_NOT_FOUND'
        | 'SECTION_NOT_FOUND'
        | 'RESERVATION_NOT_FOUND'
        | 'PAYMENT_NOT_FOUND'
        | 'SEAT_UNAVAILABLE'
        | 'HOLD_LIMIT_REACHED'
        | 'RESERVATION_NOT_HELD'
        | 'INSUFFICIENT_BALANCE'
        | 'BALANCE_LIMIT_EXCEEDED'
        | 'SALE_NOT_OPEN'
        | 'IDEMPOTENCY_KEY_REUSED'
        | 'REFUND_CLOSED'
        | 'ALREADY_REFUNDED'
        | 'DATE_CANCELLED'
        | 'TICKET_ALREADY_USED'
        | 'TICKET_VOID'
        | 'TICKET_CODE_INVALID'
        | 'HOLD_EXPIRED'
        | 'PAYLOAD_TOO_LARGE'
        | 'URI_TOO_LONG'
        | 'UNSUPPORTED_MEDIA_TYPE'
        | 'RATE_LIMITED'
        | 'HEADERS_TOO_LARGE'
        | 'INTERNAL'
        | 'UNAVAILABLE';
      detail: string;
      [key: string]: unknown;
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}

export type $defs = Record<string, never>;

export type external = Record<string, never>;

export type operations = Record<string, never>;

type JsonContent<R> = R extends { content: { 'application/json': infer T } } ? T : never;

/** The JSON body of an operation's success response (200 or 201), as the server declares it. */
export type SuccessBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: infer R;
}
  ? JsonContent<R[keyof R & (200 | 201)]>
  : never;

/** The JSON request body of an operation. */
export type RequestBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: infer B;
}
  ? JsonContent<B>
  : never;

/** Every error code the server may send. */
export type ServerErrorCode = components['schemas']['Problem']['code'];

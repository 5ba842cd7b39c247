/**
 * The API's request and answer types for the harness, the benchmark and the test support,
 * derived from the types generated out of the server's own OpenAPI document
 * (web/src/api-types.gen.ts, `npm run generate:web-types`), as the web app derives its own
 * (web/src/api.ts). Nothing here is written by hand, so a schema change reaches every driver
 * and the compiler points at whatever no longer fits.
 */
import type { RequestBody as Body, components, SuccessBody as Ok } from '../web/src/api-types.gen.js';

export type Problem = components['schemas']['Problem'];

export type NewUser = Ok<'/api/v1/users', 'post'>;
export type NewConcert = Body<'/api/v1/admin/concerts', 'post'>;
export type CreatedConcert = Ok<'/api/v1/admin/concerts', 'post'>;
export type QueueStatus = Ok<'/api/v1/queue/tokens', 'post'>;
export type QueueSettings = Ok<'/api/v1/admin/concerts/{concertId}/queue', 'get'>;
export type QueueSettingsPatch = Body<'/api/v1/admin/concerts/{concertId}/queue', 'patch'>;
export type ShowDate = Ok<'/api/v1/concerts/{concertId}/dates', 'get'>[number];
export type SeatMap = Ok<'/api/v1/concerts/{concertId}/dates/{date}/seats', 'get'>;
export type Seat = SeatMap['seats'][number];
/** One reservation, as reading it answers (a hold of several seats answers with a list of these). */
export type Reservation = Ok<'/api/v1/reservations/{reservationId}', 'get'>;
export type ReservationListItem = Ok<'/api/v1/reservations', 'get'>[number];
export type Payment = Ok<'/api/v1/payments', 'post'>;

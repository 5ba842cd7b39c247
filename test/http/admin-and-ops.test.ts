import { describe, expect, test } from 'vitest';
import { announceSkips, backends } from '../helpers/backends.js';
import { ADMIN_KEY, type Response, useService } from '../helpers/context.js';

announceSkips('admin and operations');

const admin = { 'admin-key': ADMIN_KEY };

describe.each(backends)('admin and operations on $name', (backend) => {
  const service = useService(backend, { env: { QUEUE_MAX_ACTIVE: '2', QUEUE_ADMIT_PER_SECOND: '5' } });

  test('when the operator creates a concert, then it is listed with its dates and seats at its price', async () => {
    const s = service();
    const res = await s.call('POST', '/api/v1/admin/concerts', {
      headers: admin,
      body: {
        title: 'Night Tour',
        venue: 'Busan',
        dates: [
          { date: '2026-12-31', price: 88_000 },
          { date: '2026-12-30', seats: 120, price: 77_000 },
        ],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      title: 'Night Tour',
      venue: 'Busan',
      dates: ['2026-12-30', '2026-12-31'],
    });
    const buyer = await s.activeBuyer(res.body.concertId);
    const dates = await s.call('GET', `/api/v1/concerts/${res.body.concertId}/dates`, buyer);
    expect(dates.body).toEqual([
      { date: '2026-12-30', totalSeats: 120, availableSeats: 120 },
      { date: '2026-12-31', totalSeats: 50, availableSeats: 50 },
    ]);
    const seats = await s.call('GET', `/api/v1/concerts/${res.body.concertId}/dates/2026-12-30/seats`, buyer);
    expect(seats.body.seats.at(-1)).toEqual({
      seatNumber: 120,
      section: 'A',
      row: 1,
      number: 120,
      grade: 'R',
      price: 77_000,
      status: 'AVAILABLE',
    });
  });

  test('when admin input is wrong or the key is missing, then nothing is created', async () => {
    const s = service();
    const url = '/api/v1/admin/concerts';
    const good = { title: 'T', venue: 'V', dates: [{ date: '2026-12-31', price: 1000 }] };
    expect((await s.call('POST', url, { body: good })).body.code).toBe('UNAUTHENTICATED');
    expect((await s.call('POST', url, { body: good, headers: { 'admin-key': 'wrong' } })).status).toBe(401);
    for (const body of [
      { ...good, dates: [] },
      { ...good, dates: [{ date: '2026-12-31', price: 0 }] },
      { ...good, dates: [{ date: '2026-12-31', price: 1000, seats: 201 }] },
      {
        ...good,
        dates: [
          { date: '2026-12-31', price: 1000 },
          { date: '2026-12-31', price: 1000 },
        ],
      },
      { ...good, dates: [{ date: '2020-01-01', price: 1000 }] },
      { ...good, title: '' },
    ]) {
      const res = await s.call('POST', url, { body, headers: admin });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
    expect((await s.call('GET', '/api/v1/concerts')).body).toEqual([]);
  });

  test('when the operator pauses the line, then nobody is admitted until it resumes, and limits can change', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    const url = `/api/v1/admin/concerts/${concertId}/queue`;
    expect((await s.call('GET', url, { headers: admin })).body).toEqual({
      waiting: 0,
      prequeued: 0,
      active: 0,
      maxActive: 2,
      admitPerSecond: 5,
      paused: false,
      saleOpensAt: null,
      challenge: false,
    });
    const paused = await s.call('PATCH', url, { headers: admin, body: { paused: true, maxActive: 3 } });
    expect(paused.body).toMatchObject({ paused: true, maxActive: 3, admitPerSecond: 5 });

    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) tokens.push((await s.join(await s.newUser(), concertId)).body.token);
    s.clock.advance(1000);
    await s.advance(concertId);
    expect((await s.call('GET', url, { headers: admin })).body).toMatchObject({ waiting: 4, active: 0 });

    await s.call('PATCH', url, { headers: admin, body: { paused: false } });
    await s.advance(concertId);
    expect((await s.call('GET', url, { headers: admin })).body).toMatchObject({ waiting: 1, active: 3 });

    const stats = await s.call('GET', `/api/v1/admin/concerts/${concertId}/stats`, { headers: admin });
    expect(stats.body).toMatchObject({ waiting: 1, active: 3, seatsTotal: 50, seatsHeld: 0, seatsSold: 0 });

    for (const body of [{ maxActive: 0 }, { admitPerSecond: 1.5 }, { paused: 'yes' }, { other: 1 }]) {
      expect((await s.call('PATCH', url, { headers: admin, body })).body.code).toBe('VALIDATION_FAILED');
    }
    const unknown = await s.call('GET', '/api/v1/admin/concerts/00000000-0000-4000-8000-000000000000/queue', {
      headers: admin,
    });
    expect(unknown.body.code).toBe('CONCERT_NOT_FOUND');
  });

  test('when operations endpoints are called, then health, metrics and the API description answer', async () => {
    const s = service();
    expect((await s.call('GET', '/health/live')).status).toBe(200);
    expect((await s.call('GET', '/health/ready')).status).toBe(200);

    const { concertId, dates } = await s.newConcert();
    const buyer = await s.activeBuyer(concertId, 1_000_000);
    const held = await s.hold(buyer, concertId, dates[0]!, 1);
    await s.pay(buyer, held.body.reservationId);
    const metrics = await s.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain(
      'boxoffice_http_requests_total{method="POST",route="/api/v1/reservations",status="201"} 1',
    );
    expect(metrics.body).toContain('boxoffice_http_request_duration_seconds_bucket');
    expect(metrics.body).toContain(`boxoffice_seats_sold{concert_id="${concertId}"} 1`);
    expect(metrics.body).toMatch(new RegExp(`boxoffice_queue_waiting\\{concert_id="${concertId}"\\} 0`));
    expect(metrics.body).toContain('boxoffice_holds_total 1');
    expect(metrics.body).toContain(`boxoffice_sales_total{concert_id="${concertId}"} 1`);

    const spec = await s.call('GET', '/openapi.json');
    expect(spec.status).toBe(200);
    expect(spec.body.openapi).toMatch(/^3\./);
    const paths = Object.keys(spec.body.paths);
    for (const path of [
      '/api/v1/users',
      '/api/v1/queue/tokens',
      '/api/v1/queue/status',
      '/api/v1/queue/events',
      '/api/v1/queue/tokens/current',
      '/api/v1/concerts',
      '/api/v1/concerts/{concertId}/dates',
      '/api/v1/concerts/{concertId}/dates/{date}/seats',
      '/api/v1/reservations',
      '/api/v1/reservations/{reservationId}',
      '/api/v1/balance',
      '/api/v1/balance/charges',
      '/api/v1/balance/history',
      '/api/v1/payments',
      '/api/v1/admin/concerts',
      '/api/v1/admin/concerts/{concertId}/queue',
      '/health/live',
      '/health/ready',
      '/metrics',
    ]) {
      expect(paths).toContain(path);
    }
    const hold = spec.body.paths['/api/v1/reservations'].post;
    expect(Object.keys(hold.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '404', '409']),
    );
    const docs = await s.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });
});

describe.each(backends)('rate limiting on $name', (backend) => {
  const service = useService(backend, { env: { RATE_LIMIT_PER_MINUTE: '5' } });

  test('when one client sends too many requests, then it gets 429 RATE_LIMITED with Retry-After', async () => {
    const s = service();
    const user = await s.newUser();
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 7; i++) {
      last = await s.call('GET', '/api/v1/balance', { user });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(last!.status).toBe(429);
    expect(last!.body.code).toBe('RATE_LIMITED');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    // Another client is not affected, and health checks never are.
    expect((await s.call('GET', '/api/v1/balance', { user: await s.newUser() })).status).toBe(200);
    expect((await s.call('GET', '/health/live')).status).toBe(200);
  });
});

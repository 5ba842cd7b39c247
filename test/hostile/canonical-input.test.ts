import { describe, expect, test } from 'vitest';
import { announceSkips, backends } from '../helpers/backends.js';
import { ADMIN_KEY, useService } from '../helpers/context.js';
import { expectProblem } from './problem.js';

announceSkips('canonical input');

const admin = { 'admin-key': ADMIN_KEY };

describe.each(backends)('canonical input on $name', (backend) => {
  const service = useService(backend);

  test('when a concert id is sent in upper case, then it names the same concert and the same line, and ids come back in lowercase', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    const upper = concertId.toUpperCase();
    const first = await s.newUser();
    const second = await s.newUser();
    const a = await s.join(first, concertId);
    const b = await s.join(second, upper);
    expect(b.status).toBe(201);
    expect(b.body.concertId).toBe(concertId);
    expect(b.body.position).toBe(2); // one line, not a second one for the other spelling
    expect((await s.join(first, upper)).body.token).toBe(a.body.token);

    // Pausing through the upper-case id pauses the real line (no phantom line is paused).
    const paused = await s.call('PATCH', `/api/v1/admin/concerts/${upper}/queue`, {
      headers: admin,
      body: { paused: true },
    });
    expect(paused.status).toBe(200);
    expect((await s.store.getSettings(concertId)).paused).toBe(true);
    expect(await s.advance(concertId)).toBe(0);
    expect((await s.store.concertIds()).filter((id) => id.toLowerCase() === concertId)).toEqual([concertId]);
    const view = await s.call('GET', `/api/v1/admin/concerts/${upper}/queue`, { headers: admin });
    expect(view.body).toMatchObject({ waiting: 2, paused: true });
  });

  test('when ids are spelled any other way, then it is 400 VALIDATION_FAILED and nothing changes', async () => {
    const s = service();
    const { concertId, dates } = await s.newConcert();
    const user = await s.newUser();
    const spellings = [
      `urn:uuid:${concertId}`,
      `{${concertId}}`,
      concertId.replaceAll('-', ''),
      ` ${concertId}`,
      `${concertId}\n`,
      concertId.replace(/^./, 'g'),
      `${concertId.slice(0, -1)}`,
    ];
    for (const id of spellings) {
      expectProblem(await s.join(user, id), 400, 'VALIDATION_FAILED');
      expectProblem(
        await s.call('GET', `/api/v1/admin/concerts/${encodeURIComponent(id)}/queue`, { headers: admin }),
        400,
        'VALIDATION_FAILED',
      );
    }
    const buyer = await s.activeBuyer(concertId);
    expectProblem(
      await s.call('GET', `/api/v1/concerts/urn:uuid:${concertId}/dates/${dates[0]}/seats`, buyer),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await s.call('GET', `/api/v1/reservations/{${concertId}}`, buyer),
      400,
      'VALIDATION_FAILED',
    );
    expect(
      (await s.call('GET', `/api/v1/admin/concerts/${concertId}/queue`, { headers: admin })).body.waiting,
    ).toBe(0);
  });

  test('when a text field carries NUL or a lone surrogate, then it is 400 VALIDATION_FAILED', async () => {
    const s = service();
    for (const name of ['a\u0000b', '\u0000', 'x\ud800', '\udc00y', 'a\udbff\u0041']) {
      expectProblem(await s.call('POST', '/api/v1/users', { body: { name } }), 400, 'VALIDATION_FAILED');
    }
    // The same character written as JSON escapes, as an attacker would send it.
    for (const raw of ['{"name":"a\\u0000b"}', '{"name":"\\ud800"}', '{"name\\u0000":"x"}']) {
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { 'content-type': 'application/json' },
        payload: raw,
      });
      expectProblem(
        { status: res.statusCode, headers: res.headers, body: res.body },
        400,
        'VALIDATION_FAILED',
      );
    }
    // A pair is a character like any other.
    expect((await s.call('POST', '/api/v1/users', { body: { name: 'fan 🎫' } })).status).toBe(201);
    const title = await s.call('POST', '/api/v1/admin/concerts', {
      headers: admin,
      body: { title: 'T\u0000', venue: 'V', dates: [{ date: '2030-01-01', price: 1000 }] },
    });
    expectProblem(title, 400, 'VALIDATION_FAILED');
    expect((await s.call('GET', '/api/v1/concerts')).body).toEqual([]);
    const query = await s.call('GET', '/api/v1/queue/events?token=%00');
    expectProblem(query, 400, 'VALIDATION_FAILED');
  });

  test('when a show date lies outside 2000-01-01..2099-12-31, then the seat map, a hold and a new concert are 400', async () => {
    const s = service();
    const { concertId } = await s.newConcert();
    const buyer = await s.activeBuyer(concertId);
    for (const date of ['0000-01-01', '1999-12-31', '2100-01-01', '9999-12-31', '+02026-01-01']) {
      expectProblem(
        await s.call('GET', `/api/v1/concerts/${concertId}/dates/${encodeURIComponent(date)}/seats`, buyer),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await s.call('POST', '/api/v1/reservations', { ...buyer, body: { concertId, date, seatNumber: 1 } }),
        400,
        'VALIDATION_FAILED',
      );
      expectProblem(
        await s.call('POST', '/api/v1/admin/concerts', {
          headers: admin,
          body: { title: 'T', venue: 'V', dates: [{ date, price: 1000 }] },
        }),
        400,
        'VALIDATION_FAILED',
      );
    }
    expect((await s.call('GET', '/api/v1/reservations', buyer)).body).toEqual([]);
  });

  test('when the framework refuses a request (404, 405, 413, 414, 415, bad JSON), then it is problem+json with a stable code', async () => {
    const s = service();
    const user = await s.newUser();
    const inject = async (options: {
      method: 'GET' | 'POST' | 'PUT';
      url: string;
      headers?: Record<string, string>;
      payload?: string;
    }) => {
      const res = await s.app.inject(options);
      return { status: res.statusCode, headers: res.headers, body: res.body };
    };
    expectProblem(await inject({ method: 'GET', url: '/api/v1/nope' }), 404, 'NOT_FOUND');
    const put = await inject({ method: 'PUT', url: '/api/v1/balance' });
    expectProblem(put, 405, 'METHOD_NOT_ALLOWED');
    expect(put.headers.allow).toContain('GET');
    expectProblem(
      await inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'x'.repeat(100_000) }),
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expectProblem(
      await inject({ method: 'GET', url: `/api/v1/reservations/${'a'.repeat(5000)}`, headers: auth(user) }),
      414,
      'URI_TOO_LONG',
    );
    expectProblem(
      await inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { 'content-type': 'application/xml' },
        payload: '<user/>',
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    for (const payload of ['{', '{"name":', '[]', '"x"', '{"name":"a"}{}', '\u0000']) {
      const res = await inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
    }
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    expectProblem(
      await inject({
        method: 'POST',
        url: '/api/v1/balance/charges',
        headers: { 'content-type': 'application/json', ...auth(user) },
        payload: deep,
      }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await inject({ method: 'GET', url: '/api/v1/%E0%A4%A', headers: auth(user) }),
      400,
      'VALIDATION_FAILED',
    );
  });
});

function auth(user: { accessToken: string }) {
  return { authorization: `Bearer ${user.accessToken}` };
}

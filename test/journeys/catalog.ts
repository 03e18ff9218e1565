import { describe, expect, it } from 'vitest';
import { expectProblem, uniqueEmail } from '../support/client.js';
import type { Harness } from '../support/harness.js';

/** Catalog reads, admin writes and role checks; runs on Node and inside workerd. */
export function catalogJourney(harness: () => Harness) {
  const tokenFor = async (role: 'customer' | 'staff' | 'admin') => {
    const h = harness();
    const email = uniqueEmail(role);
    const reg = await h.api.post('/v1/auth/register', { email, password: 'a long password' });
    expect(reg.status, reg.text).toBe(201);
    if (role === 'customer') return reg.body.accessToken as string;
    await h.setRole(email, role);
    const login = await h.api.post('/v1/auth/login', { email, password: 'a long password' });
    expect(login.body.user.role).toBe(role);
    return login.body.accessToken as string;
  };
  const slug = (p: string) => `${p}-${crypto.randomUUID().slice(0, 8)}`;
  const newService = (overrides: Record<string, unknown> = {}) => ({
    slug: slug('ironing'),
    name: 'Ironing',
    pricingModel: 'per_item',
    unitPrice: 199,
    turnaroundHours: 48,
    express: { surchargeBps: 2500, turnaroundHours: 24 },
    addOns: [{ slug: 'crease', name: 'Sharp crease', price: 75 }],
    ...overrides,
  });

  describe('catalog', () => {
    it('tags the catalog for phones: ETag, Cache-Control, and 304 with no body for a matching If-None-Match', async () => {
      const { api } = harness();
      const full = await api.get('/v1/services');
      const etag = full.headers.get('etag');
      expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
      expect(full.headers.get('cache-control')).toBe('public, max-age=60');
      const again = await api.get('/v1/services', { headers: { 'if-none-match': `W/"stale", ${etag!}` } });
      // Another test's admin edit may land in between: then the answer is the new catalog, never a wrong 304.
      if (again.headers.get('etag') === etag) {
        expect(again.status).toBe(304);
        expect(again.text).toBe('');
        expect(again.headers.get('x-request-id')).toBeTruthy();
      } else expect(again.status).toBe(200);
    });

    it('refuses an If-None-Match the document does not allow with 422 naming the header, as every validated header', async () => {
      const { api } = harness();
      const res = await api.get('/v1/services', { headers: { 'if-none-match': `"${'a'.repeat(2100)}"` } });
      const problem = expectProblem(res, 422, 'validation_failed');
      expect(problem.errors.map((e: { field: string }) => e.field)).toEqual(['header.if-none-match']);
      // Absent or well-formed: the catalog.
      expect((await api.get('/v1/services', { headers: { 'if-none-match': '"nope"' } })).status).toBe(200);
    });

    it('lists the active catalog publicly, prices in integer minor units', async () => {
      const res = await harness().api.get('/v1/services');
      expect(res.status).toBe(200);
      const washFold = res.body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
      expect(washFold).toMatchObject({
        pricingModel: 'per_kg',
        unitPrice: 250,
        currency: 'USD',
        express: { surchargeBps: 5000, turnaroundHours: 24 },
        active: true,
      });
      expect(washFold.addOns.map((a: { slug: string }) => a.slug).sort()).toEqual(['hang-dry', 'hypoallergenic']);
      for (const s of res.body.data) {
        expect(Number.isInteger(s.unitPrice)).toBe(true);
        expect(s.active).toBe(true);
      }
    });

    it('admin endpoints: no token → 401, customer or staff → 403, admin → allowed', async () => {
      const { api } = harness();
      const body = newService();
      expectProblem(await api.post('/v1/admin/services', body), 401, 'auth_required');
      expectProblem(await api.post('/v1/admin/services', body, { token: await tokenFor('customer') }), 403, 'forbidden');
      expectProblem(await api.post('/v1/admin/services', body, { token: await tokenFor('staff') }), 403, 'forbidden');
      expectProblem(await api.get('/v1/admin/services', { token: await tokenFor('customer') }), 403, 'forbidden');
      const created = await api.post('/v1/admin/services', body, { token: await tokenFor('admin') });
      expect(created.status, created.text).toBe(201);
    });

    it('admin creates, reprices, deactivates and extends a service', async () => {
      const { api } = harness();
      const token = await tokenFor('admin');
      const body = newService();
      const created = await api.post('/v1/admin/services', body, { token });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({
        slug: body.slug,
        unitPrice: 199,
        currency: 'USD',
        active: true,
        express: { surchargeBps: 2500, turnaroundHours: 24 },
        addOns: [{ slug: 'crease', price: 75, active: true }],
      });
      const id = created.body.id;

      const listed = await api.get('/v1/services');
      expect(listed.body.data.find((s: { id: string }) => s.id === id)?.unitPrice).toBe(199);

      const repriced = await api.patch(`/v1/admin/services/${id}`, { unitPrice: 249, express: null }, { token });
      expect(repriced.status, repriced.text).toBe(200);
      expect(repriced.body).toMatchObject({ unitPrice: 249, express: null, addOns: [{ slug: 'crease' }] });

      const addOn = await api.post(`/v1/admin/services/${id}/add-ons`, { slug: 'fold', name: 'Fold', price: 30 }, { token });
      expect(addOn.status, addOn.text).toBe(201);
      const hidden = await api.patch(`/v1/admin/add-ons/${addOn.body.id}`, { active: false }, { token });
      expect(hidden.body).toMatchObject({ id: addOn.body.id, active: false });

      const publicView = (await api.get('/v1/services')).body.data.find((s: { id: string }) => s.id === id);
      expect(publicView.addOns.map((a: { slug: string }) => a.slug)).toEqual(['crease']);

      const off = await api.patch(`/v1/admin/services/${id}`, { active: false }, { token });
      expect(off.body.active).toBe(false);
      expect((await api.get('/v1/services')).body.data.some((s: { id: string }) => s.id === id)).toBe(false);
      const adminView = await api.get('/v1/admin/services', { token });
      expect(adminView.body.data.find((s: { id: string }) => s.id === id)).toMatchObject({ active: false });
    });

    it('rejects bad catalog input with stable codes and writes nothing', async () => {
      const { api } = harness();
      const token = await tokenFor('admin');
      const cases: Array<[Record<string, unknown>, string]> = [
        [newService({ unitPrice: 2.5 }), 'body.unitPrice'],
        [newService({ unitPrice: -1 }), 'body.unitPrice'],
        [newService({ unitPrice: '250' }), 'body.unitPrice'],
        [newService({ pricingModel: 'per_hour' }), 'body.pricingModel'],
        [newService({ currency: 'EUR' }), 'body'],
        [newService({ slug: 'Not A Slug' }), 'body.slug'],
        [newService({ express: { surchargeBps: 100, turnaroundHours: 48 } }), 'body.express'],
        [{ name: 'No slug' }, 'body.slug'],
      ];
      for (const [body, field] of cases) {
        const res = await api.post('/v1/admin/services', body, { token });
        const problem = expectProblem(res, 422, 'validation_failed');
        expect(problem.errors.map((e: { field: string }) => e.field), JSON.stringify(body)).toContain(field);
      }
      const first = newService();
      expect((await api.post('/v1/admin/services', first, { token })).status).toBe(201);
      const dupe = await api.post('/v1/admin/services', { ...newService(), slug: first.slug, addOns: [] }, { token });
      expectProblem(dupe, 409, 'slug_taken');
      const admin = await api.get('/v1/admin/services', { token });
      expect(admin.body.data.filter((s: { slug: string }) => s.slug === first.slug)).toHaveLength(1);

      // Duplicate add-on slugs in one request: refused, and no half-created service is left behind.
      const halfSlug = slug('half');
      const broken = await api.post(
        '/v1/admin/services',
        newService({ slug: halfSlug, addOns: [{ slug: 'a', name: 'A', price: 1 }, { slug: 'a', name: 'B', price: 2 }] }),
        { token },
      );
      expectProblem(broken, 422, 'validation_failed');
      const after = await api.get('/v1/admin/services', { token });
      expect(after.body.data.some((s: { slug: string }) => s.slug === halfSlug)).toBe(false);

      const missingId = crypto.randomUUID();
      expectProblem(await api.patch(`/v1/admin/services/${missingId}`, { unitPrice: 1 }, { token }), 404, 'not_found');
      expectProblem(await api.patch('/v1/admin/services/not-a-uuid', { unitPrice: 1 }, { token }), 422, 'validation_failed');
      expectProblem(await api.patch(`/v1/admin/services/${missingId}`, {}, { token }), 422, 'validation_failed');
      expectProblem(
        await api.post(`/v1/admin/services/${missingId}/add-ons`, { slug: 'x', name: 'X', price: 1 }, { token }),
        404,
        'not_found',
      );
      expectProblem(await api.patch(`/v1/admin/add-ons/${missingId}`, { price: 1 }, { token }), 404, 'not_found');
      // Shortening the turnaround below the express one breaks a catalog rule: 422, not 500.
      const svc = (await api.post('/v1/admin/services', newService(), { token })).body;
      expectProblem(await api.patch(`/v1/admin/services/${svc.id}`, { turnaroundHours: 12 }, { token }), 422, 'validation_failed');
    });
  });
}

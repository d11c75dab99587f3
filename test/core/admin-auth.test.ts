import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { closeAll, gateway, provider, sims } from '../helpers/gateway.js';

const ADMIN = 'admin-key-for-tests-0123456789';

describe('admin routes need the admin key, however the path is spelled', () => {
  let up: Simulator;
  let gw: Gateway;
  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    gw = await gateway({ server: { admin_key: ADMIN }, cache: { enabled: true, semantic: false }, providers: { up: provider(up, ['m']) } });
  });
  after(() => closeAll(gw, [up]));

  const paths = ['/admin/rules', '/ADMIN/rules', '/Admin/Keys', '/admin/keys/', '/METRICS', '/metrics', '/V1/cache/stats', '/v1/CACHE/stats',
    '/Dashboard/data', '/dashboard/DATA', '/admin%2Frules', '//admin/rules'];

  for (const path of paths) {
    it(`GET ${path} without the key is refused`, async () => {
      const res = await fetch(`${gw.url}${path}`);
      assert.ok(res.status === 401 || res.status === 404, `${path} → ${res.status}`);
      const head = await fetch(`${gw.url}${path}`, { method: 'HEAD' });
      assert.ok(head.status === 401 || head.status === 404, `HEAD ${path} → ${head.status}`);
    });
  }

  it('writes without the key are refused in any case spelling', async () => {
    for (const path of ['/ADMIN/keys', '/Admin/rules', '/ADMIN/route/explain', '/admin/CONFIG/reload']) {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x' }) });
      assert.equal(res.status, 401, path);
    }
    const del = await fetch(`${gw.url}/ADMIN/cache`, { method: 'DELETE' });
    assert.equal(del.status, 401);
  });

  it('with the key they work, and the dashboard page opens in a browser', async () => {
    const res = await fetch(`${gw.url}/admin/rules`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(res.status, 200);
    const page = await fetch(`${gw.url}/dashboard`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.equal((await fetch(`${gw.url}/dashboard/data`)).status, 401);
  });

  it('reads the Authorization scheme in any case, as for virtual keys, and still refuses a wrong key', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      assert.equal((await fetch(`${gw.url}/admin/rules`, { headers: { authorization: `${scheme} ${ADMIN}` } })).status, 200, scheme);
    }
    assert.equal((await fetch(`${gw.url}/admin/rules`, { headers: { authorization: `bearer ${ADMIN}x` } })).status, 401);
    assert.equal((await fetch(`${gw.url}/admin/rules`, { headers: { 'x-admin-key': ADMIN } })).status, 200);
    assert.equal((await fetch(`${gw.url}/admin/rules`, { headers: { authorization: 'Basic cHJveHk6cGFzcw==', 'x-admin-key': ADMIN } })).status, 200);
  });

  it('a reload of a gateway started without a config file says there is nothing to reload, not that it reloaded', async () => {
    const res = await fetch(`${gw.url}/admin/config/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(res.status, 409);
    const body = await res.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'no_config_file');
    assert.match(body.error.message, /--config/);
  });
});

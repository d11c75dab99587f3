/**
 * Config reloads and tenants' limits: changing a limit keeps the spend counted so far (no fresh budget), and a reload that
 * drops a customer or team that virtual keys created through the admin API still belong to is refused — applied, those keys
 * would spend outside their team's and customer's budgets.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { client, closeAll, gateway, provider, sims } from '../helpers/gateway.js';

const ADMIN = 'admin-key-for-tests-0123456789';
const PRICE = { input: 1000, output: 1000 }; // $0.001 a token

describe('config reloads keep tenants inside their limits', () => {
  let up: Simulator;
  let gw: Gateway;
  let dir: string;
  let file: string;
  const raw = (customerBudget: number, teams = [{ id: 'research', name: 'Research', customer_id: 'acme' }]) => ({
    server: { admin_key: ADMIN },
    semantic: { enabled: false },
    providers: { up: provider(up, ['m']) },
    governance: {
      pricing: { 'up/m': PRICE },
      customers: [{ id: 'acme', name: 'Acme', budget: { limit_usd: customerBudget, period: 'monthly' } }],
      teams,
    },
  });
  const reload = async (config: Record<string, unknown>): Promise<string[]> => {
    await writeFile(file, JSON.stringify(config));
    return gw.reload();
  };
  const admin = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${gw.url}${path}`, {
      method, headers: { 'x-admin-key': ADMIN, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    return res.json();
  };

  before(async () => {
    [up] = await sims({ protocol: 'openai', name: 'up' });
    dir = await mkdtemp(join(tmpdir(), 'switchyard-reload-limits-'));
    file = join(dir, 'switchyard.json');
    await writeFile(file, JSON.stringify(raw(1)));
    gw = await gateway(raw(1), file);
  });
  after(async () => {
    await closeAll(gw, [up]);
    await rm(dir, { recursive: true, force: true });
  });

  it('a stored key keeps its team and customer through reloads; a reload dropping them is refused', async () => {
    const key = await admin('POST', '/admin/keys', { name: 'worker', team_id: 'research' });
    const ai = client(gw, key.key);
    const ask = () => ai.chat.completions.create({ model: 'up/m', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    await ask();
    const spent = (await admin('GET', '/admin/customers/acme/usage')).budget.used_usd as number;
    assert.ok(spent > 0, `the customer's budget counts the key's spend (${spent})`);

    // Lowering the customer's budget under what was spent refuses at once: the counter is not reset.
    assert.deepEqual(await reload(raw(spent / 2)), []);
    await assert.rejects(ask(), (e: unknown) => e instanceof OpenAI.APIError && e.status === 402 && /customer 'Acme'/.test(e.message));

    // Dropping the team the stored key belongs to is refused, naming both; the key stays under its customer's budget.
    const errors = await reload(raw(spent / 2, []));
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0], new RegExp(`governance\\.teams: team 'research' is still referenced by stored virtual key '${key.id}'`));
    await assert.rejects(ask(), (e: unknown) => e instanceof OpenAI.APIError && e.status === 402 && /customer 'Acme'/.test(e.message));

    // Once the key is revoked, the team may go.
    await admin('DELETE', `/admin/keys/${key.id}`);
    assert.deepEqual(await reload(raw(spent / 2, [])), []);
  });
});

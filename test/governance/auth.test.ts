import { test } from 'node:test';
import assert from 'node:assert/strict';
import { governanceConfigSchema } from '../../src/governance/config.js';
import { GatewayError } from '../../src/errors.js';
import { ANONYMOUS } from '../../src/pipeline/context.js';
import { bearerToken, generateKey, hashKey } from '../../src/governance/keys.js';
import { makeGov } from './helpers.js';

const SECRET = 'sk-sy-config-secret-0123456789abcdef';
const OTHER = 'plain-config-secret-with-enough-length';

const config = {
  customers: [{ id: 'acme', name: 'Acme' }],
  teams: [{ id: 'research', name: 'Research', customer_id: 'acme' }],
  keys: [
    { id: 'k1', name: 'ci', key: SECRET, team_id: 'research' },
    { id: 'k2', name: 'hashed', key_hash: `sha256:${hashKey(OTHER).toUpperCase()}`, customer_id: 'acme' },
    { id: 'k3', name: 'old', key_hash: hashKey('sk-sy-revoked-key-000000000000'), revoked: true },
    { id: 'k4', name: 'expired', key_hash: hashKey('sk-sy-expired-key-000000000000'), expires_at: '2020-01-01T00:00:00Z' },
  ],
};

async function rejects401(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof GatewayError && err.status === 401 && err.code === 'invalid_api_key' && pattern.test(err.message));
}

test('config keys: plaintext and hashed resolve to the full caller', async () => {
  const gov = await makeGov(config);
  try {
    assert.deepEqual(await gov.authenticate(`Bearer ${SECRET}`), {
      virtualKeyId: 'k1', virtualKeyName: 'ci', teamId: 'research', teamName: 'Research', customerId: 'acme', customerName: 'Acme',
    });
    assert.deepEqual(await gov.authenticate(`bearer ${OTHER}`), {
      virtualKeyId: 'k2', virtualKeyName: 'hashed', teamId: '', teamName: '', customerId: 'acme', customerName: 'Acme',
    });
    await rejects401(gov.authenticate('Bearer sk-sy-unknown-key-00000000000'), /Invalid API key/);
    await rejects401(gov.authenticate('Bearer sk-sy-revoked-key-000000000000'), /revoked/);
    await rejects401(gov.authenticate('Bearer sk-sy-expired-key-000000000000'), /expired/);
    await rejects401(gov.authenticate(undefined), /Missing API key/);
    await rejects401(gov.authenticate('Bearer '), /Missing API key/);
  } finally {
    await gov.close();
  }
});

test('anonymous switch: off by default, when on only non-virtual tokens fall back to anonymous', async () => {
  const gov = await makeGov({ ...config, allow_anonymous: true });
  try {
    assert.equal(await gov.authenticate(undefined), ANONYMOUS);
    assert.equal(await gov.authenticate('Bearer sk-placeholder'), ANONYMOUS, 'an SDK placeholder key is anonymous');
    await rejects401(gov.authenticate('Bearer sk-sy-unknown-key-00000000000'), /Invalid API key/);
    await rejects401(gov.authenticate('Bearer sk-sy-revoked-key-000000000000'), /revoked/);
    assert.equal((await gov.authenticate(`Bearer ${SECRET}`)).virtualKeyId, 'k1');
  } finally {
    await gov.close();
  }
});

test('API-created keys authenticate once, store only a hash, and stop working when revoked', async () => {
  const gov = await makeGov(config);
  try {
    const created = await gov.admin.createKey({ name: 'app', team_id: 'research' });
    assert.match(created.key, /^sk-sy-[A-Za-z0-9_-]{43}$/);
    assert.equal('key_hash' in created, false);
    const stored = (await gov.docs.get('keys', created.id)) as Record<string, unknown>;
    assert.equal(stored.key_hash, hashKey(created.key));
    assert.equal(JSON.stringify(stored).includes(created.key), false, 'the secret is never stored');
    assert.equal((await gov.authenticate(`Bearer ${created.key}`)).teamId, 'research');
    await gov.admin.remove('keys', created.id);
    await rejects401(gov.authenticate(`Bearer ${created.key}`), /revoked/);
  } finally {
    await gov.close();
  }
});

test('config validation names the path', () => {
  const bad = governanceConfigSchema.safeParse({ ...config, keys: [{ id: 'x', name: 'x', key: SECRET, team_id: 'nope' }] });
  assert.equal(bad.success, false);
  if (!bad.success) assert.deepEqual(bad.error.issues[0].path, ['keys', 0, 'team_id']);
  const both = governanceConfigSchema.safeParse({ keys: [{ id: 'x', name: 'x', key: SECRET, key_hash: hashKey(SECRET) }] });
  assert.equal(both.success, false);
  const budget = governanceConfigSchema.safeParse({ customers: [{ id: 'c', name: 'c', budget: { limit_usd: -1 } }] });
  assert.equal(budget.success, false);
  if (!budget.success) assert.deepEqual(budget.error.issues[0].path, ['customers', 0, 'budget', 'limit_usd']);
  assert.equal(governanceConfigSchema.parse({}).allow_anonymous, false);
});

test('key helpers', () => {
  assert.notEqual(generateKey(), generateKey());
  assert.equal(bearerToken('Bearer  abc '), 'abc');
  assert.equal(bearerToken('abc'), 'abc');
  assert.equal(bearerToken(undefined), undefined);
});

test('reconfigure swaps config entities and keeps API-created ones', async () => {
  const gov = await makeGov(config);
  try {
    const created = await gov.admin.createKey({ name: 'app', customer_id: 'acme' });
    await gov.reconfigure(governanceConfigSchema.parse({
      customers: [{ id: 'acme', name: 'Acme Corp' }],
      keys: [{ id: 'k9', name: 'new', key: 'sk-sy-new-config-key-000000000000' }],
      allow_anonymous: true,
      pricing: { 'x/y': { input: 1, output: 2 } },
    }));
    await rejects401(gov.authenticate(`Bearer ${SECRET}`), /Invalid API key/);
    assert.equal((await gov.authenticate('Bearer sk-sy-new-config-key-000000000000')).virtualKeyId, 'k9');
    assert.equal((await gov.authenticate(`Bearer ${created.key}`)).customerName, 'Acme Corp');
    assert.equal(await gov.authenticate(undefined), ANONYMOUS);
    assert.deepEqual(gov.pricing.priceOf('x', 'y').price, { input: 1, output: 2 });
  } finally {
    await gov.close();
  }
});

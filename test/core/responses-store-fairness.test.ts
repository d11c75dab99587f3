/**
 * The in-memory response store is shared by every virtual key but bounded: when it is full, the key holding the most
 * gives up its oldest record, so one tenant's traffic cannot push another tenant's stored conversations out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Gateway } from '../../src/gateway.js';
import type { Simulator } from '../../src/simulator/types.js';
import { closeAll, twoTenants } from '../helpers/gateway.js';

const KEYS = { a: 'sk-sy-fair-a-000000000000001', b: 'sk-sy-fair-b-000000000000002' };

describe('stored responses under one tenant\'s flood', () => {
  let sim: Simulator;
  let gw: Gateway;
  let a: OpenAI;
  let b: OpenAI;

  before(async () => {
    ({ sim, gw, a, b } = await twoTenants(KEYS, { responses: { max_entries: 4 } }));
  });
  after(() => closeAll(gw, [sim]));

  it('keeps another key\'s conversation when one key stores more than the store holds; the flooding key loses its own oldest', async () => {
    const kept = await b.responses.create({ model: 'up/m', input: 'remember this' });
    const flood: string[] = [];
    for (let i = 0; i < 10; i++) flood.push((await a.responses.create({ model: 'up/m', input: `flood ${i}` })).id);
    assert.equal((await b.responses.retrieve(kept.id)).id, kept.id, 'B\'s stored response survived A\'s flood');
    const next = await b.responses.create({ model: 'up/m', previous_response_id: kept.id, input: 'and now?' });
    assert.equal(next.previous_response_id, kept.id);
    // A keeps its newest records within the bound; its oldest went first.
    assert.equal((await a.responses.retrieve(flood.at(-1)!)).id, flood.at(-1));
    await assert.rejects(a.responses.retrieve(flood[0]!), (e: any) => e.status === 404);
  });
});

describe('stored responses in use order', () => {
  let sim: Simulator;
  let gw: Gateway;
  let a: OpenAI;

  before(async () => {
    ({ sim, gw, a } = await twoTenants(KEYS, { responses: { max_entries: 3 } }));
  });
  after(() => closeAll(gw, [sim]));

  it('a conversation read again outlives the same key\'s records left unread', async () => {
    const first = await a.responses.create({ model: 'up/m', input: 'the conversation in use' });
    const second = await a.responses.create({ model: 'up/m', input: 'left alone' });
    await a.responses.create({ model: 'up/m', input: 'third' });
    assert.equal((await a.responses.retrieve(first.id)).id, first.id);
    await a.responses.create({ model: 'up/m', input: 'fourth' });
    assert.equal((await a.responses.retrieve(first.id)).id, first.id, 'the record read most recently was kept');
    await assert.rejects(a.responses.retrieve(second.id), (e: any) => e.status === 404);
  });
});

/**
 * Every model the example configs name has a price in the shipped table (pricing/models.yaml) or in the example's own
 * governance.pricing: the compose config, the YAML examples in README.md and docs/, and the embedded defaults.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { embeddedDefaults } from '../../src/config/defaults.js';
import { PACKAGE_ROOT } from '../../src/config/paths.js';
import { Pricing } from '../../src/governance/pricing.js';

type Doc = Record<string, any>;

/** The models a config names: each provider's list, and every `provider/model` string anywhere in it (aliases, rules, ...). */
function modelsOf(doc: Doc): Array<{ provider: string; model: string }> {
  const providers = Object.keys(doc.providers ?? {});
  const out: Array<{ provider: string; model: string }> = [];
  for (const [name, p] of Object.entries<any>(doc.providers ?? {})) {
    for (const m of p?.models ?? []) if (typeof m === 'string') out.push({ provider: name, model: m });
  }
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      const slash = v.indexOf('/');
      if (slash > 0 && providers.includes(v.slice(0, slash)) && !v.includes('*')) out.push({ provider: v.slice(0, slash), model: v.slice(slash + 1) });
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.provider === 'string' && typeof o.model === 'string') out.push({ provider: o.provider, model: o.model });
      Object.values(o).forEach(walk);
    }
  };
  walk({ ...doc, providers: undefined });
  return out;
}

async function exampleConfigs(): Promise<Array<{ source: string; doc: Doc }>> {
  const out: Array<{ source: string; doc: Doc }> = [];
  const compose = path.join(PACKAGE_ROOT, 'deploy/compose/switchyard.yaml');
  out.push({ source: 'deploy/compose/switchyard.yaml', doc: parse(await readFile(compose, 'utf8')) as Doc });
  const docs = (await readdir(path.join(PACKAGE_ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  for (const file of ['README.md', ...docs]) {
    const text = await readFile(path.join(PACKAGE_ROOT, file), 'utf8');
    let n = 0;
    for (const m of text.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
      n++;
      if (!/^providers:/m.test(m[1])) continue;
      out.push({ source: `${file} (YAML block ${n})`, doc: parse(m[1]) as Doc });
    }
  }
  out.push({ source: 'embedded defaults', doc: embeddedDefaults({ OPENAI_API_KEY: 'x', ANTHROPIC_API_KEY: 'y' }) as unknown as Doc });
  return out;
}

test('every model in the example configs has a price', async () => {
  const configs = await exampleConfigs();
  assert.ok(configs.length >= 4, `found ${configs.map((c) => c.source).join(', ')}`);
  const missing: string[] = [];
  let checked = 0;
  for (const { source, doc } of configs) {
    const pricing = new Pricing({ overrides: doc.governance?.pricing ?? {} });
    for (const { provider, model } of modelsOf(doc)) {
      checked++;
      if (!pricing.priceOf(provider, model).known) missing.push(`${source}: ${provider}/${model}`);
    }
  }
  assert.ok(checked >= 15, `only ${checked} models found`);
  assert.deepEqual(missing, [], 'add these to pricing/models.yaml');
});

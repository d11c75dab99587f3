/**
 * compose.yaml, checked without Docker: every reference in it resolves (services, files, the image's command line), the
 * config the gateways mount is valid with the environment compose gives them, and it reaches Redis and the upstream by
 * their service names on the ports they listen on.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';
import { REPO } from '../helpers/gateway-process.js';

interface Service {
  image?: string;
  build?: { context: string };
  command?: string[];
  depends_on?: Record<string, unknown>;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
}

const compose = parse(readFileSync(path.join(REPO, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
/** Compose's own interpolation of ${VAR:-default}, with nothing set in the environment. */
const interpolate = (v: string): string => v.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?::-([^}]*))?\}/g, (_m, d: string | undefined) => d ?? '');
const gateways = Object.entries(services).filter(([, s]) => s.environment?.SWITCHYARD_CONFIG !== undefined);

describe('compose.yaml', () => {
  it('runs two gateways, Redis and a simulated upstream, all references resolving', () => {
    assert.ok(gateways.length >= 2, 'at least two gateways');
    assert.ok(services.redis?.image?.startsWith('redis:'));
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) assert.ok(dep in services, `${name} depends on unknown service ${dep}`);
      if (s.build) assert.ok(existsSync(path.join(REPO, s.build.context, 'Dockerfile')), `${name}: build context has a Dockerfile`);
      for (const v of s.volumes ?? []) {
        const host = v.split(':')[0];
        if (host.startsWith('.')) assert.ok(existsSync(path.join(REPO, host)), `${name}: ${host} exists`);
      }
    }
    const hostPorts = Object.values(services).flatMap((s) => s.ports ?? []).map((p) => p.split(':').slice(0, -1).join(':'));
    assert.equal(new Set(hostPorts).size, hostPorts.length, 'no two services publish the same host port');
  });

  it('the gateways\' config is valid as compose runs it and reaches Redis and the upstream by service name', () => {
    const upstream = services.upstream;
    assert.equal(upstream.command?.[0], 'simulate', 'the upstream runs the image\'s simulator');
    const simPort = Number(upstream.command?.[upstream.command.indexOf('--port') + 1]);
    assert.ok(Number.isInteger(simPort));
    for (const [name, s] of gateways) {
      assert.ok('redis' in (s.depends_on ?? {}) && 'upstream' in (s.depends_on ?? {}), `${name} waits for redis and upstream`);
      const mount = (s.volumes ?? []).map((v) => v.split(':')).find(([, inside]) => inside === s.environment!.SWITCHYARD_CONFIG);
      assert.ok(mount, `${name} mounts its config at SWITCHYARD_CONFIG`);
      const env = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
      const res = parseConfigText(readFileSync(path.join(REPO, mount[0]), 'utf8'), mount[0], env);
      assert.ok(res.ok, JSON.stringify(res));
      const redis = new URL(res.config.redis.url!);
      assert.ok(redis.hostname in services, `redis.url names a service: ${redis.hostname}`);
      assert.equal(res.config.cache.store, 'redis', 'the cache is shared');
      assert.ok(res.config.server.admin_key, 'the admin key default applies');
      for (const p of Object.values(res.config.providers)) {
        const u = new URL(p.base_url);
        assert.ok(u.hostname in services, `${p.base_url} names a service`);
        assert.equal(Number(u.port), simPort, `${p.base_url} is where the simulator listens`);
      }
      assert.ok(res.config.aliases.auto, 'auto answers');
    }
  });
});

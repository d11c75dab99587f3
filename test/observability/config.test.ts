import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { observabilityConfigSchema } from '../../src/observability/config.js';

describe('observability config', () => {
  it('has defaults for the whole section', () => {
    const c = observabilityConfigSchema.parse({});
    assert.deepEqual(c, {
      metrics: { enabled: true, process_metrics: true, label_cap: 200 },
      activity: { recent: 200, bucket_s: 10, window_s: 3600 },
      otel: {
        enabled: false, endpoint: 'http://localhost:4318/v1/traces', headers: {}, service_name: 'switchyard', sample_ratio: 1,
        export_timeout_ms: 10_000, max_queue_size: 2048,
      },
    });
  });

  it('refuses an otel endpoint that is not an http(s) URL and a sample ratio outside 0..1', () => {
    const r = observabilityConfigSchema.safeParse({ otel: { enabled: true, endpoint: 'collector:4318', sample_ratio: 1.5 } });
    assert.equal(r.success, false);
    assert.deepEqual(r.error!.issues.map((i) => i.path.join('.')).sort(), ['otel.endpoint', 'otel.sample_ratio']);
  });

  it('names the path of a bad value', () => {
    const r = observabilityConfigSchema.safeParse({ activity: { bucket_s: 600, window_s: 120 }, metrics: { label_cap: 0 } });
    assert.equal(r.success, false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    assert.ok(paths.includes('metrics.label_cap'), paths.join(', '));
    const window = observabilityConfigSchema.safeParse({ activity: { bucket_s: 600, window_s: 120 } });
    assert.deepEqual(window.error!.issues.map((i) => i.path.join('.')), ['activity.window_s']);
    const unknown = observabilityConfigSchema.safeParse({ metrics: { enabledd: true } });
    assert.equal(unknown.success, false);
  });
});

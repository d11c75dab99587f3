import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { observabilityConfigSchema } from '../../src/observability/config.js';

describe('observability config', () => {
  it('has defaults for the whole section', () => {
    const c = observabilityConfigSchema.parse({});
    assert.deepEqual(c, { metrics: { enabled: true, process_metrics: true, label_cap: 200 }, activity: { recent: 200, bucket_s: 10, window_s: 3600 } });
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

/**
 * The PII findings of a request's texts, packed: one Int32Array of (detector index, start, end) per finding, texts in order,
 * and the detector names once. It is the one form findings take after a scan, in place or from the worker thread
 * (pii-scan.ts): a body packed with addresses has hundreds of thousands of them, and an object per finding, made on the
 * event loop, held it for tens of milliseconds and as much again in garbage collection. Readers walk the arrays; only the
 * request log's first findings and an explain become objects.
 */
import type { PiiFinding, PiiType } from './detectors/types.js';

export interface PackedFindings {
  detectors: string[];
  /** The PII type of each detector. */
  types: PiiType[];
  /** Findings per text. */
  counts: Int32Array;
  /** (detector index, start, end) per finding. */
  spans: Int32Array;
}

const NONE = new Int32Array(0);

/** Packs the findings of each text. */
export function pack(found: readonly PiiFinding[][]): PackedFindings {
  let n = 0;
  for (const f of found) n += f.length;
  const counts = new Int32Array(found.length);
  if (n === 0) return { detectors: [], types: [], counts, spans: NONE };
  const detectors: string[] = [];
  const types: PiiType[] = [];
  const index = new Map<string, number>();
  const spans = new Int32Array(n * 3);
  let at = 0;
  found.forEach((findings, t) => {
    counts[t] = findings.length;
    for (const f of findings) {
      // A detector reports one type; should one ever report two, the pair is its own entry (keyed apart).
      let d = index.get(f.detector);
      if (d !== undefined && types[d] !== f.type) d = index.get(`${f.detector}\0${f.type}`);
      if (d === undefined) {
        d = detectors.push(f.detector) - 1;
        types.push(f.type);
        index.set(index.has(f.detector) ? `${f.detector}\0${f.type}` : f.detector, d);
      }
      spans[at++] = d;
      spans[at++] = f.start;
      spans[at++] = f.end;
    }
  });
  return { detectors, types, counts, spans };
}

/** The findings of each text as objects (an explain, tests). */
export function unpack(p: PackedFindings): PiiFinding[][] {
  const out: PiiFinding[][] = [];
  let at = 0;
  for (const count of p.counts) {
    const findings: PiiFinding[] = new Array(count);
    for (let i = 0; i < count; i++, at += 3) findings[i] = findingAt(p, at);
    out.push(findings);
  }
  return out;
}

/** The finding whose triple starts at `at` in `p.spans`. */
export function findingAt(p: PackedFindings, at: number): PiiFinding {
  const d = p.spans[at];
  return { type: p.types[d], detector: p.detectors[d], start: p.spans[at + 1], end: p.spans[at + 2] };
}

/** Whether any of the first `texts` texts holds a finding of one of `types` (stops at the first). */
export function hasFindingOf(p: PackedFindings, texts: number, types: ReadonlySet<PiiType>): boolean {
  const wanted = p.types.map((t) => types.has(t));
  let end = 0;
  for (let t = 0; t < texts && t < p.counts.length; t++) end += p.counts[t] * 3;
  for (let at = 0; at < end; at += 3) if (wanted[p.spans[at]]) return true;
  return false;
}

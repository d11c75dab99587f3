/**
 * PII scanning, off the event loop for large texts. detectPii is linear in its text, but at the body limit (4 MB) it takes
 * from tens to hundreds of milliseconds (a text packed with findings is the worst), and on the event loop that time is
 * taken from every other request in flight. A request whose texts add up to OFFLOAD_CHARS or more is scanned by a worker
 * thread instead (one, started on first use, unref'd while idle); smaller ones are scanned in place, synchronously, where
 * a worker's round trip would cost more than the scan. The worker's queue is bounded by the characters waiting
 * (MAX_PENDING_CHARS, shared fairly between tenants): past it a scan is refused with PiiScanBusy (a 503 with Retry-After,
 * in the caller's envelope), so a flood of large bodies waits a bounded time or is turned away, and never holds the
 * requests of others. A worker
 * that dies is replaced, and the calls it held are scanned in place (the findings must not be lost: redaction and the
 * cache's no-store mark depend on them). Results are the same as detectPii's, by construction.
 */
import type { Worker } from 'node:worker_threads';
import { GatewayError } from '../errors.js';
import { startModuleWorker, workerScript } from '../util/module-worker.js';
import { detectPii } from './detectors/pii.js';
import type { PiiFinding, PiiType } from './detectors/types.js';

/** Texts whose characters add up to this many are scanned by the worker (about 1-10 ms of scanning in place). */
export const OFFLOAD_CHARS = 64 * 1024;
/** Characters that may wait for the worker at once (about four bodies at the default 4 MB limit). */
export const MAX_PENDING_CHARS = 16 * 1024 * 1024;

/** Findings of several texts in one typed array: (detector index, start, end) per finding, texts in order. */
export interface PackedFindings {
  detectors: string[];
  /** The PII type of each detector. */
  types: string[];
  /** Findings per text. */
  counts: Int32Array;
  spans: Int32Array;
}

export interface ScanRequest { id: number; texts: string[] }
export type ScanReply = { id: number; packed: PackedFindings } | { id: number; error: string };

/** The findings of each text, packed (the worker's side). */
export function pack(found: readonly PiiFinding[][]): PackedFindings {
  const detectors: string[] = [];
  const types: string[] = [];
  const index = new Map<string, number>();
  let n = 0;
  for (const f of found) n += f.length;
  const spans = new Int32Array(n * 3);
  const counts = new Int32Array(found.length);
  let at = 0;
  found.forEach((findings, t) => {
    counts[t] = findings.length;
    for (const f of findings) {
      let d = index.get(f.detector);
      if (d === undefined) {
        d = detectors.push(f.detector) - 1;
        types.push(f.type);
        index.set(f.detector, d);
      }
      spans[at++] = d;
      spans[at++] = f.start;
      spans[at++] = f.end;
    }
  });
  return { detectors, types, counts, spans };
}

/** The findings of each text again (the event loop's side). */
export function unpack(p: PackedFindings): PiiFinding[][] {
  const out: PiiFinding[][] = [];
  let at = 0;
  for (const count of p.counts) {
    const findings: PiiFinding[] = new Array(count);
    for (let i = 0; i < count; i++, at += 3) {
      const d = p.spans[at];
      findings[i] = { type: p.types[d] as PiiType, detector: p.detectors[d], start: p.spans[at + 1], end: p.spans[at + 2] };
    }
    out.push(findings);
  }
  return out;
}

/** A scan refused because the worker already has MAX_PENDING_CHARS waiting. */
export class PiiScanBusy extends GatewayError {
  constructor() {
    super({
      status: 503,
      message: 'The gateway is scanning as many large request bodies for personal data as it takes at once; retry shortly.',
      type: 'server_error',
      code: 'pii_scan_busy',
      failure: 'gateway',
      headers: { 'retry-after': '1' },
      retryAfterS: 1,
    });
  }
}

interface Call {
  texts: string[];
  chars: number;
  owner: string;
  resolve: (found: PiiFinding[][]) => void;
  reject: (err: unknown) => void;
}

const WORKER_URL = workerScript('pii-worker', import.meta.url);

export class PiiScanner {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Call>();
  private pendingChars = 0;
  /** Characters waiting per owner. */
  private readonly byOwner = new Map<string, number>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly offloadChars = OFFLOAD_CHARS,
    private readonly maxPendingChars = MAX_PENDING_CHARS,
  ) {}

  /** Characters waiting for the worker now. */
  get waiting(): number {
    return this.pendingChars;
  }

  /**
   * The findings of each text: at once for small texts, from the worker for large ones (rejects with PiiScanBusy).
   * The queue is shared by `owner` (the caller's virtual key, as in-flight admission shares the gateway): past the bound
   * a scan is still taken for an owner below its share (the bound over the owners waiting), up to twice the bound; so
   * one key's flood of large bodies fills only its own share and the other keys' large bodies are still scanned.
   */
  scan(texts: string[], owner = ''): PiiFinding[][] | Promise<PiiFinding[][]> {
    let chars = 0;
    for (const t of texts) chars += t.length;
    if (chars < this.offloadChars || this.closed) return texts.map(detectPii);
    const mine = this.byOwner.get(owner) ?? 0;
    // One body larger than the bound is taken when nothing waits: the body limit bounds it.
    if (this.pending.size > 0 && this.pendingChars + chars > this.maxPendingChars) {
      const owners = this.byOwner.size + (mine === 0 ? 1 : 0);
      if (this.pendingChars + chars > 2 * this.maxPendingChars || mine + chars > this.maxPendingChars / owners) return Promise.reject(new PiiScanBusy());
    }
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<PiiFinding[][]>((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { texts, chars, owner, resolve, reject });
      this.pendingChars += chars;
      this.byOwner.set(owner, mine + chars);
      worker.postMessage({ id, texts } satisfies ScanRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    // What is waiting is scanned in place: nothing asked for is lost.
    this.settleInPlace();
    await w?.terminate();
  }

  private start(): Worker {
    const worker = startModuleWorker(WORKER_URL);
    this.worker = worker;
    worker.unref();
    worker.on('message', (m: ScanReply) => {
      const call = this.take(m.id);
      if (call === undefined) return;
      if (this.pending.size === 0) worker.unref();
      if ('packed' in m) call.resolve(unpack(m.packed));
      else call.reject(new Error(`PII scan failed: ${m.error}`));
    });
    const lost = (): void => {
      if (this.worker !== worker) return;
      this.worker = undefined; // the next large scan starts a new one
      this.settleInPlace();
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    return worker;
  }

  private take(id: number): Call | undefined {
    const call = this.pending.get(id);
    if (call === undefined) return undefined;
    this.pending.delete(id);
    this.pendingChars -= call.chars;
    const left = (this.byOwner.get(call.owner) ?? 0) - call.chars;
    if (left > 0) this.byOwner.set(call.owner, left);
    else this.byOwner.delete(call.owner);
    return call;
  }

  private settleInPlace(): void {
    for (const id of [...this.pending.keys()]) {
      const call = this.take(id)!;
      try {
        call.resolve(call.texts.map(detectPii));
      } catch (err) {
        call.reject(err);
      }
    }
  }
}

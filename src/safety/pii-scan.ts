/**
 * PII scanning and redaction, off the event loop for large texts. Both are linear in their text, but at the body limit
 * (4 MB) a scan takes from tens to hundreds of milliseconds (a text packed with findings is the worst), and redacting
 * hundreds of thousands of findings as long again; on the event loop that time is taken from every other request in
 * flight. A request whose texts add up to OFFLOAD_CHARS or more is scanned, and redacted, by a worker thread instead (one,
 * started on first use, unref'd while idle); smaller ones in place, synchronously, where a worker's round trip would cost
 * more than the work. The worker's queue is bounded by the characters waiting (MAX_PENDING_CHARS, shared fairly between
 * tenants): past it a job is refused with PiiScanBusy (a 503 with Retry-After, in the caller's envelope), so a flood of
 * large bodies waits a bounded time or is turned away, and never holds the requests of others. A worker that dies is
 * replaced, and the jobs it held are done in place (the findings must not be lost: redaction and the cache's no-store mark
 * depend on them). Results are the same as in place, by construction: the worker runs the same functions.
 */
import type { Worker } from 'node:worker_threads';
import { GatewayError } from '../errors.js';
import { startModuleWorker, workerScript } from '../util/module-worker.js';
import { detectPii } from './detectors/pii.js';
import type { PiiType } from './detectors/types.js';
import { pack, type PackedFindings } from './pii-findings.js';
import { redactTexts, type RedactedTexts } from './redact.js';

/** Texts whose characters add up to this many are scanned by the worker (about 1-10 ms of scanning in place). */
export const OFFLOAD_CHARS = 64 * 1024;
/** Characters that may wait for the worker at once (about four bodies at the default 4 MB limit). */
export const MAX_PENDING_CHARS = 16 * 1024 * 1024;
/**
 * Longest a job may wait for the worker (a full queue is scanned in seconds): past it the worker is taken as stuck, what
 * it holds is refused as busy (503, retry) and the next job starts a new one. Nothing on the request path waits unbounded.
 */
export const JOB_TIMEOUT_MS = 30_000;

/** A redaction's inputs: the texts, their findings, the types to replace and the placeholders held elsewhere in the body. */
export interface RedactJob { texts: string[]; found: PackedFindings; types: PiiType[]; outside: string[] }

export type ScanRequest = { id: number; scan: string[] } | { id: number; redact: RedactJob };
export type ScanReply = { id: number; packed: PackedFindings } | { id: number; redacted: RedactedTexts } | { id: number; error: string };

/** What the worker does with a request (and what a request it could not finish does in place). */
export function runJob(m: ScanRequest): ScanReply {
  if ('scan' in m) return { id: m.id, packed: pack(m.scan.map(detectPii)) };
  const r = m.redact;
  return { id: m.id, redacted: redactTexts(r.texts, r.found, new Set(r.types), () => r.outside) };
}

/** The result a reply carries; throws the worker's error. */
function resultOf(r: ScanReply): PackedFindings | RedactedTexts {
  if ('packed' in r) return r.packed;
  if ('redacted' in r) return r.redacted;
  throw new Error(`PII worker failed: ${r.error}`);
}

/** A scan refused because the worker already has MAX_PENDING_CHARS waiting. */
export class PiiScanBusy extends GatewayError {
  constructor() {
    super({
      status: 503,
      message: 'The gateway is scanning (or redacting) as many large request bodies for personal data as it takes at once; retry shortly.',
      type: 'server_error',
      code: 'pii_scan_busy',
      failure: 'gateway',
      headers: { 'retry-after': '1' },
      retryAfterS: 1,
    });
  }
}

interface Call {
  job: ScanRequest;
  chars: number;
  owner: string;
  timer: NodeJS.Timeout;
  resolve: (result: PackedFindings | RedactedTexts) => void;
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
    private readonly jobTimeoutMs = JOB_TIMEOUT_MS,
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
  scan(texts: string[], owner = ''): PackedFindings | Promise<PackedFindings> {
    const chars = charsOf(texts);
    if (chars < this.offloadChars || this.closed) return pack(texts.map(detectPii));
    return this.submit(chars, owner, (id) => ({ id, scan: texts })) as Promise<PackedFindings>;
  }

  /**
   * `texts` with the findings of `types` replaced by placeholders (redact.ts), under the same rules as a scan: in place
   * for small texts, else by the worker, behind the same bound. `outside`: the placeholders the body holds elsewhere.
   */
  redact(texts: string[], found: PackedFindings, types: PiiType[], outside: () => string[], owner = ''): RedactedTexts | Promise<RedactedTexts> {
    const chars = charsOf(texts);
    if (chars < this.offloadChars || this.closed) return redactTexts(texts, found, new Set(types), outside);
    return this.submit(chars, owner, (id) => ({ id, redact: { texts, found, types, outside: outside() } })) as Promise<RedactedTexts>;
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    // What is waiting is done in place: nothing asked for is lost.
    this.settleInPlace();
    await w?.terminate();
  }

  private submit(chars: number, owner: string, job: (id: number) => ScanRequest): Promise<PackedFindings | RedactedTexts> {
    const mine = this.byOwner.get(owner) ?? 0;
    // One body larger than the bound is taken when nothing waits: the body limit bounds it.
    if (this.pending.size > 0 && this.pendingChars + chars > this.maxPendingChars) {
      const owners = this.byOwner.size + (mine === 0 ? 1 : 0);
      if (this.pendingChars + chars > 2 * this.maxPendingChars || mine + chars > this.maxPendingChars / owners) return Promise.reject(new PiiScanBusy());
    }
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const request = job(id);
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      const timer = setTimeout(() => this.stuck(worker), this.jobTimeoutMs).unref();
      this.pending.set(id, { job: request, chars, owner, resolve, reject, timer });
      this.pendingChars += chars;
      this.byOwner.set(owner, mine + chars);
      worker.postMessage(request);
    });
  }

  private start(): Worker {
    const worker = startModuleWorker(WORKER_URL);
    this.worker = worker;
    worker.unref();
    worker.on('message', (m: ScanReply) => {
      const call = this.take(m.id);
      if (call === undefined) return;
      if (this.pending.size === 0) worker.unref();
      try {
        call.resolve(resultOf(m));
      } catch (err) {
        call.reject(err);
      }
    });
    const lost = (): void => {
      if (this.worker !== worker) return;
      this.worker = undefined; // the next large job starts a new one
      this.settleInPlace();
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    return worker;
  }

  /** A job outlived its deadline: the worker is let go and what it holds refused, not done on the event loop instead. */
  private stuck(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = undefined; // its exit then settles nothing; the next large job starts a new one
    for (const id of [...this.pending.keys()]) this.take(id)!.reject(new PiiScanBusy());
    void worker.terminate();
  }

  private take(id: number): Call | undefined {
    const call = this.pending.get(id);
    if (call === undefined) return undefined;
    clearTimeout(call.timer);
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
        call.resolve(resultOf(runJob(call.job)));
      } catch (err) {
        call.reject(err);
      }
    }
  }
}

function charsOf(texts: readonly string[]): number {
  let chars = 0;
  for (const t of texts) chars += t.length;
  return chars;
}

/** The buffers of a reply the worker hands over rather than copies (an empty one is not worth it, and may be shared). */
export function transferables(r: ScanReply): ArrayBuffer[] {
  const arrays = 'packed' in r ? [r.packed.counts, r.packed.spans] : 'redacted' in r ? [r.redacted.originals.ends, ...r.redacted.originals.numbers] : [];
  return arrays.filter((a) => a.byteLength > 0).map((a) => a.buffer as ArrayBuffer);
}

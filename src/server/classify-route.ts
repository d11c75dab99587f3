/**
 * POST /v1/classify {input} → {intent, score, margin, top}: the intent classifier as an endpoint, authenticated like the
 * other /v1 routes. Its embedding waits in the embedder's queue like a request's, fair between virtual keys, but with a
 * wait of its own (CLASSIFY_WAIT_MS: the classification is the answer, so it may wait longer than a request's semantic
 * budget): a text that could not have its vector within it — the queue full, or the calls ahead too long — is refused at
 * once with a 503 and Retry-After instead of queueing without bound behind a flood.
 */
import express, { type Router } from 'express';
import { GatewayError, invalidRequest } from '../errors.js';
import type { Caller } from '../pipeline/context.js';
import { EmbedAborted, EmbedderBusy } from '../semantic/embedder/batching.js';
import type { SemanticService } from '../semantic/service.js';

/** Longest an /v1/classify call waits for its embedding. */
export const CLASSIFY_WAIT_MS = 5_000;

const busy = (): GatewayError => new GatewayError({
  status: 503, message: `The embedder cannot classify this input within ${CLASSIFY_WAIT_MS / 1000} s now; retry shortly.`,
  type: 'server_error', code: 'embedder_busy', failure: 'gateway', headers: { 'retry-after': '1' }, retryAfterS: 1,
});

export function classifyRouter(deps: {
  authenticate(authorization: string | undefined): Promise<Caller>;
  semantic: () => SemanticService | undefined;
  maxInputChars: () => number;
}): Router {
  const router = express.Router();
  router.post('/v1/classify', async (req, res) => {
    const caller = await deps.authenticate(req.headers.authorization);
    const semantic = deps.semantic();
    if (!semantic) {
      throw new GatewayError({ status: 503, message: 'Semantic features are disabled (semantic.enabled: false).', type: 'service_unavailable', code: 'semantic_disabled', failure: 'gateway' });
    }
    const input = (req.body as { input?: unknown } | undefined)?.input;
    if (input === undefined) throw invalidRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
    if (typeof input !== 'string' || input.trim() === '') throw invalidRequest("Invalid 'input': expected a non-empty string.", 'input', 'invalid_type');
    let vector: Float32Array;
    try {
      vector = await semantic.embed(input.slice(0, deps.maxInputChars()), () => AbortSignal.timeout(CLASSIFY_WAIT_MS), CLASSIFY_WAIT_MS, caller.virtualKeyId);
    } catch (err) {
      if (err instanceof EmbedderBusy || err instanceof EmbedAborted) throw busy();
      throw err;
    }
    const c = semantic.classify(vector);
    res.json({ intent: c.intent, score: c.score, margin: c.margin, top: c.top, metadata: c.metadata });
  });
  return router;
}

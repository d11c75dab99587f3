/**
 * The dashboard page: one HTML document with its stylesheet and script inline (no external requests, no build step), and
 * a Content-Security-Policy that allows exactly those two inline blocks by hash and data fetches to the gateway itself.
 */
import { createHash } from 'node:crypto';
import { CLIENT } from './client.js';
import { STYLE } from './style.js';

const sha256 = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

const BODY = String.raw`
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <h1>Switchyard <span>gateway dashboard</span></h1>
  <div class="grow"></div>
  <p class="status" role="status" aria-live="polite"><span class="dot" id="status-dot"></span><span id="status-text">Connecting…</span></p>
  <label class="status" for="range">Range
    <select id="range">
      <option value="900000">15 min</option>
      <option value="3600000">1 hour</option>
      <option value="300000">5 min</option>
    </select>
  </label>
  <button type="button" id="pause" aria-pressed="false">Pause</button>
  <button type="button" id="signout">Sign out</button>
</header>

<form class="login" id="login" hidden>
  <h2>Admin key required</h2>
  <p>The dashboard reads the gateway's live state with the admin key (server.admin_key). It is kept in this tab only.</p>
  <label for="key-input">Admin key</label>
  <input id="key-input" type="password" autocomplete="current-password" required>
  <p class="error-text" id="login-error" role="alert"></p>
  <button type="submit">Open dashboard</button>
</form>

<main id="main" hidden>
  <p class="banner" id="source-errors" role="alert" hidden></p>
  <dl class="kpis" aria-label="Key figures">
    <div class="kpi"><dt>Requests</dt><dd id="kpi-requests">–</dd></div>
    <div class="kpi"><dt>Rate (last min)</dt><dd id="kpi-rate">–</dd></div>
    <div class="kpi"><dt>Error rate (last min)</dt><dd id="kpi-errors">–</dd></div>
    <div class="kpi"><dt>Cache hit rate (1 h)</dt><dd id="kpi-cache">–</dd></div>
    <div class="kpi"><dt>Semantic degraded (last min)</dt><dd id="kpi-degraded">–</dd></div>
    <div class="kpi"><dt>Latency p50 / p95</dt><dd id="kpi-latency">–</dd></div>
    <div class="kpi"><dt>Tokens</dt><dd id="kpi-tokens">–</dd></div>
  </dl>

  <div class="row2">
    <section class="panel" aria-labelledby="h-rate">
      <h2 id="h-rate">Request rate <small id="rate-note"></small></h2>
      <figure class="chart"><div id="chart-rate"></div>
        <figcaption><span><span class="swatch"></span>requests / s</span><span><span class="swatch b"></span>errors / s</span></figcaption></figure>
    </section>
    <section class="panel" aria-labelledby="h-cache">
      <h2 id="h-cache">Cache hit rate <small id="cache-note"></small></h2>
      <figure class="chart"><div id="chart-cache"></div>
        <figcaption><span><span class="swatch"></span>hits / lookups per 10 s</span></figcaption></figure>
    </section>
  </div>

  <div class="row2">
    <section class="panel" aria-labelledby="h-spend">
      <h2 id="h-spend">Spend <small id="spend-note"></small></h2>
      <figure class="chart"><div id="chart-spend"></div>
        <figcaption><span><span class="swatch"></span>USD spent per hour</span><span><span class="swatch b"></span>at baseline prices (the gap is the estimated saving)</span></figcaption></figure>
    </section>
    <section class="panel" aria-labelledby="h-savings">
      <h2 id="h-savings">Savings by rule <small>last 24 h, estimated against the baseline model</small></h2>
      <figure class="chart"><div id="chart-savings"></div></figure>
    </section>
  </div>

  <div class="row3">
    <section class="panel" aria-labelledby="h-intent"><h2 id="h-intent">Traffic by intent <small>last hour</small></h2><div id="by-intent"></div></section>
    <section class="panel" aria-labelledby="h-rule"><h2 id="h-rule">Traffic by rule <small>last hour</small></h2><div id="by-rule"></div></section>
    <section class="panel" aria-labelledby="h-provider"><h2 id="h-provider">Traffic by provider <small>last hour</small></h2><div id="by-provider"></div></section>
  </div>

  <section class="panel" aria-labelledby="h-health">
    <h2 id="h-health">Providers and keys <small>circuit state, error rate over the health window, latency</small></h2>
    <div class="table-wrap" id="health"></div>
  </section>

  <section class="panel" aria-labelledby="h-recent">
    <h2 id="h-recent">Recent routing decisions <small>newest first; expand a row for its explain trace</small></h2>
    <div class="table-wrap" id="recent"></div>
  </section>

  <div class="row2">
    <section class="panel" aria-labelledby="h-categories">
      <h2 id="h-categories">Reference-prompt categories</h2>
      <div class="table-wrap" id="categories"></div>
    </section>
    <section class="panel" aria-labelledby="h-cache-stats">
      <h2 id="h-cache-stats">Semantic cache</h2>
      <div id="cache-stats"></div>
    </section>
  </div>

  <section class="panel" aria-labelledby="h-rules">
    <h2 id="h-rules">Routing rules</h2>
    <div class="table-wrap" id="rules"></div>
  </section>
</main>
`;

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Switchyard dashboard</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${CLIENT}</script>
</body>
</html>
`;

/** Allows only the page's own inline style and script, and fetches to the gateway's own origin. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(CLIENT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

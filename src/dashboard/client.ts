/**
 * The dashboard's browser script (plain ES2020, served inline). It takes the admin key from `?key=` or `#key=` on the page
 * URL (then removes it from the address bar) or from a login form, keeps it in sessionStorage, and sends it as
 * `x-admin-key` when it polls `<page>/data` every few seconds. All data is inserted as text, never as HTML.
 */
export const CLIENT = String.raw`
(function () {
  'use strict';
  var STORE = 'switchyard.adminKey';
  var REFRESH_MS = 4000;
  var $ = function (id) { return document.getElementById(id); };
  var dataUrl = location.pathname.replace(/\/+$/, '') + '/data';
  var expanded = new Set();
  var paused = false;
  var timer = 0;
  var last = null;

  function takeKeyFromUrl() {
    var url = new URL(location.href);
    var key = url.searchParams.get('key');
    var hash = new URLSearchParams(url.hash.replace(/^#/, ''));
    if (!key && hash.get('key')) key = hash.get('key');
    if (key) {
      sessionStorage.setItem(STORE, key);
      url.searchParams.delete('key');
      url.hash = '';
      history.replaceState(null, '', url.pathname + url.search);
    }
  }

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k === 'className') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === undefined || c === null || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) el.appendChild(typeof x === 'string' ? document.createTextNode(x) : x); });
      else el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }
  var SVG = 'http://www.w3.org/2000/svg';
  function s(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    for (var k in attrs) if (k === 'text') el.textContent = attrs[k]; else el.setAttribute(k, String(attrs[k]));
    return el;
  }
  function fill(id, node) { var el = $(id); el.replaceChildren(node); }

  var nf = new Intl.NumberFormat();
  function num(n) { return n === null || n === undefined ? '–' : nf.format(n); }
  function pct(x) { return x === null || x === undefined ? '–' : (Math.round(x * 1000) / 10) + '%'; }
  function ms(x) { return x === null || x === undefined ? '–' : x >= 1000 ? (x / 1000).toFixed(2) + ' s' : (x >= 10 ? Math.round(x) : x.toFixed(1)) + ' ms'; }
  function time(iso) { var d = new Date(iso); return d.toLocaleTimeString([], { hour12: false }); }
  function badge(text, kind) { return h('span', { className: 'badge ' + kind, text: text }); }
  var STATE_KIND = { healthy: 'ok', degraded: 'warn', half_open: 'info', open: 'bad' };
  function stateBadge(st) { return badge(String(st).replace('_', ' '), STATE_KIND[st] || 'plain'); }
  function statusBadge(code) { return badge(String(code), code < 400 ? 'ok' : code < 500 ? 'warn' : 'bad'); }
  function cacheBadge(c) {
    if (!c) return h('span', { className: 'muted', text: '–' });
    return badge(c, c.indexOf('hit') === 0 ? 'ok' : c === 'miss' ? 'info' : 'plain');
  }

  function setStatus(kind, text) {
    $('status-dot').className = 'dot ' + kind;
    $('status-text').textContent = text;
  }

  function niceStep(raw) {
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
  }
  function decimals(step) {
    for (var d = 0; d < 6; d++) { var v = step * Math.pow(10, d); if (Math.abs(v - Math.round(v)) < 1e-9) return d; }
    return 6;
  }

  function chart(points, opts) {
    var W = 600, H = 170, L = 38, R = 8, T = 10, B = 20;
    var svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img', 'aria-label': opts.label });
    svg.appendChild(s('title', { text: opts.label }));
    var top = 0;
    points.forEach(function (p) { if (p.a !== null && p.a > top) top = p.a; if (p.b !== null && p.b > top) top = p.b; });
    // Four gridlines at a round step (1, 2, 2.5 or 5 times a power of ten) unless the caller fixes the maximum.
    var step = opts.max ? opts.max / 4 : niceStep(top > 0 ? top / 4 : 0.25);
    var max = step * 4;
    var n = Math.max(1, points.length - 1);
    var x = function (i) { return L + (W - L - R) * i / n; };
    var y = function (v) { return T + (H - T - B) * (1 - v / max); };
    for (var g = 0; g <= 4; g++) {
      var v = max * g / 4, yy = y(v);
      svg.appendChild(s('line', { x1: L, x2: W - R, y1: yy, y2: yy, class: 'grid' }));
      svg.appendChild(s('text', { x: L - 4, y: yy + 3, 'text-anchor': 'end', class: 'axis', text: opts.fmt(v, step) }));
    }
    if (points.length > 1) {
      [0, Math.floor(points.length / 2), points.length - 1].forEach(function (i) {
        svg.appendChild(s('text', { x: x(i), y: H - 5, 'text-anchor': i === 0 ? 'start' : i === points.length - 1 ? 'end' : 'middle', class: 'axis', text: time(points[i].t) }));
      });
    }
    function path(key) {
      var d = '', pen = false;
      points.forEach(function (p, i) {
        if (p[key] === null) { pen = false; return; }
        d += (pen ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(p[key]).toFixed(1);
        pen = true;
      });
      return d;
    }
    if (opts.area) {
      var a = path('a');
      if (a) svg.appendChild(s('path', { d: a + 'L' + x(points.length - 1) + ' ' + y(0) + 'L' + x(0) + ' ' + y(0) + 'Z', class: 'area' }));
    }
    svg.appendChild(s('path', { d: path('a'), class: 'line' }));
    if (opts.second) svg.appendChild(s('path', { d: path('b'), class: 'line2' }));
    // Points without a neighbour would draw nothing as a line: mark them, and the latest value.
    points.forEach(function (p, i) {
      if (p.a === null) return;
      var alone = (i === 0 || points[i - 1].a === null) && (i === points.length - 1 || points[i + 1].a === null);
      if (alone || i === points.length - 1) svg.appendChild(s('circle', { cx: x(i), cy: y(p.a), r: 3, class: 'dot-a' }));
    });
    return svg;
  }

  function usd(v) {
    if (v === null || v === undefined) return '–';
    var a = Math.abs(v);
    return (v < 0 ? '−$' : '$') + (a >= 100 ? a.toFixed(0) : a >= 1 ? a.toFixed(2) : a >= 0.01 ? a.toFixed(3) : a === 0 ? '0' : a.toPrecision(2));
  }

  // Horizontal bars from a zero line: one per rule, savings to the right, overspend (negative) to the left in the second colour.
  function savingsChart(rows) {
    var W = 600, ROW = 26, L = 170, R = 74, T = 4;
    var H = T * 2 + rows.length * ROW;
    var svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'hbars', role: 'img', 'aria-label': 'Estimated savings by routing rule' });
    svg.appendChild(s('title', { text: 'Estimated savings by routing rule' }));
    var lo = 0, hi = 0;
    rows.forEach(function (r) { if (r.saved_usd < lo) lo = r.saved_usd; if (r.saved_usd > hi) hi = r.saved_usd; });
    var span = hi - lo || 1;
    var x = function (v) { return L + (W - L - R) * (v - lo) / span; };
    rows.forEach(function (r, i) {
      var y = T + i * ROW;
      var x0 = x(0), x1 = x(r.saved_usd);
      var g = s('g', { class: 'bar-row' });
      g.appendChild(s('title', { text: (r.rule || '(no rule)') + ': ' + usd(r.saved_usd) + ' saved, ' + r.moved_pct + '% of ' + num(r.requests) + ' requests moved' }));
      g.appendChild(s('text', { x: L - 6, y: y + ROW / 2 + 4, 'text-anchor': 'end', class: 'axis name', text: (r.rule || '(no rule)').slice(0, 26) }));
      g.appendChild(s('rect', { x: Math.min(x0, x1), y: y + 4, width: Math.max(1, Math.abs(x1 - x0)), height: ROW - 8, rx: 3, class: r.saved_usd < 0 ? 'bar neg' : 'bar' }));
      g.appendChild(s('text', { x: W - R + 6, y: y + ROW / 2 + 4, class: 'axis value', text: usd(r.saved_usd) }));
      svg.appendChild(g);
    });
    svg.appendChild(s('line', { x1: x(0), x2: x(0), y1: 0, y2: H, class: 'grid zero' }));
    return svg;
  }

  function renderSpend(sp) {
    if (!sp) {
      fill('chart-spend', h('p', { className: 'empty', text: 'The spend ledger is not available.' }));
      return fill('chart-savings', h('p', { className: 'empty', text: 'No savings to show.' }));
    }
    var t = sp.totals;
    $('spend-note').textContent = usd(t.cost_usd) + ' spent, ' + usd(t.saved_usd) + ' saved (' + t.saved_pct + '%) in 24 h' + (sp.source === 'memory' ? ' · this instance' : '');
    fill('chart-spend', chart(sp.series.map(function (p) { return { t: p.t, a: p.cost_usd, b: p.cost_usd + p.saved_usd }; }),
      { label: 'Spend per hour and what it would have cost at baseline prices', fmt: function (v, step) { return '$' + v.toFixed(decimals(step)); }, area: true, second: true }));
    var rules = sp.by_rule.filter(function (r) { return r.requests > 0; }).slice(0, 12);
    if (rules.length === 0) fill('chart-savings', h('p', { className: 'empty', text: 'No traffic yet.' }));
    else fill('chart-savings', savingsChart(rules));
  }

  function bars(record, id) {
    var entries = Object.keys(record || {}).map(function (k) { return [k, record[k]]; });
    if (entries.length === 0) return fill(id, h('p', { className: 'empty', text: 'No traffic yet.' }));
    var max = entries.reduce(function (m, e) { return Math.max(m, e[1]); }, 1);
    var ol = h('ol', { className: 'bars' });
    entries.slice(0, 12).forEach(function (e) {
      var bar = h('span', { className: 'fill' });
      bar.style.width = (100 * e[1] / max).toFixed(1) + '%';
      ol.appendChild(h('li', null, h('span', { className: 'name', title: e[0], text: e[0] }), h('span', { className: 'track', 'aria-hidden': 'true' }, bar), h('span', { className: 'n', text: num(e[1]) })));
    });
    fill(id, ol);
  }

  function table(caption, heads, rows, id) {
    var thead = h('thead', null, h('tr', null, heads.map(function (c) { return h('th', { scope: 'col', className: c.num ? 'num' : '', text: c.t }); })));
    return h('table', { id: id }, caption ? h('caption', { text: caption }) : null, thead, h('tbody', null, rows));
  }
  function td(content, cls) { return h('td', { className: cls || '' }, typeof content === 'object' && content !== null ? content : String(content === undefined || content === null ? '–' : content)); }

  function renderHealth(health) {
    var names = Object.keys(health || {});
    if (names.length === 0) return fill('health', h('p', { className: 'empty', text: 'No providers configured.' }));
    var rows = [];
    names.forEach(function (name) {
      var p = health[name];
      rows.push(h('tr', { 'data-provider': name }, td(h('strong', { text: name })), td(stateBadge(p.state)), td(pct(p.error_rate), 'num'), td(ms(p.p50_ms), 'num'), td(ms(p.p95_ms), 'num'), td(p.available_keys + ' / ' + p.keys.length, 'num'), td('')));
      p.keys.forEach(function (k) {
        rows.push(h('tr', { className: 'key' }, td('key ' + k.id), td(stateBadge(k.state)), td(pct(k.error_rate), 'num'), td('ewma ' + ms(k.ewma_ms), 'num'), td(''), td(''), td(k.in_flight + ' in flight', 'num')));
        // The key's lanes (one per upstream model) that are not healthy: a model down or resting on a key that serves others.
        Object.keys(k.models || {}).forEach(function (m) {
          var l = k.models[m];
          if (l.state === 'healthy' || k.state === 'open' || k.state === 'half_open') return;
          rows.push(h('tr', { className: 'key lane' }, td('model ' + m), td(stateBadge(l.state)), td(pct(l.error_rate), 'num'), td('ewma ' + ms(l.ewma_ms), 'num'), td(''), td(''), td(l.in_flight + ' in flight', 'num')));
        });
      });
    });
    fill('health', table(null, [{ t: 'Provider / key' }, { t: 'State' }, { t: 'Error rate', num: 1 }, { t: 'p50', num: 1 }, { t: 'p95', num: 1 }, { t: 'Keys up', num: 1 }, { t: 'Load', num: 1 }], rows, 'health-table'));
  }

  function renderRecent(recent) {
    if (!recent || recent.length === 0) return fill('recent', h('p', { className: 'empty', text: 'No requests yet.' }));
    var rows = [];
    recent.forEach(function (e, i) {
      var key = e.id || (e.time + i);
      var open = expanded.has(key);
      var detailId = 'detail-' + i;
      var btn = h('button', { type: 'button', className: 'expand', 'aria-expanded': open ? 'true' : 'false', 'aria-controls': detailId, 'aria-label': 'Explain request ' + e.id, text: open ? '−' : '+' });
      btn.addEventListener('click', function () { if (expanded.has(key)) expanded.delete(key); else expanded.add(key); if (last) renderRecent(last.activity.recent); });
      var target = e.provider ? e.provider + '/' + e.model : (e.cache && e.cache.indexOf('hit') === 0 ? 'cache' : '–');
      var intent = h('span', null, e.intent ? e.intent + (e.intent_score !== null && e.semantic !== 'degraded' ? ' (' + e.intent_score.toFixed(2) + ')' : '') : '–', e.semantic === 'degraded' ? badge('degraded', 'warn') : null);
      var cache = h('span', null, cacheBadge(e.cache), e.cache_similarity !== null ? h('span', { className: 'muted', text: ' ' + e.cache_similarity.toFixed(3) }) : null);
      rows.push(h('tr', { className: 'decision' }, td(btn), td(time(e.time), 'mono time'), td(String(e.request_type).replace(/_/g, ' ')), td(e.requested_model, 'mono id'), td(e.rule, 'id'), td(intent), td(cache), td(target, 'mono id'), td(e.attempts.length, 'num'), td(statusBadge(e.status)), td(ms(e.latency_ms), 'num'), td(e.tokens ? num(e.tokens.total) : '–', 'num')));
      if (open) {
        var attempts = e.attempts.map(function (a) { return a.provider + '/' + a.model + ' key ' + a.key + ' → ' + a.status + ' in ' + ms(a.latency_ms); });
        var cell = h('td', { colspan: '12' },
          h('h3', { text: 'Request ' + e.id }),
          h('p', { className: 'mono', text: (attempts.length ? 'Attempts: ' + attempts.join('; ') : 'No upstream attempt') + (e.ttfb_ms !== null ? ' · first byte ' + ms(e.ttfb_ms) : '') + (e.error_code ? ' · error ' + e.error_code : '') }),
          h('h3', { text: 'Explain trace' }),
          h('pre', { text: JSON.stringify(e.explain, null, 2) }));
        rows.push(h('tr', { className: 'detail', id: detailId }, cell));
      }
    });
    fill('recent', table(null, [{ t: '' }, { t: 'Time' }, { t: 'Type' }, { t: 'Model asked' }, { t: 'Rule' }, { t: 'Intent (score)' }, { t: 'Cache' }, { t: 'Answered by' }, { t: 'Tries', num: 1 }, { t: 'Status' }, { t: 'Latency', num: 1 }, { t: 'Tokens', num: 1 }], rows, 'recent-table'));
  }

  function renderCategories(cats) {
    if (!cats || cats.length === 0) return fill('categories', h('p', { className: 'empty', text: 'No reference-prompt categories loaded.' }));
    var rows = cats.map(function (c) {
      return h('tr', null, td(h('strong', { text: c.name })), td(c.description || '–', 'wrap'), td(num(c.examples), 'num'), td(c.threshold === null ? 'default' : c.threshold, 'num'), td(Object.keys(c.metadata || {}).join(', ') || '–'));
    });
    fill('categories', table(cats.length + ' categories', [{ t: 'Category' }, { t: 'Description' }, { t: 'Examples', num: 1 }, { t: 'Threshold', num: 1 }, { t: 'Metadata' }], rows));
  }

  function renderRules(rules) {
    if (!rules || rules.length === 0) return fill('rules', h('p', { className: 'empty', text: 'No routing rules: requests go to the model they ask for.' }));
    var rows = rules.map(function (r) {
      var targets = (r.targets || []).map(function (t) { return typeof t === 'string' ? t : (t.target || (t.provider + '/' + t.model)) + (t.weight !== undefined ? ' ×' + t.weight : ''); }).join(', ');
      return h('tr', null, td(h('strong', { text: r.name }), 'id'), td(r.scope), td(r.priority, 'num'), td(r.enabled ? badge('enabled', 'ok') : badge('disabled', 'plain')), td(targets || '–', 'mono wrap'));
    });
    fill('rules', table(null, [{ t: 'Rule' }, { t: 'Scope' }, { t: 'Priority', num: 1 }, { t: 'State' }, { t: 'Targets' }], rows));
  }

  function renderCache(c) {
    if (!c) return fill('cache-stats', h('p', { className: 'empty', text: 'The cache is not enabled.' }));
    var t = c.totals || c;
    var items = [['Lookups', num(t.lookups)], ['Hit rate', pct(t.hit_rate)], ['Exact hits', num(t.hits_exact)], ['Semantic hits', num(t.hits_semantic)], ['Misses', num(t.misses)], ['Skipped', num(t.skips_total)], ['Stored', num(t.stores)], ['Tokens saved', num((t.prompt_tokens_saved || 0) + (t.completion_tokens_saved || 0))]];
    if (c.entries !== undefined) items.push(['Entries', num(c.entries)]);
    var gr = t.guard_rejections || {};
    Object.keys(gr).forEach(function (k) { items.push(['Guard rejected (' + k + ')', num(gr[k])]); });
    var dl = h('dl', { className: 'kv' });
    items.forEach(function (it) { if (it[1] !== '–') { dl.appendChild(h('dt', { text: it[0] })); dl.appendChild(h('dd', { text: it[1] })); } });
    fill('cache-stats', dl);
  }

  function render(d) {
    last = d;
    var failed = Object.keys(d.errors || {});
    $('source-errors').hidden = failed.length === 0;
    $('source-errors').textContent = failed.length ? 'Some data could not be read: ' + failed.map(function (k) { return k + ' (' + d.errors[k] + ')'; }).join('; ') : '';
    var a = d.activity;
    $('kpi-requests').textContent = num(a.totals.requests);
    $('kpi-rate').replaceChildren(String(a.last_minute.rate_per_s), h('small', { text: 'req/s' }));
    $('kpi-errors').textContent = pct(a.last_minute.error_rate);
    $('kpi-cache').textContent = a.last_hour.cache_lookups ? pct(a.last_hour.cache_hit_rate) : '–';
    $('kpi-degraded').textContent = a.last_minute.semantic ? pct(a.last_minute.degraded_share) : '–';
    $('kpi-degraded').title = a.last_minute.semantic_degraded + ' of ' + a.last_minute.semantic + ' requests went on without their embedding or cache lookup (semantic.max_wait_ms)';
    $('kpi-latency').replaceChildren(ms(a.latency_ms.p50), h('small', { text: '/ ' + ms(a.latency_ms.p95) }));
    $('kpi-tokens').textContent = num(a.totals.tokens);

    var range = Number($('range').value);
    var pts = a.series.slice(-Math.max(2, Math.round(range / a.bucket_ms)));
    var sec = a.bucket_ms / 1000;
    fill('chart-rate', chart(pts.map(function (p) { return { t: p.t, a: p.requests / sec, b: p.errors / sec }; }), { label: 'Requests per second over time', fmt: function (v, step) { return v.toFixed(decimals(step)); }, area: true, second: true }));
    fill('chart-cache', chart(pts.map(function (p) { return { t: p.t, a: p.cache_lookups ? p.cache_hits / p.cache_lookups : null, b: null }; }), { label: 'Cache hit rate over time', fmt: function (v) { return Math.round(v * 100) + '%'; }, max: 1 }));
    $('rate-note').textContent = a.last_hour.requests + ' requests in the last hour';
    $('cache-note').textContent = a.last_hour.cache_lookups + ' lookups in the last hour';

    bars(a.by_intent, 'by-intent');
    bars(a.by_rule, 'by-rule');
    bars(a.by_provider, 'by-provider');
    renderHealth(d.health);
    renderRecent(a.recent);
    renderCategories(d.categories);
    renderCache(d.cache);
    renderRules(d.rules);
    renderSpend(d.spend);
  }

  function showLogin(message) {
    clearTimeout(timer);
    $('main').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    setStatus('', 'Signed out');
    $('key-input').focus();
  }

  async function refresh() {
    clearTimeout(timer);
    var key = sessionStorage.getItem(STORE);
    if (!key) return showLogin('');
    try {
      var res = await fetch(dataUrl, { headers: { 'x-admin-key': key, accept: 'application/json' }, cache: 'no-store' });
      if (res.status === 401 || res.status === 403) { sessionStorage.removeItem(STORE); return showLogin('That admin key was not accepted.'); }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      var d = await res.json();
      $('login').hidden = true;
      $('main').hidden = false;
      render(d);
      setStatus('live', 'Updated ' + time(d.generated_at));
    } catch (err) {
      setStatus('err', 'Update failed (' + (err && err.message ? err.message : 'network') + '); retrying');
    }
    if (!paused) timer = setTimeout(refresh, REFRESH_MS);
  }

  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    sessionStorage.setItem(STORE, $('key-input').value);
    $('key-input').value = '';
    refresh();
  });
  $('signout').addEventListener('click', function () { sessionStorage.removeItem(STORE); showLogin(''); });
  $('pause').addEventListener('click', function () {
    paused = !paused;
    this.setAttribute('aria-pressed', String(paused));
    this.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) refresh(); else { clearTimeout(timer); setStatus('', 'Paused'); }
  });
  $('range').addEventListener('change', function () { if (last) render(last); });
  document.addEventListener('visibilitychange', function () { if (!document.hidden && !paused) refresh(); });

  takeKeyFromUrl();
  refresh();
})();
`;

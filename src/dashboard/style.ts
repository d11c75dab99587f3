/** The dashboard's stylesheet (served inline, allowed by its hash in the page's Content-Security-Policy). */
export const STYLE = String.raw`
:root {
  --bg: #f5f6f8; --panel: #ffffff; --ink: #1b1f24; --muted: #57606a; --line: #d8dee4; --accent: #0b5cad;
  --ok: #1a7f37; --ok-bg: #dafbe1; --warn: #8a5a00; --warn-bg: #fff4d4; --bad: #b42318; --bad-bg: #ffe4e1;
  --info: #0b5cad; --info-bg: #ddeeff; --chart: #0b5cad; --chart-fill: rgba(11, 92, 173, .14); --chart-2: #b42318;
  --radius: 10px; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1419; --panel: #171d24; --ink: #e6edf3; --muted: #9da7b3; --line: #2d3640; --accent: #6cb6ff;
    --ok: #56d364; --ok-bg: #12301c; --warn: #e3b341; --warn-bg: #33290b; --bad: #ff7b72; --bad-bg: #3d1512;
    --info: #6cb6ff; --info-bg: #112a45; --chart: #6cb6ff; --chart-fill: rgba(108, 182, 255, .16); --chart-2: #ff7b72;
  }
}
* { box-sizing: border-box; }
html { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
body { margin: 0; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--panel); padding: .5rem; z-index: 2; }
header.top { display: flex; align-items: center; gap: 1rem; flex-wrap: wrap; padding: .9rem 1.5rem; background: var(--panel);
  border-bottom: 1px solid var(--line); }
header.top h1 { font-size: 1.2rem; margin: 0; letter-spacing: .01em; }
header.top h1 span { color: var(--muted); font-weight: 400; }
.grow { flex: 1; }
.status { font-size: .85rem; color: var(--muted); display: flex; align-items: center; gap: .45rem; }
.dot { width: .6rem; height: .6rem; border-radius: 50%; background: var(--muted); display: inline-block; }
.dot.live { background: var(--ok); } .dot.err { background: var(--bad); }
button, select, input { font: inherit; color: inherit; }
button, select { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .3rem .7rem; cursor: pointer; }
button:hover, select:hover { border-color: var(--accent); }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
main { padding: 1.25rem 1.5rem 3rem; max-width: 1500px; margin: 0 auto; display: grid; gap: 1.25rem; }
section.panel { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 1rem 1.15rem; min-width: 0; }
section.panel > h2 { font-size: 1rem; margin: 0 0 .75rem; display: flex; align-items: baseline; gap: .6rem; }
section.panel > h2 small { color: var(--muted); font-weight: 400; font-size: .82rem; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(165px, 100%), 1fr)); gap: .9rem; }
.kpi { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: .8rem 1rem; }
.kpi dt { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; }
.kpi dd { margin: .15rem 0 0; font-size: 1.65rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.kpi dd small { font-size: .8rem; color: var(--muted); font-weight: 400; margin-left: .3rem; }
.row2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(420px, 100%), 1fr)); gap: 1.25rem; }
.row3 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(300px, 100%), 1fr)); gap: 1.25rem; }
figure.chart { margin: 0; }
figure.chart svg { width: 100%; height: 170px; display: block; }
figure.chart figcaption { color: var(--muted); font-size: .8rem; margin-top: .35rem; display: flex; gap: 1rem; flex-wrap: wrap; }
.swatch { display: inline-block; width: .8rem; height: .25rem; border-radius: 2px; vertical-align: middle; margin-right: .3rem; background: var(--chart); }
.swatch.b { background: var(--chart-2); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis { fill: var(--muted); font-size: 10px; }
svg .area { fill: var(--chart-fill); stroke: none; }
svg .line { fill: none; stroke: var(--chart); stroke-width: 1.8; stroke-linejoin: round; }
svg .dot-a { fill: var(--chart); stroke: var(--panel); stroke-width: 1.5; }
figure.chart svg.hbars { height: auto; }
svg .bar { fill: var(--chart); } svg .bar.neg { fill: var(--chart-2); }
svg .zero { stroke: var(--muted); }
svg .line2 { fill: none; stroke: var(--chart-2); stroke-width: 1.5; stroke-dasharray: 3 2; }
ol.bars { list-style: none; margin: 0; padding: 0; display: grid; gap: .45rem; }
ol.bars li { display: grid; grid-template-columns: minmax(90px, 40%) 1fr auto; gap: .6rem; align-items: center; font-size: .88rem; }
ol.bars .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
ol.bars .track { display: block; background: var(--bg); border-radius: 4px; height: .7rem; overflow: hidden; }
ol.bars .fill { display: block; background: var(--chart); height: 100%; border-radius: 4px; }
ol.bars .n { font-variant-numeric: tabular-nums; color: var(--muted); min-width: 3ch; text-align: right; }
.empty { color: var(--muted); font-size: .9rem; margin: .3rem 0; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .87rem; }
caption { text-align: left; color: var(--muted); font-size: .8rem; padding-bottom: .4rem; }
th, td { text-align: left; padding: .42rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .78rem; text-transform: uppercase; letter-spacing: .03em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num, th.num, td.time, td .badge { white-space: nowrap; }
/* Tables wrap rather than scroll sideways: text at spaces, model ids and targets anywhere. */
td.id { overflow-wrap: anywhere; }
td.wrap { min-width: 9rem; }
tr.key td:first-child { padding-left: 1.6rem; color: var(--muted); }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .78rem; font-weight: 600; }
.badge.ok { color: var(--ok); background: var(--ok-bg); } .badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.bad { color: var(--bad); background: var(--bad-bg); } .badge.info { color: var(--info); background: var(--info-bg); }
.badge.plain { color: var(--muted); background: var(--bg); }
.mono { font-family: var(--mono); font-size: .82rem; }
.muted { color: var(--muted); }
button.expand { padding: 0 .4rem; line-height: 1.3; min-width: 1.7rem; }
tr.detail td { background: var(--bg); white-space: normal; }
tr.detail pre { margin: .3rem 0 0; font-family: var(--mono); font-size: .78rem; white-space: pre-wrap; word-break: break-word; max-height: 22rem; overflow: auto; }
tr.detail h3 { font-size: .8rem; margin: .2rem 0; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
dl.kv { display: grid; grid-template-columns: auto 1fr; gap: .25rem 1rem; margin: 0; font-size: .88rem; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; font-variant-numeric: tabular-nums; }
form.login { max-width: 26rem; margin: 4rem auto; background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 1.5rem; display: grid; gap: .8rem; }
form.login input { padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); }
form.login p { margin: 0; color: var(--muted); font-size: .9rem; }
.banner { margin: 0; padding: .6rem .9rem; border-radius: var(--radius); background: var(--warn-bg); color: var(--warn); border: 1px solid var(--line); }
.error-text { color: var(--bad); }
[hidden] { display: none !important; }
`;

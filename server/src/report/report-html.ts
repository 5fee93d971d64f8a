import type { TimelineEntry } from '@lockstep/shared';
import type { ReportSummary } from './mission-report.ts';
import type { GapPoint } from './figures.ts';

const html = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

const clock = (at: number | undefined) => (at === undefined ? '—' : `${new Date(at).toISOString().slice(11, 19)}`);
const secs = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
const signedSecs = (ms: number | undefined) => (ms === undefined ? '—' : `${ms > 0 ? '+' : ''}${(ms / 1000).toFixed(0)} s`);

const CHART = { width: 900, height: 280, left: 56, right: 40, top: 16, bottom: 36 };

/** The chart of every response gap over the mission, threshold drawn: plain SVG, nothing to run. */
function gapChart(points: readonly GapPoint[], thresholdMs: number, from: number, until: number): string {
  const { width, height, left, right, top, bottom } = CHART;
  const span = Math.max(1, until - from);
  const ceiling = Math.max(thresholdMs * 1.5, ...points.map((p) => p.gapMs)) * 1.05;
  const x = (at: number) => (left + ((at - from) / span) * (width - left - right)).toFixed(1);
  const y = (ms: number) => (height - bottom - (ms / ceiling) * (height - top - bottom)).toFixed(1);
  const yTicks = Array.from({ length: 5 }, (_, i) => (ceiling * i) / 4);
  const xTicks = Array.from({ length: 6 }, (_, i) => from + (span * i) / 5);
  const dots = points
    .map(
      (p) =>
        `<circle cx="${x(p.at)}" cy="${y(p.gapMs)}" r="3" class="${p.hesitation ? 'late' : 'ok'}"><title>${html(p.callsign)} ${secs(p.gapMs)} at ${clock(p.at)}</title></circle>`,
    )
    .join('');
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Response gaps over the mission">
<rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}" class="frame"/>
${yTicks.map((ms) => `<text x="${left - 6}" y="${y(ms)}" class="tick" text-anchor="end" dominant-baseline="middle">${secs(ms)}</text>`).join('')}
${xTicks.map((at) => `<text x="${x(at)}" y="${height - bottom + 16}" class="tick" text-anchor="middle">${clock(at)}</text>`).join('')}
<line x1="${left}" x2="${width - right}" y1="${y(thresholdMs)}" y2="${y(thresholdMs)}" class="threshold"/>
<text x="${width - right - 4}" y="${Number(y(thresholdMs)) - 4}" class="tick threshold-label" text-anchor="end">threshold ${secs(thresholdMs)}</text>
<g class="gaps">${dots}</g>
</svg>`;
}

const table = (head: readonly string[], rows: readonly (readonly string[])[]) =>
  `<table><thead><tr>${head.map((h) => `<th>${html(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td>${html(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;color:#111;margin:24px auto;max-width:960px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ccc}
.meta{color:#555}table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ccc;padding:3px 5px;text-align:right;white-space:nowrap;font-size:12px}th:first-child,td:first-child{text-align:left}
th{background:#f2f2f2}.chart{max-width:100%;height:auto}.frame{fill:none;stroke:#999}
.tick{font-size:11px;fill:#444}.threshold{stroke:#c00;stroke-dasharray:6 4;stroke-width:1.5}.threshold-label{fill:#c00}
.ok{fill:#1f5fbf}.late{fill:#c00}.late-row td{background:#fff1f1}ol.timeline{padding-left:0;list-style:none}
ol.timeline li{border-bottom:1px dotted #ddd;padding:2px 0}ol.timeline time{display:inline-block;width:6em;color:#555}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr,li{break-inside:avoid}}
`;

/**
 * `?format=html`: a printable page, readable with scripts off: chart, per-driver table, schedule
 * with drift, then the timeline, whose items come apart (`htmlTimelineItems`, `HTML_END`) so a
 * long mission's page is written a slice at a time.
 */
export function htmlUpToTimeline(report: ReportSummary, points: readonly GapPoint[], thresholdMs: number): string {
  const m = report.mission;
  const from = m.startedAt ?? points[0]?.at ?? m.createdAt;
  const until = m.endedAt ?? Math.max(from + 1, ...points.map((p) => p.at));
  const drivers = table(
    [
      'Driver',
      'Vehicle',
      'Cues',
      'Answered',
      'Ack',
      'Unable',
      'Say again',
      'Hesitations',
      'Undelivered',
      'Expired',
      'Replaced',
      'Lost',
      'Median',
      'p90',
      'Max',
    ],
    report.drivers.map((d) => [
      `${d.callsign}${d.replacedAt === undefined ? '' : ` (replaced ${clock(d.replacedAt)})`}`,
      d.vehicleId,
      String(d.cues),
      String(d.answered),
      String(d.ack),
      String(d.unable),
      String(d.sayAgain),
      String(d.hesitations),
      String(d.undelivered),
      String(d.expired),
      String(d.replaced),
      secs(d.lostMs),
      secs(d.gapMs?.median),
      secs(d.gapMs?.p90),
      secs(d.gapMs?.max),
    ]),
  );
  const schedule = report.schedule.length
    ? table(
        ['Leg', 'Planned', 'Actual', 'Drift', 'Hesitations', 'Lost'],
        report.schedule.map((l) => [
          l.leg,
          clock(l.plannedAt),
          clock(l.actualAt),
          signedSecs(l.driftMs),
          String(l.hesitations),
          secs(l.lostMs),
        ]),
      )
    : '<p>The plan had no schedule.</p>';
  const byType = Object.entries(report.triggers.byType)
    .map(([type, n]) => `${html(type)} ${n}`)
    .join(', ');
  const byKind = Object.entries(report.alerts.byKind)
    .map(([kind, n]) => `${html(kind)} ${n}`)
    .join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>After-action report — ${html(m.name)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body>
<h1>After-action report — ${html(m.name)}</h1>
<p class="meta">Mission ${html(m.id)} · ${html(m.status)} · started ${clock(m.startedAt)} · ended ${clock(m.endedAt)} (UTC)</p>
<p>${report.triggers.total} triggers${byType ? ` (${byType})` : ''}; ${report.alerts.total} alerts, ${report.alerts.open} still open${byKind ? ` (${byKind})` : ''}.</p>
<h2>Response gaps</h2>
${gapChart(points, thresholdMs, from, until)}
<p class="meta">Each dot is one answered cue, at the time it was issued; red ones are hesitations (over their threshold).</p>
<h2>Drivers</h2>
${drivers}
<h2>Schedule</h2>
${schedule}
<h2>Timeline</h2>
<ol class="timeline">`;
}

export const htmlTimelineItems = (entries: readonly TimelineEntry[]) =>
  entries.map((e) => `<li><time>${clock(e.at)}</time> ${html(e.text)}</li>`).join('');

export const HTML_END = `</ol>
</body></html>
`;

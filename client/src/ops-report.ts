import { h } from './dom.ts';
import { formatGap } from './format.ts';
import { type MissionReport, type RosterMission, describeError } from './ops-api.ts';
import { type MissionPage, type MissionTabView, vehicleOf } from './ops-roster.ts';
import { type ConsoleContext, busyButton, dateTime, sayError } from './ops-ui.ts';

/** The report tab of an ended mission (PROTOCOL.md §8): the figures, and the printable and CSV renditions. */

export async function reportTab(page: MissionPage): Promise<MissionTabView> {
  const m = page.mission;
  const element = await reportOf(page.ctx, m);
  return { element, render: () => undefined };
}

async function reportOf(ctx: ConsoleContext, m: RosterMission): Promise<HTMLElement> {
  if (m.status !== 'ended') return h('p', { class: 'muted' }, 'The report is ready once the mission has ended.');
  const report = await ctx.api.report(m.id);
  const downloads = h(
    'div',
    { class: 'actions' },
    busyButton('Printable report', { class: 'primary' }, () => openDownload(ctx, `/api/missions/${m.id}/report?format=html`, undefined)),
    busyButton('Per-driver table (CSV)', { class: 'secondary' }, () =>
      openDownload(ctx, `/api/missions/${m.id}/report?format=csv`, `report-${m.id}.csv`),
    ),
    busyButton('Mission log (CSV)', { class: 'secondary' }, () =>
      openDownload(ctx, `/api/missions/${m.id}/log?format=csv`, `log-${m.id}.csv`),
    ),
  );
  if (!report.ok) return h('div', { class: 'report' }, h('p', { class: 'error' }, `No report: ${describeError(report.error)}`), downloads);
  return h('div', { class: 'report' }, downloads, reportBody(m, report.value));
}

async function openDownload(ctx: ConsoleContext, path: string, filename: string | undefined) {
  const got = await ctx.api.download(path);
  if (!got.ok) return sayError(ctx, 'Not available', got.error);
  const url = URL.createObjectURL(got.value);
  const anchor = h('a', { href: url, target: '_blank', rel: 'noopener', ...(filename ? { download: filename } : {}) });
  anchor.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const seconds = (ms: number | undefined) => (ms === undefined ? '—' : formatGap(ms));

function reportBody(m: RosterMission, report: MissionReport): HTMLElement {
  const figure = (label: string, value: string | number) => h('div', { class: 'figure' }, h('b', {}, value), h('span', {}, label));
  return h(
    'div',
    {},
    h(
      'div',
      { class: 'figures' },
      figure('triggers', report.triggers.total),
      figure(
        'hesitations',
        report.drivers.reduce((n, d) => n + d.hesitations, 0),
      ),
      figure('seconds lost to hesitation', (report.drivers.reduce((n, d) => n + d.lostMs, 0) / 1000).toFixed(1)),
      figure('alerts', report.alerts.total),
      figure('alerts still open', report.alerts.open),
    ),
    h('h2', {}, 'Drivers'),
    h(
      'table',
      { class: 'grid' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Driver', 'Vehicle', 'Cues', 'Answered', 'Hesitations', 'Undelivered', 'Expired', 'Lost', 'Median', 'p90', 'Max'].map((t) =>
            h('th', {}, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...report.drivers.map((d) =>
          h(
            'tr',
            {},
            h('td', { class: 'name' }, d.callsign, d.replacedAt ? h('span', { class: 'muted' }, ' (replaced)') : null),
            h('td', {}, vehicleOf(m, d.vehicleId)),
            ...[d.cues, d.answered, d.hesitations, d.undelivered, d.expired].map((n) => h('td', { class: 'num' }, n)),
            ...[d.lostMs, d.gapMs?.median, d.gapMs?.p90, d.gapMs?.max].map((ms) => h('td', { class: 'num' }, seconds(ms))),
          ),
        ),
      ),
    ),
    report.schedule.length
      ? h(
          'div',
          {},
          h('h2', {}, 'Schedule'),
          h(
            'table',
            { class: 'grid' },
            h('thead', {}, h('tr', {}, ...['Leg', 'Planned', 'Actual', 'Drift', 'Hesitations', 'Lost'].map((t) => h('th', {}, t)))),
            h(
              'tbody',
              {},
              ...report.schedule.map((s) =>
                h(
                  'tr',
                  {},
                  h('td', { class: 'name' }, s.leg),
                  h('td', {}, dateTime(s.plannedAt)),
                  h('td', {}, dateTime(s.actualAt)),
                  h('td', { class: 'num' }, seconds(s.driftMs)),
                  h('td', { class: 'num' }, s.hesitations),
                  h('td', { class: 'num' }, seconds(s.lostMs)),
                ),
              ),
            ),
          ),
        )
      : null,
    h('h2', {}, 'Timeline'),
    h(
      'ol',
      { class: 'timeline' },
      ...report.timeline.map((t) =>
        h('li', {}, h('span', { class: 'muted' }, new Date(t.at).toLocaleTimeString('en-GB', { hour12: false })), ` ${t.text}`),
      ),
    ),
  );
}

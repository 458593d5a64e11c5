import { h, table } from '../../dom.js';
import { num, time } from '../../format.js';
import type { Alarms } from './monitoring-types.js';

const openLine = (label: string, open: Alarms['open']) =>
  open.length ? h('p', { class: 'notice' }, `${label}: ${open.map((o) => `${o.metric} since ${time(o.opened_at)}`).join('; ')}.`) : h('p', {}, `No ${label.toLowerCase()} is open.`);

/** Open alarms (the model's, then the service's) and the history of openings and clearings. */
export function alarmsView(a: Alarms) {
  return [
    h('h2', {}, 'Alarms'),
    openLine('Model alarm', a.open),
    openLine('Service alarm', a.service.open),
    a.history.length
      ? table('Alarm history (newest first)', ['When', 'Metric', 'Kind', 'Event', 'Status', 'Score', 'p-value'], a.history.slice(0, 50).map((e) => [time(e.at), e.metric, e.kind, e.action, e.status, num(e.score), num(e.p_value, 4)]), { 'data-role': 'alarm-history' })
      : h('p', { class: 'muted' }, 'No alarm has opened or cleared yet.'),
  ];
}

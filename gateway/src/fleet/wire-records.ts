// Journal rows → the wire protocol's telemetry records. Firmware qualities map onto the fleet's
// three (suspect and stale are "uncertain"); text readings and status counters travel as events.
import type { EventRecord, ReadingRecord } from '@brana/protocol';
import type { UploadRow } from '../journal/index.ts';

export function toWire(rows: UploadRow[]): { readings: ReadingRecord[]; events: EventRecord[] } {
  const readings: ReadingRecord[] = [];
  const events: EventRecord[] = [];
  for (const row of rows) {
    const key = { bootEpoch: row.uploadEpoch, seq: row.uploadSeq, ts: Math.max(0, Math.round(row.atMs)) };
    const b = row.body;
    const origin = { source: row.source, sourceBootEpoch: row.sourceBootEpoch, sourceSeq: row.sourceSeq };
    if (b.kind === 'reading') {
      if (typeof b.value === 'string') {
        events.push({
          ...key,
          kind: 'reading.text',
          severity: 'info',
          data: { channel: b.channel, value: b.value, ...origin },
        });
        continue;
      }
      const value = typeof b.value === 'number' && Number.isFinite(b.value) ? b.value : null;
      readings.push({
        ...key,
        channel: b.channel,
        value,
        quality: b.quality === 'good' || b.quality === 'bad' ? b.quality : 'uncertain',
        ...(b.unit === undefined ? {} : { unit: b.unit }),
        ...(b.channelKind === undefined ? {} : { kind: b.channelKind }),
      });
    } else if (b.kind === 'event') {
      events.push({
        ...key,
        kind: b.type,
        severity: b.severity ?? (b.safety || b.type === 'fault' ? 'warning' : 'info'),
        data: { ...b.data, safety: b.safety, ...origin },
      });
    } else {
      events.push({
        ...key,
        kind: `status.${row.source}`,
        severity: 'info',
        data: { counters: b.counters, ...origin },
      });
    }
  }
  return { readings, events };
}

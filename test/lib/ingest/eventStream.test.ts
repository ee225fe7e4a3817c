import { describe, expect, it } from 'vitest';
import { handleIngestBatch, type EventWriter, type IngestOutputs } from '../../../src/lib/ingest/handleIngestBatch.js';
import type { DeadLetter } from '../../../src/lib/ingest/types.js';

/**
 * The handler streams events to its outputs (EventWriter): each event is handed over as soon as its record is mapped,
 * nothing is delivered before the batch ends, dead letters are written first, and a batch that fails before its end
 * drops what it handed over instead of delivering part of it.
 */
const TENANT = '4bbb79f7-5724-4c9e-95f3-de075f6ec090';
const kv = (i: number) => ({ time: '2024-03-01T10:15:00Z', category: 'AuditEvent', operationName: 'SecretGet', tenantId: TENANT, correlationId: `c${i}`, callerIpAddress: '1.2.3.4' });

function recordingOutputs(failDeadLetters = false): { outputs: IngestOutputs; calls: string[] } {
  const calls: string[] = [];
  const writer: EventWriter = {
    write: (ev) => void calls.push(`write ${ev.metadata.original_event_uid ?? ev.metadata.correlation_uid}`),
    end: (batchId) => (calls.push(`end ${batchId}`), Promise.resolve()),
    abort: () => void calls.push('abort'),
  };
  return {
    calls,
    outputs: {
      openEvents: (info) => (calls.push(`open ${info.partitionId}-${info.firstSequenceNumber}`), writer),
      writeDeadLetters: (dls: DeadLetter[]) => {
        calls.push(`dead letters ${dls.length}`);
        return failDeadLetters ? Promise.reject(new Error('dead-letter store down')) : Promise.resolve();
      },
    },
  };
}

const bodies = [JSON.stringify({ records: [kv(1), kv(2)] }), 'not json', JSON.stringify({ records: [kv(3)] })];
const messages = [0, 1, 2].map((i) => ({ partitionId: '4', sequenceNumber: 10 + i }));

describe('event streaming from the batch handler', () => {
  it('hands over each event in record order, then writes dead letters, then ends the events under the batch id', async () => {
    const { outputs, calls } = recordingOutputs();
    const res = await handleIngestBatch({ bodies, messages, binding: { tenantId: TENANT }, ingestTime: 1, outputs });
    expect(res).toMatchObject({ records: 4, events: 3, deadLetters: 1, batchId: '4-10' });
    expect(calls).toEqual(['open 4-10', 'write c1', 'write c2', 'write c3', 'dead letters 1', 'end 4-10']);
  });

  it('drops the events it handed over when the dead-letter write fails, and never ends them', async () => {
    const { outputs, calls } = recordingOutputs(true);
    await expect(handleIngestBatch({ bodies, messages, binding: { tenantId: TENANT }, ingestTime: 1, outputs })).rejects.toThrow('dead-letter store down');
    expect(calls.at(-1)).toBe('abort');
    expect(calls.some((c) => c.startsWith('end'))).toBe(false);
  });

  it('does not end an event stream that got no event', async () => {
    const { outputs, calls } = recordingOutputs();
    await handleIngestBatch({ bodies: ['not json'], messages: [{ partitionId: '4', sequenceNumber: 9 }], binding: { tenantId: TENANT }, ingestTime: 1, outputs });
    expect(calls).toEqual(['open 4-9', 'dead letters 1', 'abort']);
  });
});

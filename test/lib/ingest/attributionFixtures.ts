import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { handleIngestBatch } from '../../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../../src/lib/ingest/outputs/memoryOutputs.js';

/** Tenant A's hub, A's and B's subscriptions (the MSP chain of issue #12), and records naming them. */
export const A = 'aaaaaaaa-0000-0000-0000-00000000000a';
export const A_SUB = 'aaaaaaaa-1111-0000-0000-00000000000a';
export const B_SUB = 'aaaaaaaa-2222-0000-0000-00000000000b';
export const vm = (sub: string) => `/subscriptions/${sub}/resourceGroups/app/providers/Microsoft.Compute/virtualMachines/vm1`;

// The Alerts REST example of azure-rest-api-specs (GetAlertSubscriptionLocation_example), as continuous export sends it.
const specAlert = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/defender-alert/azure-rest-api-specs__Alerts__GetAlertSubscriptionLocation_example.body.json', import.meta.url)), 'utf8'),
) as { id: string; properties: Record<string, unknown> & { resourceIdentifiers: Record<string, unknown>[] } };
const SPEC_SUB = '20ff7fc3-e762-44dd-bd96-b71116dcdc23';

/** The spec alert moved into subscription `sub`, with `edit` applied to its properties. */
export function restAlert(sub: string, edit: (p: Record<string, unknown> & { resourceIdentifiers: Record<string, unknown>[] }) => void = () => undefined) {
  const a = JSON.parse(JSON.stringify(specAlert).replaceAll(SPEC_SUB, sub)) as typeof specAlert;
  edit(a.properties);
  return a;
}

/** One body of `records` through the real batch handler on A's hub, with `known` as A's known subscriptions. */
export async function ingest(records: unknown[], known: string[] | undefined) {
  const outputs = createMemoryOutputs();
  const res = await handleIngestBatch({ bodies: [{ records }], binding: { tenantId: A, hub: 'h' }, subscriptionIds: known, ingestTime: 0, outputs });
  return { res, outputs, events: outputs.batches.flatMap((b) => b.events) };
}

export const accountOf = (ev: Record<string, unknown>) => (ev.cloud as { account?: { uid?: string } }).account?.uid;

import { parentPort, workerData } from 'node:worker_threads';
import { startArmSimulator } from '../../sim/armSimulator.js';
import { activityLogRecord } from '../../sim/activityLogRecords.js';
import { createStorageAccountAs } from '../../sim/customerActions.js';
import type { Scenario } from '../../sim/scenario.js';

/**
 * The ARM simulator on its own thread for the reconcile bench: its per-request work (Resource Graph rows, activity-log
 * pages, JSON) is Azure's side of the wire and must not share the reconciler's event loop, which the bound assumes
 * is spent only waiting on latency and throttling. Commands arrive as messages; each gets one reply.
 */
type Command =
  | { op: 'setLatency'; ms: number }
  | { op: 'clearRequests' }
  | { op: 'requests' }
  | { op: 'stop' }
  /** The event-driven bench: accounts created by a customer principal, answered with each one's activity-log record (Event Hub form). */
  | { op: 'createStorageAccounts'; principal: string; accounts: { subscriptionId: string; name: string; resourceGroup: string; location: string }[] }
  /** Successful diagnostic-setting PUTs recorded from index `from` on (and the index to ask from next time). */
  | { op: 'settingPuts'; from: number };

const { scenario } = workerData as { scenario: Scenario };
const port = parentPort!;
const sim = await startArmSimulator({ scenario, latencyMs: 0, throttle: true });
port.postMessage({ ready: true, url: sim.url, ca: sim.ca });
port.on('message', async (c: Command) => {
  if (c.op === 'setLatency') sim.setLatency(c.ms);
  else if (c.op === 'clearRequests') sim.clearRequests();
  else if (c.op === 'createStorageAccounts') {
    const created = c.accounts.map((a) => {
      const res = createStorageAccountAs(sim, c.principal, a.subscriptionId, a);
      const event = sim.state.activityOfSubscription(a.subscriptionId).at(-1)!;
      return { subscriptionId: a.subscriptionId, id: res.id, record: activityLogRecord(sim.state, event) };
    });
    return port.postMessage({ created });
  } else if (c.op === 'settingPuts') {
    const puts = sim.requests
      .slice(c.from)
      .filter((r) => r.method === 'PUT' && r.status === 200 && /\/providers\/Microsoft\.Insights\/diagnosticSettings\/[^/]+$/i.test(r.path))
      .map((r) => ({ path: r.path, at: r.at, principal: r.principal }));
    // A request still in flight has no status yet: ask again from the first of those (callers keep the first time per path).
    const inFlight = sim.requests.findIndex((r, i) => i >= c.from && r.status === 0);
    return port.postMessage({ puts, next: inFlight >= 0 ? inFlight : sim.requests.length });
  } else if (c.op === 'requests') {
    // Only what the bench's statistics read (bodies stay behind).
    return port.postMessage({ requests: sim.requests.map(({ method, path, kind, status, faulted, principal, at, apiVersion }) => ({ method, path, kind, status, faulted, principal, at, apiVersion })) });
  } else if (c.op === 'stop') {
    await sim.stop();
    port.postMessage({ stopped: true });
    return port.close();
  }
  port.postMessage({ ok: true });
});

import { parentPort, workerData } from 'node:worker_threads';
import { startArmSimulator } from '../../sim/armSimulator.js';
import type { Scenario } from '../../sim/scenario.js';

/**
 * The ARM simulator on its own thread for the reconcile bench: its per-request work (Resource Graph rows, activity-log
 * pages, JSON) is Azure's side of the wire and must not share the reconciler's event loop, which the bound assumes
 * is spent only waiting on latency and throttling. Commands arrive as messages; each gets one reply.
 */
type Command = { op: 'setLatency'; ms: number } | { op: 'clearRequests' } | { op: 'requests' } | { op: 'stop' };

const { scenario } = workerData as { scenario: Scenario };
const port = parentPort!;
const sim = await startArmSimulator({ scenario, latencyMs: 0, throttle: true });
port.postMessage({ ready: true, url: sim.url, ca: sim.ca });
port.on('message', async (c: Command) => {
  if (c.op === 'setLatency') sim.setLatency(c.ms);
  else if (c.op === 'clearRequests') sim.clearRequests();
  else if (c.op === 'requests') {
    // Only what the bench's statistics read (bodies stay behind).
    return port.postMessage({ requests: sim.requests.map(({ method, path, kind, status, faulted, principal, at, apiVersion }) => ({ method, path, kind, status, faulted, principal, at, apiVersion })) });
  } else if (c.op === 'stop') {
    await sim.stop();
    port.postMessage({ stopped: true });
    return port.close();
  }
  port.postMessage({ ok: true });
});

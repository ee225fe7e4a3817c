// TEST-ONLY stand-in for the Functions host driving the BUILT app's Event Hub trigger, the way the host and the
// Node worker do. Run: node --require ./test/support/fakeFunctionsCore.cjs ./test/support/hostInvocation.mjs plan.json
// (the parent test starts Azurite and reads what the app wrote there). It prints one JSON object on stdout.
//
// What it reproduces, and from where:
// - The invocation goes through @azure/functions' own ProgrammingModel → InvocationModel.getArguments() /
//   invokeFunction() / getResponse(), so the library's converters run (fromRpcTypedData, fromRpcTriggerMetadata
//   with its camelCasing): node_modules/@azure/functions/src/InvocationModel.ts.
// - Trigger data: with `dataType: 'binary'` and cardinality many the host binds byte[][] (azure-functions-host
//   src/WebJobs.Script/Binding/GeneralScriptBindingProvider.cs GetRequestedType) and sends it as RPC
//   `collectionBytes`, skipping only null entries; without a dataType it sends string[] as `collectionString`,
//   skipping empty strings unless the worker declares IncludeEmptyEntriesInMessagePayload, which the Node worker
//   does not (host src/WebJobs.Script.Grpc/MessageExtensions/GrpcMessageConversionExtensions.cs ToRpc /
//   ToRpcStringArray; azure-functions-nodejs-worker src/eventHandlers/getWorkerCapabilities.ts).
// - Trigger metadata: the keys and .NET types of the Event Hubs extension (azure-sdk-for-net
//   Microsoft.Azure.WebJobs.Extensions.EventHubs EventHubTriggerBindingStrategy.AddBindingData), converted by the same
//   ToRpc: long[] → collectionSint64, string[] → collectionString (empties dropped), DateTime[] and dictionaries →
//   json via Newtonsoft (a DateTime of Kind Unspecified has no zone: "2023-03-13T01:25:02.25").
//   int64 values arrive from the worker's protobuf decoding as Long objects (plan.sequenceAsLong).
// - Retries: the function's registered retryOptions. The host re-runs a failed execution until it succeeds or
//   maxRetryCount retries are spent (-1: indefinitely), and writes the Event Hubs checkpoint only after the retry
//   policy completes, success or not (MicrosoftDocs azure-functions/functions-bindings-error-pages.md "Retry
//   policies"; functions-reliable-event-processing.md: "the pointer advances ... with or without exception").
// - An output outage: blob storage answers 403 AuthorizationFailure (what a storage firewall that blocks the app
//   answers; not retried by the SDK, so an outage costs no SDK backoff) while the plan says so.
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const root = process.cwd();

// ---- blob storage behind a switch
let failing = false;
let deniedRequests = 0;
const upstream = new URL(plan.blobUpstream);
const proxy = http.createServer((req, res) => {
  if (failing) {
    deniedRequests++;
    req.resume();
    const body = '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationFailure</Code><Message>This request is not authorized to perform this operation.</Message></Error>';
    res.writeHead(403, { 'content-type': 'application/xml', 'x-ms-error-code': 'AuthorizationFailure', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  out.on('error', (e) => {
    res.writeHead(502);
    res.end(String(e));
  });
  req.pipe(out);
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const proxyUrl = `http://127.0.0.1:${proxy.address().port}${upstream.pathname.replace(/\/+$/, '')}`;

// ---- the app's settings, then the app loaded as the worker loads it (every file matching package.json "main")
Object.assign(process.env, plan.env, { AzureWebJobsStorage: plan.env.AzureWebJobsStorage.replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${proxyUrl}`) });
const main = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).main;
const dir = path.join(root, /^(.*)\/\*\.js$/.exec(main)[1]);
for (const f of readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) await import(pathToFileURL(path.join(dir, f)).href);

const core = globalThis.__fakeFunctionsCore;
const reg = core.registrations.find((r) => r.metadata.name === plan.functionName);
if (!reg) throw new Error(`function ${plan.functionName} was not registered (got ${core.registrations.map((r) => r.metadata.name).join(', ')})`);
const [triggerName, triggerBinding] = Object.entries(reg.metadata.bindings).find(([, b]) => b.direction === 'in');
const maxRetryCount = reg.metadata.retryOptions?.maxRetryCount ?? 0;

class Long {
  constructor(low, high, unsigned) {
    this.low = low;
    this.high = high;
    this.unsigned = unsigned;
  }
}
const toLong = (n) => new Long(n % 2 ** 32 | 0, Math.floor(n / 2 ** 32), false);
const json = (v) => ({ json: JSON.stringify(v) });
const strings = (a) => ({ collectionString: { string: a.filter((s) => s !== null && s !== undefined && s !== '') } });
const utf8 = new TextDecoder('utf-8');

function triggerData(events) {
  const bodies = events.map((e) => Buffer.from(e.bodyBase64, 'base64'));
  if (triggerBinding.dataType === 'binary') return { collectionBytes: { bytes: bodies.map((b) => new Uint8Array(b)) } };
  return strings(bodies.map((b) => utf8.decode(b)));
}

function triggerMetadata(d) {
  const pc = { FullyQualifiedNamespace: plan.fullyQualifiedNamespace, EventHubName: triggerBinding.eventHubName, ConsumerGroup: triggerBinding.consumerGroup, PartitionId: d.partitionId };
  const ev = d.events;
  return {
    TriggerPartitionContext: json(pc),
    PartitionContext: json(pc),
    PartitionKeyArray: strings(ev.map((e) => e.partitionKey ?? null)),
    OffsetArray: strings(ev.map((e) => e.offset)),
    SequenceNumberArray: { collectionSint64: { sint64: ev.map((e) => (plan.sequenceAsLong ? toLong(e.sequenceNumber) : e.sequenceNumber)) } },
    EnqueuedTimeUtcArray: json(ev.map((e) => e.enqueuedTimeUtc)),
    PropertiesArray: json(ev.map((e) => e.properties ?? {})),
    SystemPropertiesArray: json(
      ev.map((e) => ({ 'x-opt-sequence-number': e.sequenceNumber, 'x-opt-offset': e.offset, 'x-opt-enqueued-time': `${e.enqueuedTimeUtc}Z`, SequenceNumber: e.sequenceNumber, Offset: e.offset, PartitionKey: e.partitionKey ?? null, EnqueuedTimeUtc: e.enqueuedTimeUtc })),
    ),
  };
}

const logs = [];
let invocations = 0;
async function invoke(d, retryCount) {
  const coreCtx = {
    invocationId: `inv-${++invocations}`,
    metadata: reg.metadata,
    request: { inputData: [{ name: triggerName, data: triggerData(d.events) }], triggerMetadata: triggerMetadata(d), retryContext: { retryCount, maxRetryCount } },
    log: (level, category, message) => logs.push({ level, category, message }),
  };
  const model = core.model.getInvocationModel(coreCtx);
  const { context, inputs } = await model.getArguments();
  const result = await model.invokeFunction(context, inputs, reg.callback);
  await model.getResponse(context, result);
}

const MAX_ATTEMPTS = plan.maxAttempts ?? 40;
const deliveries = [];
let attemptNo = 0;
for (const d of plan.deliveries) {
  let retryCount = 0;
  const errors = [];
  let outcome;
  for (;;) {
    failing = attemptNo++ < (plan.outageAttempts ?? 0);
    try {
      await invoke(d, retryCount);
      outcome = 'succeeded';
      break;
    } catch (e) {
      errors.push(String(e?.message ?? e).slice(0, 200));
      if (maxRetryCount !== -1 && retryCount >= maxRetryCount) {
        outcome = 'checkpointed-after-last-retry';
        break;
      }
      if (errors.length >= MAX_ATTEMPTS) {
        outcome = 'still-retrying';
        break;
      }
      retryCount++;
    }
  }
  deliveries.push({ partitionId: d.partitionId, attempts: errors.length + (outcome === 'succeeded' ? 1 : 0), outcome, errors: errors.slice(0, 3) });
}
failing = false;
proxy.close();
process.stdout.write(JSON.stringify({ trigger: triggerBinding, retryOptions: reg.metadata.retryOptions, deliveries, deniedRequests, logs: logs.filter((l) => l.category === 'user').map((l) => l.message) }));
process.exit(0);

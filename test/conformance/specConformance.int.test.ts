import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../sim/armSimulator.js';
import { checkExchange, type ExchangeProblems } from './checkExchange.js';
import { representativeRun, type RunRecording } from './representativeRun.js';
import { loadSpecs, SpecIndex } from './specIndex.js';

/**
 * The ARM simulator and the app's requests checked against Microsoft's REST API specifications, not against each
 * other: test/fixtures/specs holds excerpts of Azure/azure-rest-api-specs (repo path and commit in each file) for
 * every operation the app calls, at the api-version its SDK sends. One representative run (onboarding, the timer's
 * subscription listing, reconciles with the change feed, every alert state, offboarding) is recorded through the
 * simulator and every exchange validated; probes draw each resource provider's error answer.
 */
const specs = loadSpecs(join(import.meta.dirname, '..', 'fixtures', 'specs'));
const index = new SpecIndex(specs);
let run: RunRecording;
let appChecks: { rec: RecordedRequest; problems: ExchangeProblems }[];
let probeChecks: { rec: RecordedRequest; problems: ExchangeProblems }[];

beforeAll(async () => {
  run = await representativeRun();
  if (process.env.CONFORMANCE_DUMP) (await import('node:fs')).writeFileSync(process.env.CONFORMANCE_DUMP, JSON.stringify(run, null, 1));
  const ctx = { nextLinks: new Set<string>() };
  appChecks = run.app.map((rec) => ({ rec, problems: checkExchange(index, rec, ctx) }));
  probeChecks = run.probes.map((rec) => ({ rec, problems: checkExchange(index, rec, ctx) }));
}, 120_000);

const operationOf = (rec: RecordedRequest) => index.find(rec.method, rec.path, rec.apiVersion)?.op.operationId;

describe('spec excerpts (test/fixtures/specs)', () => {
  it('name the repository, path and commit they were copied from, and resolve every $ref', () => {
    for (const doc of specs) {
      expect(doc.source.repo, doc.source.path).toBe('Azure/azure-rest-api-specs');
      expect(doc.source.commit, doc.source.path).toMatch(/^[0-9a-f]{40}$/);
      expect(doc.source.path).toMatch(/^specification\/.+\.json$/);
    }
    // Compiling every operation's schemas in both directions resolves all their references.
    for (const op of index.operations) {
      for (const p of op.parameters) if (p.node.in === 'body') expect(() => index.validate(p.doc, p.node.schema as Record<string, unknown>, 'request', {})).not.toThrow();
      for (const r of Object.values(op.node.responses as Record<string, { schema?: Record<string, unknown> }>))
        if (r.schema) expect(() => index.validate(op.doc, r.schema!, 'response', {})).not.toThrow();
    }
  });
});

describe('the app against the specs, over a representative run through the simulator', () => {
  it('sends only operations the excerpts define, at their api-version, with path, query and body the spec allows', () => {
    expect(run.app.length).toBeGreaterThan(50);
    expect(appChecks.flatMap((c) => c.problems.request)).toEqual([]);
  });

  it('uses every operation of the excerpts (the excerpts are exactly what the app needs)', () => {
    const used = new Set([...run.app, ...run.probes].map(operationOf).filter((x): x is string => !!x));
    const excerptOps = index.operations.map((o) => `${o.operationId}@${o.doc.info.version}`);
    const usedOps = new Set([...run.app, ...run.probes].flatMap((r) => {
      const f = index.find(r.method, r.path, r.apiVersion);
      return f ? [`${f.op.operationId}@${f.op.doc.info.version}`] : [];
    }));
    expect(used.size).toBeGreaterThan(20);
    expect(excerptOps.filter((o) => !usedOps.has(o))).toEqual([]);
  });

  it('gets from the simulator only answers the spec declares: status code, body schema, no undeclared field, PUT echoing what was sent', () => {
    expect(appChecks.flatMap((c) => c.problems.response)).toEqual([]);
  });

  it('reads back every alert state it writes (the read uses an api-version whose status enum has them all)', () => {
    // Each of Dismissed, Resolved, Active, InProgress written, then read back by the next change, at both scopes.
    expect(run.alertReadBack.length).toBe(8);
    for (const r of run.alertReadBack) expect(r.readBack, `wrote ${r.wrote}`).toBe(r.wrote);
    const reads = run.app.filter((r) => r.method === 'GET' && /\/alerts\/[^/]+$/i.test(r.path));
    expect(new Set(reads.map((r) => r.apiVersion))).toEqual(new Set(['2022-01-01']));
  });
});

describe('the simulator error answers, per resource provider', () => {
  it('have the error body each API version documents (flat {code,message} for Insights 2021-05-01-preview and 2015-04-01, {error:{…}} elsewhere)', () => {
    const errors = probeChecks.filter((c) => c.rec.status >= 400);
    // Probes per provider API: diagnostic settings (subscription 404 and 400, resource 404), Event Hubs (2), data export, automations, alerts, Resource Graph, activity log, Lighthouse assignments (400 filter), web apps.
    expect(errors.length).toBe(12);
    expect(new Set(errors.map((c) => c.rec.response?.origin))).toEqual(new Set(['provider']));
    // (Their requests are wrong on purpose; only the answers are checked.)
    expect(probeChecks.flatMap((c) => c.problems.response)).toEqual([]);
    const flat = errors.filter((c) => /Microsoft\.Insights/i.test(c.rec.path)).map((c) => c.rec.response?.body as Record<string, unknown>);
    expect(flat.length).toBe(4);
    for (const b of flat) expect(Object.keys(b).sort()).toEqual(['code', 'message']);
  });

  it('answer an alert read at 2021-11-01 only with a status that version documents, even when the alert is InProgress', () => {
    const old = run.probes.filter((r) => r.method === 'GET' && r.apiVersion === '2021-11-01' && r.status === 200);
    expect(old.length).toBeGreaterThan(0);
    for (const r of old) expect(['Active', 'Resolved', 'Dismissed']).toContain((r.response?.body as { properties: { status: string } }).properties.status);
  });
});

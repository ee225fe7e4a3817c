import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bicepDeclarations, objectBody, objectEntries, skipBlock } from '../support/bicep.js';

// No Bicep compiler runs offline (test/support/bicep.ts), so the bodies monitoring.bicep sends are checked against
// Microsoft's REST specs for those resource types (test/fixtures/monitoring/monitoringSpecs.json): a misspelt or
// read-only property, a missing required one or a value outside an enum would otherwise only show at deployment.
const root = path.resolve(import.meta.dirname, '../..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');

interface Schema {
  type?: string;
  $ref?: string;
  enum?: (string | number)[];
  items?: Schema;
  readOnly?: boolean;
  maxLength?: number;
  required?: string[];
  properties?: Record<string, Schema>;
}
interface SpecResource {
  root: string;
  definitions: Record<string, Schema>;
}
const specs = (JSON.parse(read('test/fixtures/monitoring/monitoringSpecs.json')) as { resources: Record<string, SpecResource> }).resources;

/** The `{ … }` blocks at the top level of an array value (`[ {…} ]`, `[for x in y: {…}]`, `c ? [] : [ {…} ]`). */
function objectsIn(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === "'") {
      const end = value.indexOf("'", i + 1);
      i = end < 0 ? value.length : end;
    } else if (value[i] === '{') {
      const end = skipBlock(value, i);
      out.push(value.slice(i + 1, end - 1));
      i = end - 1;
    }
  }
  return out;
}

/** What is wrong with an object literal's body against a definition (nested literals included). */
function bodyProblems(where: string, body: string, def: Schema, spec: SpecResource, top = false): string[] {
  const problems: string[] = [];
  const entries = objectEntries(body);
  const props = def.properties ?? {};
  for (const req of def.required ?? []) if (!entries.has(req)) problems.push(`${where}: required ${req} missing`);
  for (const [key, raw] of entries) {
    if (top && key === 'name') continue; // the resource name, not a body property
    let p = props[key];
    if (!p) {
      problems.push(`${where}: ${key} is not a property of ${Object.keys(props).join(', ')}`);
      continue;
    }
    if (p.readOnly) problems.push(`${where}: ${key} is read-only`);
    const required = p.required;
    if (p.$ref) p = { ...spec.definitions[p.$ref]!, ...(required ? { required } : {}) };
    const literal = /^'([^'$]*)'$/.exec(raw)?.[1] ?? (/^\d+$/.test(raw) ? Number(raw) : undefined);
    if (p.enum && literal !== undefined && !p.enum.includes(literal)) problems.push(`${where}: ${key} = ${raw} is not one of ${p.enum.join(', ')}`);
    if (p.maxLength && typeof literal === 'string' && literal.length > p.maxLength) problems.push(`${where}: ${key} is longer than ${p.maxLength}`);
    if (p.properties && raw.startsWith('{')) problems.push(...bodyProblems(`${where}.${key}`, objectBody(raw)!, p, spec));
    const items = p.items?.$ref ? spec.definitions[p.items.$ref] : undefined;
    if (p.type === 'array' && items) for (const [i, o] of objectsIn(raw).entries()) problems.push(...bodyProblems(`${where}.${key}[${i}]`, o, items, spec));
  }
  return problems;
}

const monitoring = read('infra/modules/monitoring.bicep');
const declarations = bicepDeclarations(monitoring).filter((d) => d.kind === 'resource');
const rules = (JSON.parse(read('infra/modules/monitoring/alertRules.json')) as { rules: Record<string, unknown>[] }).rules;

describe('infra/modules/monitoring.bicep against the REST specs of what it deploys', () => {
  it('deploys an action group, the log alert rules and the workbook', () => {
    expect(declarations.map((d) => d.target).sort()).toEqual(Object.keys(specs).sort());
  });

  it.each(declarations.map((d) => [d.symbol, d] as const))('%s sends only documented, writable properties, with every required one', (_, d) => {
    const spec = specs[d.target]!;
    expect(bodyProblems(d.symbol, d.body, spec.definitions[spec.root]!, spec, true)).toEqual([]);
  });

  it('catches a misspelt property, a read-only one and a value outside an enum (the mistakes this test is for)', () => {
    const spec = specs['Microsoft.Insights/scheduledQueryRules@2023-12-01']!;
    const body = "location: 'x'\nkind: 'LogAlerts'\nproperties: {\n  enabled: true\n  scopes: []\n  criteria: {}\n  evaluationFrequncy: 'PT5M'\n  createdWithApiVersion: 'x'\n}";
    expect(bodyProblems('r', body, spec.definitions[spec.root]!, spec, true)).toEqual([
      'r: kind = \'LogAlerts\' is not one of LogAlert, LogToMetric',
      expect.stringMatching(/^r\.properties: evaluationFrequncy is not a property of/),
      'r.properties: createdWithApiVersion is read-only',
    ]);
  });

  it('alertRules.json gives each rule a unique name, a severity, ISO durations and dimensions in the spec\'s shape', () => {
    const spec = specs['Microsoft.Insights/scheduledQueryRules@2023-12-01']!;
    const severities = spec.definitions.ScheduledQueryRuleProperties!.properties!.severity!.enum!;
    const dim = spec.definitions.Dimension!;
    expect(new Set(rules.map((r) => r.name)).size).toBe(rules.length);
    for (const r of rules) {
      expect(String(r.name)).toMatch(/^[a-z][a-z-]+$/);
      expect(severities).toContain(r.severity);
      for (const k of ['evaluationFrequency', 'windowSize']) expect(String(r[k]), `${String(r.name)} ${k}`).toMatch(/^PT(\d+[HM])+$/);
      for (const d of r.dimensions as Record<string, unknown>[]) {
        expect(Object.keys(d).sort()).toEqual(Object.keys(dim.properties!).sort());
        expect(dim.properties!.operator!.enum).toContain(d.operator);
      }
    }
  });
});

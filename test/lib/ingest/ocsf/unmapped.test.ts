import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consumed, unmappedOf } from '../../../../src/lib/ingest/ocsf/common.js';
import type { OcsfEvent } from '../../../../src/lib/ingest/types.js';
import { runGolden } from '../../../support/ingestGolden.js';

const fixtures = join(import.meta.dirname, '../../../fixtures');
const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v ?? null)) as unknown;

async function eventsOf(path: string): Promise<OcsfEvent[]> {
  return (await runGolden(readFileSync(join(fixtures, path)))).events;
}

describe('unmappedOf', () => {
  const spec = consumed({ a: true, identity: { '': true, name: true }, props: { x: true, list: { id: true } } }, { props: { y: true } });

  it('keeps what the spec does not map, reduces partly mapped members, and drops null and empty strings', () => {
    const src = { a: 1, b: 2, n: null, e: '', identity: { name: 'u', aud: 'api' }, props: { x: 1, y: 2, z: 3, list: [{ id: 1, v: 'k' }, { id: 2 }, 'scalar'] } };
    expect(json(unmappedOf(src, spec))).toEqual({ b: 2, identity: { aud: 'api' }, props: { z: 3, list: [{ v: 'k' }, 'scalar'] } });
  });

  it('parses members held as JSON strings, maps a scalar where the spec allows it, and returns undefined when nothing is left', () => {
    expect(json(unmappedOf({ props: '{"x":1,"w":2}', identity: 'alice' }, spec))).toEqual({ props: { w: 2 } });
    expect(unmappedOf({ a: 1, identity: { name: 'u' }, props: { x: 1 } }, spec)).toBeUndefined();
    expect(unmappedOf('not json', spec)).toBeUndefined();
  });

  it('gives the same result whether it builds or clones (the spec switches after wide objects)', () => {
    const wide = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
    const s = consumed({ k0: true, k1: { keep: true } });
    const built = json(unmappedOf({ ...wide, k1: { keep: 1, drop: 2 } }, s));
    const cloned = json(unmappedOf({ ...wide, k1: { keep: 1, drop: 2 } }, s));
    expect(cloned).toEqual(built);
    expect(built).toMatchObject({ k1: { drop: 2 }, k19: 19 });
    expect(built).not.toHaveProperty('k0');
    expect(json(unmappedOf({ k0: 1, k1: { keep: 1 } }, s))).toBeNull();
  });
});

// `unmapped` holds the source attributes that were not mapped (OCSF), mirroring the record's structure; raw_data
// keeps the whole record. A mapped attribute must not be repeated there.
describe('unmapped in mapper output', () => {
  it('Key Vault: properties that are mapped (clientInfo, requestUri, id, httpStatusCode) are not repeated', async () => {
    const [ev] = await eventsOf('key-vault/msdocs-azure-security-docs__key-vault-general-logging.md__block0.json');
    expect(ev!.http_request).toMatchObject({ user_agent: 'azure-resource-manager/2.0' });
    expect(ev!.unmapped).toBeUndefined();
  });

  it('Activity Log: identity claims that are not mapped stay, mapped ones and properties.statusCode do not', async () => {
    const [ev] = await eventsOf('activity-log/otel-collector-contrib__administrative__valid_1.json');
    const claims = (ev!.unmapped as { identity: { claims: Record<string, unknown> } }).identity.claims;
    expect(claims).toHaveProperty('aud');
    expect(claims).toHaveProperty(['http://schemas.microsoft.com/claims/authnmethodsreferences']);
    expect(claims).not.toHaveProperty(['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn']);
    expect(claims).not.toHaveProperty(['http://schemas.microsoft.com/identity/claims/objectidentifier']);
    expect(json(ev!.unmapped)).not.toHaveProperty(['properties', 'statusCode']);
  });

  it('Activity Log notices (Base Event, no actor or resources): the caller and the resource id stay unmapped', async () => {
    const [ev] = await eventsOf('activity-log/otel-collector-contrib__recommendation__valid_1.json');
    expect(ev!.class_uid).toBe(0);
    expect(json(ev!.unmapped)).toMatchObject({ resourceId: expect.any(String), callerIpAddress: '0.0.0.0', identity: expect.any(Object) });
  });

  it('sign-ins: fields of the other kind and unread fields stay, mapped ones do not', async () => {
    const [sp] = await eventsOf('sign-in/elastic-integrations__test-service-principal-signinlogs-sample.log');
    expect(sp!.user).toMatchObject({ credential_uid: expect.any(String) });
    const props = (json(sp!.unmapped) as { properties: Record<string, unknown> }).properties;
    expect(props).not.toHaveProperty('servicePrincipalCredentialKeyId');
    expect(props).not.toHaveProperty('servicePrincipalId');
    expect(props).toHaveProperty('riskState');
    const [adfs] = await eventsOf('sign-in/elastic-integrations__test-adfs-signin.log');
    const adfsProps = (json(adfs!.unmapped) as { properties: Record<string, unknown> }).properties;
    expect(adfsProps).toMatchObject({ userType: 'Member', authenticationProtocol: 'none' });
    expect(adfsProps).not.toHaveProperty('userPrincipalName');
    expect(adfsProps.authenticationDetails).toEqual([expect.not.objectContaining({ authenticationMethod: expect.anything() })]);
  });

  it('Entra audit: the mapped target loses only its mapped members; its modified properties stay', async () => {
    const events = await eventsOf('entra-audit/datadog-integrations-core__azure.activedirectory_tests.yaml');
    const del = events.find((e) => e.class_uid === 3001)!;
    const target = (json(del.unmapped) as { properties: { targetResources: Record<string, unknown>[] } }).properties.targetResources[0]!;
    expect(target).toHaveProperty('modifiedProperties');
    expect(target).not.toHaveProperty('id');
    expect(target).not.toHaveProperty('userPrincipalName');
  });

  it('Defender: entities that became observables lose the observed member, the rest stays', async () => {
    const events = await eventsOf('defender-alert/elastic-integrations__microsoft_defender_cloud__test-alert.log');
    const alert = events.find((e) => e.class_uid === 2004)!;
    const entities = (json(alert.unmapped) as { Entities: Record<string, unknown>[] }).Entities;
    expect(entities.some((e) => e.Address !== undefined || e.HostName !== undefined)).toBe(false);
    expect(entities.length).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { eventDrivenStores, ingestChangeHook } from '../../../src/lib/eventDriven/eventDrivenServices.js';
import { storageTarget } from '../../../src/lib/storage/storageClients.js';

const base = {
  MDR_PROVIDER_TENANT_ID: 'dddddddd-0000-0000-0000-000000000001',
  MDR_PROVIDER_SUBSCRIPTION_ID: 'dddddddd-0000-0000-0000-0000000000aa',
  MDR_INGEST_PRINCIPAL_ID: 'dddddddd-0000-0000-0000-000000000002',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

describe('event-driven coverage settings', () => {
  it('are on by default with a 10 s window, and MDR_EVENT_DRIVEN=false leaves ingest without a hook', () => {
    const on = parseSettings(base);
    expect(on.eventDriven).toEqual({ enabled: true, delaySeconds: 10, selfPrincipalIds: [] });
    const services = { settings: on, storage: storageTarget(on) };
    expect(typeof ingestChangeHook(services, eventDrivenStores(services), 't')).toBe('function');
    const off = parseSettings({ ...base, MDR_EVENT_DRIVEN: 'false' });
    const offServices = { settings: off, storage: storageTarget(off) };
    expect(ingestChangeHook(offServices, eventDrivenStores(offServices), 't')).toBeUndefined();
  });

  it("count the app's object or client ids and AZURE_CLIENT_ID as its own identity, and refuse anything but GUIDs", () => {
    const s = parseSettings({ ...base, MDR_APP_PRINCIPAL_IDS: ' 0A0A0A0A-0000-4000-8000-000000000001 , 0b0b0b0b-0000-4000-8000-000000000002', AZURE_CLIENT_ID: '0c0c0c0c-0000-4000-8000-000000000003' });
    expect(s.eventDriven.selfPrincipalIds).toEqual(['0a0a0a0a-0000-4000-8000-000000000001', '0b0b0b0b-0000-4000-8000-000000000002', '0c0c0c0c-0000-4000-8000-000000000003']);
    expect(() => parseSettings({ ...base, MDR_APP_PRINCIPAL_IDS: 'mdr-app' })).toThrow(/MDR_APP_PRINCIPAL_IDS is invalid: expected a comma list of object or client ids/);
    expect(() => parseSettings({ ...base, MDR_EVENT_DRIVEN_DELAY_SECONDS: '900' })).toThrow(/MDR_EVENT_DRIVEN_DELAY_SECONDS is invalid/);
  });
});

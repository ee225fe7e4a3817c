import { describe, expect, it } from 'vitest';
import { ocsfClassName, validateOcsfEvent } from '../../../../src/lib/ingest/ocsf/validate.js';

const base = () => ({
  class_uid: 3002,
  category_uid: 3,
  activity_id: 1,
  type_uid: 300201,
  severity_id: 1,
  time: 1,
  metadata: { version: '1.8.0', product: { name: 'x' }, profiles: ['cloud'] },
  cloud: { provider: 'Azure' },
  user: { name: 'u' },
  service: { name: 's' },
});

describe('validateOcsfEvent', () => {
  it('accepts a minimal valid Authentication event', () => {
    expect(validateOcsfEvent(base())).toEqual({ ok: true, errors: [] });
  });

  it('rejects unknown classes, inconsistent type_uid/category_uid and a wrong version', () => {
    expect(validateOcsfEvent({ ...base(), class_uid: 9999 }).ok).toBe(false);
    expect(validateOcsfEvent({ ...base(), type_uid: 300202 }).errors).toContain('type_uid: expected 300201 (class_uid * 100 + activity_id)');
    expect(validateOcsfEvent({ ...base(), category_uid: 6 }).errors[0]).toMatch(/^category_uid/);
    expect(validateOcsfEvent({ ...base(), metadata: { ...base().metadata, version: '1.1.0' } }).errors).toContain('metadata.version: expected "1.8.0"');
  });

  it('reports missing required attributes, unknown attributes and class constraints', () => {
    const { user: _u, service: _s, ...noUser } = base();
    const errs = validateOcsfEvent({ ...noUser, bogus: 1 }).errors;
    expect(errs).toContain('user: required attribute missing');
    expect(errs).toContain('bogus: unknown attribute');
    expect(errs).toContain('event: needs at least one of service, dst_endpoint');
  });

  it('checks enums, scalar types and nested object constraints', () => {
    const errs = validateOcsfEvent({ ...base(), severity_id: 42, time: '2024', user: { type_id: 1 }, src_endpoint: { ip: 'XX.XX.XX.XX' } }).errors;
    expect(errs).toContain('severity_id: 42 is not a defined enum value');
    expect(errs.some((e) => e.startsWith('time: expected an integer'))).toBe(true);
    expect(errs).toContain('user: needs at least one of account, name, uid');
    expect(errs.some((e) => e.startsWith('src_endpoint.ip: expected an IP address'))).toBe(true);
  });

  it('requires profile attributes to be declared in metadata.profiles', () => {
    const ev = { ...base(), metadata: { ...base().metadata, profiles: [] }, device: { type_id: 0, name: 'd' } };
    const errs = validateOcsfEvent(ev).errors;
    expect(errs).toContain('device: attribute of profile host not listed in metadata.profiles');
    expect(errs).toContain('cloud: attribute of profile cloud not listed in metadata.profiles');
  });

  it('names classes by their OCSF snake_case name', () => {
    expect(ocsfClassName(6003)).toBe('api_activity');
    expect(ocsfClassName(2004)).toBe('detection_finding');
  });
});

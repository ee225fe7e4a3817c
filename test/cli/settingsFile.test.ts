import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envWithSettingsFile } from '../../src/cli/main.js';

describe('envWithSettingsFile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mdr-cli-'));

  it('reads the Values of ./local.settings.json, with the environment taking precedence', () => {
    writeFileSync(path.join(dir, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: { MDR_OFFER_NAME: 'from file', MDR_PREFIX_X: 'f', EMPTY: '' } }));
    const env = envWithSettingsFile({ MDR_OFFER_NAME: 'from env' }, dir);
    expect(env.MDR_OFFER_NAME).toBe('from env');
    expect(env.MDR_PREFIX_X).toBe('f');
    expect(env.EMPTY).toBeUndefined();
  });

  it('uses the file AZURE_MDR_SETTINGS names and fails clearly when it is missing', () => {
    const file = path.join(dir, 'prod.settings.json');
    writeFileSync(file, JSON.stringify({ Values: { MDR_OFFER_NAME: 'prod' } }));
    expect(envWithSettingsFile({ AZURE_MDR_SETTINGS: file }, '/nonexistent').MDR_OFFER_NAME).toBe('prod');
    expect(() => envWithSettingsFile({ AZURE_MDR_SETTINGS: path.join(dir, 'nope.json') })).toThrow(/does not exist/);
  });

  it('leaves the environment alone when there is no settings file', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'mdr-cli-empty-'));
    expect(envWithSettingsFile({ A: '1' }, empty)).toEqual({ A: '1' });
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../../../src/lib/config/settings.js';

const root = path.resolve(import.meta.dirname, '../../..');
const settings = Object.keys(envSchema.shape);

describe('settings documentation', () => {
  it('local.settings.sample.json lists every app setting the schema reads', () => {
    const values = (JSON.parse(readFileSync(path.join(root, 'local.settings.sample.json'), 'utf8')) as { Values: Record<string, string> }).Values;
    expect(settings.filter((k) => !(k in values))).toEqual([]);
  });

  it('the README settings table explains every app setting', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(settings.filter((k) => !readme.includes(`| \`${k}\` |`))).toEqual([]);
  });
});

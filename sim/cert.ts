import { generate } from 'selfsigned';

let cached: Promise<{ key: string; cert: string }> | undefined;

/**
 * A self-signed certificate for 127.0.0.1/localhost. Bearer auth refuses plain http (mechanics §1), so the
 * simulator is https and clients trust this PEM through `tlsOptions.ca`. Generated once per process (EC is fast).
 */
export function simulatorCertificate(): Promise<{ key: string; cert: string }> {
  cached ??= generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  }).then((p) => ({ key: p.private, cert: p.cert }));
  return cached;
}

// Tests use the same harness as the sandbox and bench.
export { startAzurite, type AzuriteHandle } from '../../sim/azurite.js';

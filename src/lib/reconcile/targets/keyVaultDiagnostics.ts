import { diagnosticSettingTarget } from '../diagnosticSetting.js';

/** Key Vault log categories; a setting of ours using the `allLogs` group also counts as in sync. */
export const KEY_VAULT_CATEGORIES = ['AuditEvent', 'AzurePolicyEvaluationDetails'] as const;

/** A Key Vault → hub in the vault's region. */
export const keyVaultDiagnosticsTarget = diagnosticSettingTarget('keyvault-diagnostics', KEY_VAULT_CATEGORIES, 'Microsoft.KeyVault');

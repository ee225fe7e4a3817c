/**
 * The Entra ID logs the provider takes: each diagnostic-setting category of the customer's tenant-level Entra
 * diagnostic setting (`microsoft.aadiam/diagnosticSettings`, api-version 2017-04-01) and the Log Analytics table it
 * fills. One list serves both sides: the customer's commands (onboarding material) and our data-export rule.
 * Category ↔ table pairs: Red Canary's public Entra list and the Azure Monitor table reference (azure-facts §7, §9;
 * MicrosoftDocs/azure-reference-other azure-monitor-ref/tables). A wrong table name in an export rule fails silently
 * or fails the rule, so the names here are the ones the table reference spells.
 */
export interface EntraLog {
  /** Category of the Entra diagnostic setting. */
  category: string;
  /** Log Analytics table the category fills (what a data-export rule names). */
  table: string;
  /** Why a tenant may not have it (shown when the workspace lacks the table). */
  needs?: string;
}

export const ENTRA_LOGS: readonly EntraLog[] = [
  { category: 'AuditLogs', table: 'AuditLogs' },
  { category: 'SignInLogs', table: 'SigninLogs' },
  { category: 'NonInteractiveUserSignInLogs', table: 'AADNonInteractiveUserSignInLogs' },
  { category: 'ServicePrincipalSignInLogs', table: 'AADServicePrincipalSignInLogs' },
  { category: 'ManagedIdentitySignInLogs', table: 'AADManagedIdentitySignInLogs' },
  { category: 'ADFSSignInLogs', table: 'ADFSSignInLogs', needs: 'AD FS sign-ins, reported through Microsoft Entra Connect Health' },
  { category: 'UserRiskEvents', table: 'AADUserRiskEvents', needs: 'Identity Protection risk detections (Microsoft Entra ID P2)' },
  { category: 'ServicePrincipalRiskEvents', table: 'AADServicePrincipalRiskEvents', needs: 'Identity Protection workload-identity risk detections (Microsoft Entra ID P2 / Workload ID Premium)' },
];

/** Every Entra table our export rule takes, when the workspace holds it. */
export const ENTRA_TABLES: readonly string[] = ENTRA_LOGS.map((l) => l.table);

/** The tables of `wanted` the workspace holds (exported) and lacks (skipped), compared without case, in `wanted`'s order. */
export function splitByPresence(wanted: readonly string[], held: readonly string[]): { exported: string[]; missing: string[] } {
  const have = new Set(held.map((t) => t.toLowerCase()));
  return { exported: wanted.filter((t) => have.has(t.toLowerCase())), missing: wanted.filter((t) => !have.has(t.toLowerCase())) };
}

/** "AADUserRiskEvents (Identity Protection …)" for each missing table. */
export function describeMissing(missing: readonly string[]): string {
  return missing.map((t) => {
    const n = ENTRA_LOGS.find((l) => l.table.toLowerCase() === t.toLowerCase())?.needs;
    return n ? `${t} (${n})` : t;
  }).join(', ');
}

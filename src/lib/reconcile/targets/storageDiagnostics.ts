import { diagnosticSettingTarget } from '../diagnosticSetting.js';

/** Categories of each storage service (blob/queue/table/file): StorageRead/Write/Delete. */
export const STORAGE_CATEGORIES = ['StorageRead', 'StorageWrite', 'StorageDelete'] as const;

/** A storage service sub-resource (`<account>/<svc>Services/default`) → hub in the account's region. Only services that exist for the account kind are items (storageServices.ts). */
export const storageDiagnosticsTarget = diagnosticSettingTarget('storage-diagnostics', STORAGE_CATEGORIES, 'Microsoft.Storage');

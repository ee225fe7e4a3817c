import { describe, expect, it } from 'vitest';
import { storageServiceResourceId, storageServicesFor } from '../../../src/lib/reconcile/storageServices.js';

describe('storageServicesFor', () => {
  it.each([
    ['StorageV2', 'Standard_LRS', ['blob', 'queue', 'table', 'file']],
    ['Storage', 'Standard_GRS', ['blob', 'queue', 'table', 'file']],
    ['StorageV2', 'Premium_LRS', ['blob']],
    ['BlockBlobStorage', 'Premium_LRS', ['blob']],
    ['BlobStorage', 'Standard_LRS', ['blob']],
    ['FileStorage', 'Premium_ZRS', ['file']],
    ['SomethingNew', 'Standard_LRS', []],
    [undefined, undefined, []],
  ])('gives %s / %s the services %j', (kind, sku, expected) => {
    expect(storageServicesFor(kind, sku)).toEqual(expected);
  });

  it('matches kinds case-insensitively as Resource Graph may lowercase them', () => {
    expect(storageServicesFor('filestorage', 'premium_lrs')).toEqual(['file']);
  });

  it('names the default service sub-resource under the account', () => {
    expect(storageServiceResourceId('/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a', 'queue')).toBe(
      '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/queueServices/default',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { activityOf } from '../../sim/routes/activityLog.js';

describe('activityOf: the operation ARM logs for a request', () => {
  const sub = '/subscriptions/11111111-1111-1111-1111-111111111111';
  const acct = `${sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct`;
  it('names writes, deletes and actions by the last provider segment of the path', () => {
    expect(activityOf('PUT', `${acct}/blobServices/default/providers/Microsoft.Insights/diagnosticSettings/x`)).toEqual({
      resourceId: `${acct}/blobServices/default/providers/Microsoft.Insights/diagnosticSettings/x`, operationName: 'Microsoft.Insights/diagnosticSettings/write', resourceProviderName: 'Microsoft.Insights',
    });
    expect(activityOf('DELETE', acct)?.operationName).toBe('Microsoft.Storage/storageAccounts/delete');
    expect(activityOf('PATCH', `${acct}/blobServices/default`)?.operationName).toBe('Microsoft.Storage/storageAccounts/blobServices/write');
    expect(activityOf('POST', `${acct}/listKeys`)).toEqual({ resourceId: acct, operationName: 'Microsoft.Storage/storageAccounts/listKeys/action', resourceProviderName: 'Microsoft.Storage' });
    expect(activityOf('PUT', `${sub}/resourceGroups/rg`)?.operationName).toBe('Microsoft.Resources/subscriptions/resourceGroups/write');
  });
  it('logs nothing for reads', () => {
    expect(activityOf('GET', acct)).toBeUndefined();
  });
});

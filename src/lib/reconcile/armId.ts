/** Splits an ARM id into its subscription, resource group and name/value pairs (case kept; lookups case-insensitive). */
export function parseArmId(id: string): { subscriptionId: string; resourceGroup: string; parts: Map<string, string>; name: string } {
  const segs = id.replace(/^\/+/, '').split('/');
  const parts = new Map<string, string>();
  for (let i = 0; i + 1 < segs.length; i += 2) parts.set((segs[i] ?? '').toLowerCase(), segs[i + 1] ?? '');
  return {
    subscriptionId: parts.get('subscriptions') ?? '',
    resourceGroup: parts.get('resourcegroups') ?? '',
    parts,
    name: segs[segs.length - 1] ?? '',
  };
}

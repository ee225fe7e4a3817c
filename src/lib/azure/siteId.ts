import { ConnectorError } from '../errors.js';

/** A Function App (site) resource id: `/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Web/sites/<app>`. */
export const SITE_ID_PATTERN = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Web\/sites\/([^/]+)$/i;

export function parseSiteId(id: string): { subscriptionId: string; resourceGroup: string; name: string } {
  const m = SITE_ID_PATTERN.exec(id);
  if (!m) throw new ConnectorError('config', `not a Function App resource id: ${id}`);
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]! };
}

/** The registry key of an app: its site name, lower-case. */
export const appNameOf = (resourceId: string): string => parseSiteId(resourceId).name.toLowerCase();

import type { RouteContext, Router } from '../http.js';
import { notFound, objectBody, propsOf } from '../http.js';

const SITE = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{app}';

/** Function app settings as `webApps.listApplicationSettings` / `updateApplicationSettings` use them. */
export function registerWeb(r: Router): void {
  const site = (ctx: RouteContext) => ctx.state.get(`/subscriptions/${ctx.params.sub}/resourceGroups/${ctx.params.rg}/providers/Microsoft.Web/sites/${ctx.params.app}`);
  const body = (id: string, properties: Record<string, string>) => ({ id: `${id}/config/appsettings`, name: 'appsettings', type: 'Microsoft.Web/sites/config', properties });
  r.on('POST', `${SITE}/config/appsettings/list`, (ctx) => {
    const s = site(ctx);
    if (!s) return notFound(`Microsoft.Web/sites/${ctx.params.app}`);
    return { status: 200, body: body(s.id, ctx.state.appSettings.get(s.id.toLowerCase()) ?? {}) };
  });
  r.on('PUT', `${SITE}/config/appsettings`, (ctx) => {
    const s = site(ctx);
    if (!s) return notFound(`Microsoft.Web/sites/${ctx.params.app}`);
    const settings = Object.fromEntries(Object.entries(propsOf(objectBody(ctx))).map(([k, v]) => [k, String(v)]));
    ctx.state.appSettings.set(s.id.toLowerCase(), settings);
    return { status: 200, body: body(s.id, settings) };
  });
}

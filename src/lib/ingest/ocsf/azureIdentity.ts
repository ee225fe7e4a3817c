import type { JsonObject } from '../types.js';
import { get, isObj, obj, str, type ConsumedDef } from './common.js';

/**
 * The caller of an ARM / Key Vault operation from the record's `identity` (activity log: `identity.claims`;
 * Key Vault: `identity.claim`, possibly a JSON string with flattened `http_schemas_*` keys; sometimes a plain
 * name string) or the LA `Caller`/`Claims` columns. Returns an OCSF `actor` or undefined.
 *
 * The token's `tid` goes to `actor.idp.tenant_uid` and is deliberately NOT used for tenant attribution: callers
 * acting through Azure Lighthouse (including this connector) carry the managing tenant's `tid`.
 */
const UPN = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn';
const NAME = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name';
const EMAIL = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress';
const OID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const TID = 'http://schemas.microsoft.com/identity/claims/tenantid';

const FLAT_UPN_GROUP = 'http_schemas_xmlsoap_org_ws_2005_05_identity';
const FLAT_OID_GROUP = 'http_schemas_microsoft_com_identity';

/** The token claims actorFromIdentity maps; the other claims (aud, iss, amr, ipaddr, wids, …) stay in `unmapped`. */
const CLAIMS_CONSUMED: ConsumedDef = {
  [UPN]: true,
  upn: true,
  [NAME]: true,
  name: true,
  [OID]: true,
  oid: true,
  [EMAIL]: true,
  appid: true,
  azp: true,
  [TID]: true,
  tid: true,
  idtyp: true,
  [FLAT_UPN_GROUP]: { claims: { upn: true } },
  [FLAT_OID_GROUP]: { claims: { objectidentifier: true } },
};
const AUTHORIZATION_CONSUMED: ConsumedDef = { action: true, evidence: { role: true, roleDefinitionId: true, roleAssignmentId: true } };
const IDENTITY_CONSUMED: ConsumedDef = { '': true, claims: CLAIMS_CONSUMED, claim: CLAIMS_CONSUMED, authorization: AUTHORIZATION_CONSUMED };

/** The record attributes actorFromIdentity reads, for a mapper's unmapped spec (see ConsumedDef). */
export const ACTOR_CONSUMED: ConsumedDef = {
  identity: IDENTITY_CONSUMED,
  Identity: IDENTITY_CONSUMED,
  Claims: CLAIMS_CONSUMED,
  Claims_d: CLAIMS_CONSUMED,
  Caller: true,
  caller: true,
  Authorization: AUTHORIZATION_CONSUMED,
  Authorization_d: AUTHORIZATION_CONSUMED,
};

function flatClaim(claims: JsonObject, group: string, key: string): unknown {
  const g = claims[group];
  return isObj(g) && isObj(g.claims) ? g.claims[key] : undefined;
}

export function actorFromIdentity(rec: JsonObject): JsonObject | undefined {
  const identityRaw = get(rec, 'identity', 'Identity');
  const identity = obj(identityRaw);
  const claims = obj(get(identity, 'claims', 'claim')) ?? obj(get(rec, 'Claims', 'Claims_d'));
  const caller = str(get(rec, 'Caller', 'caller'));
  const user: JsonObject = {};
  let appUid: string | undefined;
  let tid: string | undefined;
  if (claims) {
    const upn = str(get(claims, UPN, 'upn')) ?? str(flatClaim(claims, FLAT_UPN_GROUP, 'upn'));
    const name = str(get(claims, NAME, 'name'))?.trim();
    const oid = str(get(claims, OID, 'oid')) ?? str(flatClaim(claims, FLAT_OID_GROUP, 'objectidentifier'));
    const email = str(get(claims, EMAIL));
    appUid = str(get(claims, 'appid', 'azp'));
    tid = str(get(claims, TID, 'tid'));
    const userName = upn ?? name ?? caller ?? email;
    // Only set when present: `delete` later would turn `user` into a slow dictionary-mode object.
    if (userName !== undefined) user.name = userName;
    if (oid) user.uid = oid;
    if (name && name !== user.name) user.full_name = name;
    if (email && email.includes('@')) user.email_addr = email;
    const idtyp = str(get(claims, 'idtyp'));
    if (idtyp === 'app') {
      user.type_id = 4;
      user.type = 'Service';
    }
  } else if (typeof identityRaw === 'string' && identityRaw.length > 0 && identityRaw[0] !== '{') {
    const userName = str(identityRaw);
    if (userName !== undefined) user.name = userName;
  } else if (caller) user.name = caller;
  const authz = obj(get(identity, 'authorization')) ?? obj(get(rec, 'Authorization', 'Authorization_d'));
  const actor: JsonObject = {};
  if (user.name !== undefined || user.uid !== undefined) {
    const account: JsonObject = { type_id: 6, type: 'Azure AD Account' };
    if (user.uid) account.uid = user.uid;
    if (user.name) account.name = user.name;
    user.account = account;
    actor.user = user;
  }
  if (appUid) actor.app_uid = appUid;
  if (tid) actor.idp = { name: 'Microsoft Entra ID', tenant_uid: tid.toLowerCase() };
  const action = str(get(authz, 'action'));
  const evidence = obj(get(authz, 'evidence'));
  if (action || evidence) {
    const policy: JsonObject = {};
    const role = str(get(evidence, 'role'));
    const roleId = str(get(evidence, 'roleDefinitionId', 'roleAssignmentId'));
    if (role) policy.name = role;
    if (roleId) policy.uid = roleId;
    actor.authorizations = [{ decision: 'Allowed', ...(Object.keys(policy).length > 0 ? { policy } : {}) }];
  }
  // An actor needs a user or an app; a bare idp/authorization is not enough to name one.
  return actor.user !== undefined || actor.app_uid !== undefined ? actor : undefined;
}

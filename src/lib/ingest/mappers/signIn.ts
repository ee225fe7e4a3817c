import type { JsonObject, MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { arr, bool, buildEvent, compact, consumed, eventUid, get, hasOwnKey, int, interned, ipOf, num, obj, parseTime, putUnmapped, recordTime, severityFromLevel, str, unmappedOf, type ConsumedDef, type EventBody } from '../ocsf/common.js';

/**
 * Entra ID sign-ins (SignInLogs, NonInteractiveUserSignInLogs, ServicePrincipalSignInLogs,
 * ManagedIdentitySignInLogs, MicrosoftServicePrincipalSignInLogs, ADFSSignInLogs; LA tables SigninLogs,
 * AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs, AADManagedIdentitySignInLogs) → Authentication (3002).
 *
 * Every sign-in is a Logon attempt (activity_id 1) whatever its outcome: a failure is Logon + status_id 2
 * (Failure) with the AADSTS code in status_code — never Logoff, the AWS Security Lake sample's defect.
 * Success = `resultType` "0" (or `status.errorCode` 0); 50140 ("keep me signed in" interrupt) and other codes are failures.
 */
const CATEGORY_TO_KIND: Record<string, 'user' | 'non-interactive' | 'service-principal' | 'managed-identity' | 'adfs'> = {
  SignInLogs: 'user',
  SigninLogs: 'user',
  NonInteractiveUserSignInLogs: 'non-interactive',
  AADNonInteractiveUserSignInLogs: 'non-interactive',
  ServicePrincipalSignInLogs: 'service-principal',
  AADServicePrincipalSignInLogs: 'service-principal',
  MicrosoftServicePrincipalSignInLogs: 'service-principal',
  ManagedIdentitySignInLogs: 'managed-identity',
  AADManagedIdentitySignInLogs: 'managed-identity',
  ADFSSignInLogs: 'adfs',
  ADFSSignInLogsTable: 'adfs',
};

const PROTOCOLS: Record<string, [number, string]> = {
  oauth2: [6, 'OAUTH 2.0'],
  ropc: [6, 'OAUTH 2.0'],
  devicecode: [6, 'OAUTH 2.0'],
  saml20: [5, 'SAML'],
  wsfederation: [99, 'WS-Federation'],
  openid: [4, 'OpenID'],
};

const FACTORS: [RegExp, number, string][] = [
  [/password/i, 11, 'Password'],
  [/sms|text message/i, 1, 'SMS'],
  [/phone call|voice/i, 3, 'Phone Call'],
  [/authenticator app|notification|push/i, 5, 'Push Notification'],
  [/oath|verification code|otp/i, 7, 'OTP'],
  [/fido|passkey|security key/i, 10, 'WebAuthn'],
  [/windows hello|biometric/i, 4, 'Biometric'],
  [/email/i, 8, 'Email'],
];

/**
 * Unmapped specs (see ConsumedDef), per kind (user sign-ins map the user fields, service-principal and managed-identity
 * sign-ins the principal fields) and per form (Log Analytics rows are flat). Conditional ones are settled in map():
 * `deviceDetail` / `location` are unmapped as a whole when they do not make a valid device / location, and
 * `authenticationProtocol` when it is not a protocol OCSF names.
 * Dropped (kept in raw_data): `time` / `TimeGenerated` at the top when `createdDateTime` is there (the event time is when
 * the sign-in happened, `createdDateTime`; `time` is when the log processed it, seconds to minutes later).
 * Redundant and dropped: `resourceId` / `ResourceId` / `_ResourceId` at the top
 * (`/tenants/<tenant>/providers/Microsoft.aadiam`: the tenant), `operationName` / `OperationName` ("Sign-in activity":
 * the class), `Category` / `Type` (the log name), `identity` (the user's display name, mapped from the user fields).
 */
const PROPS: ConsumedDef = {
  id: true, Id: true, createdDateTime: true, CreatedDateTime: true, correlationId: true, CorrelationId: true,
  status: { errorCode: true, failureReason: true }, Status: { errorCode: true, failureReason: true },
  location: { city: true, state: true, countryOrRegion: true, geoCoordinates: { latitude: true, longitude: true } },
  LocationDetails: { city: true, state: true, countryOrRegion: true, geoCoordinates: { latitude: true, longitude: true } },
  ipAddress: true, IPAddress: true, autonomousSystemNumber: true, AutonomousSystemNumber: true,
  deviceDetail: { deviceId: true, displayName: true, isCompliant: true, isManaged: true, operatingSystem: true },
  DeviceDetail: { deviceId: true, displayName: true, isCompliant: true, isManaged: true, operatingSystem: true },
  authenticationProtocol: true, AuthenticationProtocol: true,
  authenticationDetails: { authenticationMethod: true, authenticationStepRequirement: true, succeeded: true },
  AuthenticationDetails: { authenticationMethod: true, authenticationStepRequirement: true, succeeded: true },
  authenticationRequirement: true, AuthenticationRequirement: true, mfaDetail: { authMethod: true }, MfaDetail: { authMethod: true },
  isInteractive: true, IsInteractive: true, resourceDisplayName: true, ResourceDisplayName: true, resourceId: true, ResourceIdentity: true,
  appDisplayName: true, AppDisplayName: true, appId: true, AppId: true, sessionId: true, SessionId: true, uniqueTokenIdentifier: true,
  UniqueTokenIdentifier: true, userAgent: true, UserAgent: true, clientAppUsed: true,
};
const USER_PROPS: ConsumedDef = { userPrincipalName: true, UserPrincipalName: true, userId: true, UserId: true, userDisplayName: true, UserDisplayName: true };
const PRINCIPAL_PROPS: ConsumedDef = {
  servicePrincipalId: true, ServicePrincipalId: true, servicePrincipalName: true, ServicePrincipalName: true, servicePrincipalCredentialKeyId: true,
};
const TOP: ConsumedDef = {
  time: true, Time: true, TimeGenerated: true, timeGenerated: true, resourceId: true, operationName: true, category: true, tenantId: true,
  resultType: true, resultDescription: true, callerIpAddress: true, correlationId: true, identity: true, level: true, Level: true, location: true,
};
const LA_TOP: ConsumedDef = {
  TimeGenerated: true, Type: true, Category: true, TenantId: true, ResultType: true, ResultDescription: true, CorrelationId: true, OperationName: true,
  Level: true, Identity: true, ResourceId: true, _ResourceId: true, CallerIpAddress: true,
};
/** Nothing mapped: unmappedOf with it copies an object without its null / empty-string members. */
const NOTHING = consumed();
const CONSUMED = {
  user: consumed(TOP, { properties: { ...PROPS, ...USER_PROPS }, Properties: { ...PROPS, ...USER_PROPS } }),
  principal: consumed(TOP, { properties: { ...PROPS, ...PRINCIPAL_PROPS }, Properties: { ...PROPS, ...PRINCIPAL_PROPS } }),
  laUser: consumed(LA_TOP, PROPS, USER_PROPS),
  laPrincipal: consumed(LA_TOP, PROPS, PRINCIPAL_PROPS),
  /** PascalCase records without `properties`: the sign-in fields are at the top. */
  flatUser: consumed(TOP, PROPS, USER_PROPS),
  flatPrincipal: consumed(TOP, PROPS, PRINCIPAL_PROPS),
};

function isSuccess(resultType: string | undefined, errorCode: number | undefined): boolean | undefined {
  if (resultType !== undefined && resultType !== '') return resultType === '0' || resultType.toLowerCase() === 'success';
  if (errorCode !== undefined) return errorCode === 0;
  return undefined;
}

function mfaFlag(requirement: string | undefined, mfaDetail: JsonObject | undefined, details: unknown[] | undefined): boolean | undefined {
  if (requirement?.toLowerCase() === 'multifactorauthentication') return true;
  if (str(get(mfaDetail, 'authMethod'))) return true;
  if (details && details.some((d) => str(get(d, 'authenticationStepRequirement'))?.toLowerCase().includes('mfa') && bool(get(d, 'succeeded')) === true)) return true;
  if (requirement?.toLowerCase() === 'singlefactorauthentication') return false;
  return undefined;
}

function authFactors(details: unknown[] | undefined): JsonObject[] | undefined {
  if (!details) return undefined;
  const out: JsonObject[] = [];
  const seen = new Set<string>();
  for (const d of details) {
    const method = str(get(d, 'authenticationMethod'));
    if (!method || method === 'Previously satisfied' || seen.has(method)) continue;
    seen.add(method);
    const hit = FACTORS.find(([re]) => re.test(method));
    out.push(hit ? { factor_type_id: hit[1], factor_type: hit[2] } : { factor_type_id: 99, factor_type: method });
  }
  return out.length > 0 ? out : undefined;
}

function osTypeId(name: string | undefined): number {
  const n = (name ?? '').toLowerCase();
  if (n.startsWith('windows')) return 100;
  if (n.startsWith('android')) return 201;
  if (n.startsWith('ios')) return 301;
  if (n.startsWith('macos') || n.startsWith('mac os')) return 300;
  if (n.startsWith('linux')) return 200;
  return n ? 99 : 0;
}

function map(r: NormalizedRecord, meta: MapMeta): MapResult {
  const rec = r.rec;
  // LA rows and PascalCase records without `properties` carry the sign-in fields at the top level.
  const flat = r.laForm || !hasOwnKey(r.props);
  const p = flat ? rec : r.props;
  const kind = CATEGORY_TO_KIND[r.category] ?? 'user';
  // createdDateTime is when the sign-in happened, `time` when the log processed it: `time` is only the fallback.
  const created = get(p, 'createdDateTime', 'CreatedDateTime');
  const createdTime = parseTime(created);
  const { time, original } = createdTime !== undefined ? { time: createdTime, original: str(created) } : recordTime(r);
  const id = str(get(p, 'id', 'Id'));
  const correlationId = str(get(p, 'correlationId', 'CorrelationId')) ?? str(get(rec, 'correlationId', 'CorrelationId'));
  const statusObj = obj(get(p, 'status', 'Status'));
  const errorCode = int(get(statusObj, 'errorCode'));
  const resultType = str(get(rec, 'resultType', 'ResultType')) ?? (errorCode !== undefined ? String(errorCode) : undefined);
  const ok = isSuccess(resultType, errorCode);
  const failureReason = str(get(statusObj, 'failureReason')) ?? str(get(rec, 'resultDescription', 'ResultDescription'));

  let user: JsonObject;
  if (kind === 'service-principal' || kind === 'managed-identity') {
    user = compact({
      uid: str(get(p, 'servicePrincipalId', 'ServicePrincipalId')) ?? str(get(p, 'appId', 'AppId')),
      name: str(get(p, 'servicePrincipalName', 'ServicePrincipalName')) ?? str(get(p, 'appDisplayName', 'AppDisplayName')),
      type_id: 4,
      type: 'Service',
      credential_uid: str(get(p, 'servicePrincipalCredentialKeyId')),
    }) ?? {};
  } else {
    const upn = str(get(p, 'userPrincipalName', 'UserPrincipalName'));
    user = compact({
      uid: str(get(p, 'userId', 'UserId')),
      name: upn ?? str(get(p, 'userDisplayName', 'UserDisplayName')),
      full_name: str(get(p, 'userDisplayName', 'UserDisplayName')),
      email_addr: upn && upn.includes('@') && !upn.includes('#') ? upn : undefined,
      type_id: 1,
      type: 'User',
      account: str(get(p, 'userId', 'UserId')) || upn ? compact({ uid: str(get(p, 'userId', 'UserId')), name: upn, type_id: 6, type: 'Azure AD Account' }) : undefined,
    }) ?? {};
  }
  if (user.uid === undefined && user.name === undefined) user.name = str(get(rec, 'identity', 'Identity')) ?? 'Unknown';

  const loc = obj(get(p, 'location', 'LocationDetails'));
  const geo = obj(get(loc, 'geoCoordinates'));
  const location = compact({
    city: str(get(loc, 'city')),
    region: str(get(loc, 'state')),
    country: str(get(loc, 'countryOrRegion')) ?? (r.laForm ? undefined : str(get(rec, 'location'))),
    lat: num(get(geo, 'latitude')),
    long: num(get(geo, 'longitude')),
  });
  // location needs a city/region/country; bare coordinates stay in raw_data.
  const locationOk = location && (location.city !== undefined || location.region !== undefined || location.country !== undefined) ? location : undefined;
  const ipRaw = get(p, 'ipAddress', 'IPAddress') ?? get(rec, 'callerIpAddress', 'CallerIpAddress');
  const { ip } = ipOf(ipRaw);
  const asn = int(get(p, 'autonomousSystemNumber', 'AutonomousSystemNumber'));
  const src = compact({ ip, name: ip ? undefined : str(ipRaw), location: locationOk, autonomous_system: asn !== undefined ? { number: asn } : undefined });
  // network_endpoint needs an identifier; a location alone is not an endpoint.
  const srcOk = src && (src.ip !== undefined || src.name !== undefined) ? src : undefined;

  const dev = obj(get(p, 'deviceDetail', 'DeviceDetail'));
  const osName = str(get(dev, 'operatingSystem'));
  const device = dev
    ? compact({
        uid: str(get(dev, 'deviceId')),
        name: str(get(dev, 'displayName')),
        type_id: 0,
        is_compliant: bool(get(dev, 'isCompliant')),
        is_managed: bool(get(dev, 'isManaged')),
        os: osName ? { name: osName, type_id: osTypeId(osName) } : undefined,
      })
    : undefined;
  // device needs one identifier to be valid; a bare OS/browser goes to unmapped (it stays in raw_data too).
  const deviceOk = device && (device.uid !== undefined || device.name !== undefined) ? device : undefined;

  const protoRaw = str(get(p, 'authenticationProtocol', 'AuthenticationProtocol'));
  const proto = protoRaw ? PROTOCOLS[protoRaw.toLowerCase()] : undefined;
  const details = arr(get(p, 'authenticationDetails', 'AuthenticationDetails'));
  const isMfa = mfaFlag(str(get(p, 'authenticationRequirement', 'AuthenticationRequirement')), obj(get(p, 'mfaDetail', 'MfaDetail')), details);
  const interactive = bool(get(p, 'isInteractive', 'IsInteractive'));
  const service = compact({ name: str(get(p, 'resourceDisplayName', 'ResourceDisplayName')), uid: str(get(p, 'resourceId', 'ResourceIdentity')) }) ?? { name: 'Microsoft Entra ID' };
  const appName = str(get(p, 'appDisplayName', 'AppDisplayName'));
  const appUid = str(get(p, 'appId', 'AppId'));

  const uid = eventUid(meta.tenantId, 'sign-in', [id, r.category, id ? undefined : correlationId, original], r.rec);
  const principalKind = kind === 'service-principal' || kind === 'managed-identity';
  let unmapped = unmappedOf(rec, r.laForm ? (principalKind ? CONSUMED.laPrincipal : CONSUMED.laUser) : flat ? (principalKind ? CONSUMED.flatPrincipal : CONSUMED.flatUser) : principalKind ? CONSUMED.principal : CONSUMED.user);
  // Conditionally mapped members: when not mapped, they go to `unmapped` whole (p is where they were read from).
  const nameIn = (key: string, alt: string): string => (Object.hasOwn(p, key) ? key : alt);
  const devRest = dev && !deviceOk ? unmappedOf(dev, NOTHING) : undefined;
  if (devRest) unmapped = putUnmapped(unmapped, !flat, nameIn('deviceDetail', 'DeviceDetail'), devRest);
  const locRest = loc && !locationOk ? unmappedOf(loc, NOTHING) : undefined;
  if (locRest) unmapped = putUnmapped(unmapped, !flat, nameIn('location', 'LocationDetails'), locRest);
  if (protoRaw && !proto) unmapped = putUnmapped(unmapped, !flat, nameIn('authenticationProtocol', 'AuthenticationProtocol'), protoRaw);

  const clientApp = str(get(p, 'clientAppUsed'));
  const userAgent = str(get(p, 'userAgent', 'UserAgent'));
  const body: EventBody = {
    user,
    actor: compact({ app_name: appName, app_uid: appUid }),
    service,
    src_endpoint: srcOk,
    device: deviceOk,
    auth_protocol_id: proto ? proto[0] : 0,
    auth_protocol: proto ? proto[1] : 'Unknown',
    is_mfa: isMfa,
    auth_factors: authFactors(details),
    logon_type_id: interactive === true ? 2 : interactive === false ? 3 : undefined,
    logon_type: interactive === true ? 'Interactive' : interactive === false ? 'Network' : undefined,
    is_remote: true,
    session: compact({ uid: str(get(p, 'sessionId', 'SessionId')), uid_alt: str(get(p, 'uniqueTokenIdentifier', 'UniqueTokenIdentifier')), is_mfa: isMfa }),
    http_request: userAgent ? { user_agent: userAgent } : undefined,
    status_id: ok === undefined ? 0 : ok ? 1 : 2,
    status: ok === undefined ? 'Unknown' : ok ? 'Success' : 'Failure',
    status_code: resultType,
    status_detail: ok === false ? failureReason : undefined,
    message: clientApp ? interned('Sign-in via ', clientApp) : undefined,
  };
  const severity = severityFromLevel(get(rec, 'level', 'Level')) || 1;
  return {
    ok: true,
    events: [
      buildEvent(
        {
          classUid: 3002, className: 'Authentication', categoryUid: 3, categoryName: 'Identity & Access Management', activityId: 1, activityName: 'Logon',
          severityId: severity, time, originalTime: original, uid, source: 'sign-in', feature: interned('Entra ID ', r.category), productName: 'Microsoft Entra ID',
          logName: r.category, region: undefined, correlationUid: correlationId, originalUid: id, eventCode: resultType,
        },
        meta,
        r.raw,
        body,
        unmapped,
      ),
    ],
  };
}

export const signInMapper: Mapper = {
  source: 'sign-in',
  matches: (r) => Object.hasOwn(CATEGORY_TO_KIND, r.category),
  map,
};


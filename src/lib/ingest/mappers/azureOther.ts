import type { MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { buildEvent, compact, eventUid, get, hasOwnKey, parseResourceId, recordTime, remainder, severityFromLevel, str } from '../ocsf/common.js';

/**
 * Any other Azure record we recognise as Azure telemetry (a resource-log category, an LA table, a Defender export
 * type such as assessments or secure scores) but have no specific mapping for → Base Event (0), activity Other,
 * with the category as the label. Delivering it (raw_data + unmapped) beats dead-lettering valid telemetry; a
 * specific mapper can claim the category later.
 */
const MAPPED = new Set(['time', 'TimeGenerated', 'category', 'Category', 'Type', 'operationName', 'OperationName', 'level', 'Level', 'location', 'properties']);

function map(r: NormalizedRecord, meta: MapMeta): MapResult {
  const rec = r.rec;
  const resourceId = str(get(rec, 'resourceId', 'ResourceId', '_ResourceId', 'id'));
  const rid = parseResourceId(resourceId);
  const op = str(get(rec, 'operationName', 'OperationName'));
  const { time, original } = recordTime(r, get(r.props, 'timeGenerated', 'TimeGenerated', 'statusChangeDate'));
  const correlationId = str(get(rec, 'correlationId', 'CorrelationId'));
  const uid = eventUid(meta.tenantId, 'azure-other', [], r.rec);
  const unmapped = remainder(rec, MAPPED) ?? {};
  if (hasOwnKey(r.props)) unmapped.properties = r.props;
  const label = r.category || 'Azure';
  return {
    ok: true,
    events: [
      buildEvent(
        {
          classUid: 0, className: 'Base Event', categoryUid: 0, categoryName: 'Uncategorized', activityId: 99, activityName: label,
          severityId: severityFromLevel(get(rec, 'level', 'Level')), time, originalTime: original, uid, source: 'azure-other', feature: label,
          productName: 'Azure', logName: label, subscriptionId: rid.subscriptionId, region: str(get(rec, 'location', 'Location')), correlationUid: correlationId, eventCode: op,
        },
        meta,
        r.raw,
        compact({ message: op }) ?? {},
        unmapped,
      ),
    ],
  };
}

/** Azure-looking: a category/table/type name plus a time or an ARM resource id. */
export const azureOtherMapper: Mapper = {
  source: 'azure-other',
  matches: (r) => r.category !== '' && (get(r.rec, 'time', 'TimeGenerated', 'resourceId', 'ResourceId', '_ResourceId', 'id') !== undefined),
  map,
};

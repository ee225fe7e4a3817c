import type { MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { buildEvent, consumed, eventUid, get, parseTime, recordTime, severityFromLevel, str, unmappedOf, type ConsumedDef } from '../ocsf/common.js';

/**
 * Any other Azure record we recognise as Azure telemetry (a resource-log category, an LA table, a Defender export
 * type such as assessments or secure scores) but have no specific mapping for → Base Event (0), activity Other,
 * with the category as the label. Delivering it (raw_data + unmapped) beats dead-lettering valid telemetry; a
 * specific mapper can claim the category later.
 */
/**
 * Unmapped spec (see ConsumedDef). A Base Event has no resources: the resource id stays in `unmapped` (only its
 * subscription is mapped, to `cloud.account`). The `properties` time fields count as mapped only when they gave the
 * event time.
 */
const TOP: ConsumedDef = {
  time: true, Time: true, TimeGenerated: true, timeGenerated: true, category: true, Category: true, CategoryValue: true, Type: true,
  operationName: true, OperationName: true, level: true, Level: true, location: true, Location: true, correlationId: true, CorrelationId: true,
};
const PROPS_TIME: ConsumedDef = { timeGenerated: true, TimeGenerated: true, statusChangeDate: true };
const CONSUMED = consumed(TOP);
const CONSUMED_PROPS_TIME = consumed(TOP, { properties: PROPS_TIME, Properties: PROPS_TIME });

function map(r: NormalizedRecord, meta: MapMeta): MapResult {
  const rec = r.rec;
  const op = str(get(rec, 'operationName', 'OperationName'));
  const { time, original } = recordTime(r, get(r.props, 'timeGenerated', 'TimeGenerated', 'statusChangeDate'));
  const correlationId = str(get(rec, 'correlationId', 'CorrelationId'));
  const uid = eventUid(meta.tenantId, 'azure-other', [], r.rec);
  const ownTime = parseTime(get(rec, 'time', 'Time', 'TimeGenerated', 'timeGenerated')) !== undefined;
  const label = r.category || 'Azure';
  return {
    ok: true,
    events: [
      buildEvent(
        {
          classUid: 0, className: 'Base Event', categoryUid: 0, categoryName: 'Uncategorized', activityId: 99, activityName: label,
          severityId: severityFromLevel(get(rec, 'level', 'Level')), time, originalTime: original, uid, source: 'azure-other', feature: label,
          productName: 'Azure', logName: label, region: str(get(rec, 'location', 'Location')), correlationUid: correlationId, eventCode: op,
        },
        meta,
        r.raw,
        { message: op },
        unmappedOf(rec, ownTime || time === undefined ? CONSUMED : CONSUMED_PROPS_TIME),
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

/**
 * What the official Usermaven browser SDK (@usermaven/sdk-js 1.5.x) sends when its
 * `data-tracking-host` points at this relay, mapped onto the s2s wire format.
 *
 * Read from node_modules/@usermaven/sdk-js/dist/usermaven.es.js (createEventPayload and the
 * beacon/fetch/XHR transports): it POSTs `${trackingHost}/api/v1/event?token=${key}` with a JSON
 * array (`application/json`, a Blob for sendBeacon), each event carrying `utc_time` (ISO string)
 * instead of `_timestamp`, `api_key`, `event_id` and `user.anonymous_id` as 10-character base36
 * ids, `src: "usermaven"`, `namespace`, `local_tz_offset`; it keeps the anonymous id in the
 * cookie `__eventn_id_${key}`. Extra query parameters (`cookie_policy`, `ip_policy`) are
 * optional.
 */
import { instantOf } from '../shared/intake.ts';
import type { JsonObject } from './validate.ts';

/** `utc_time` → `_timestamp`; everything else passes through to the common validation. */
export function fromOfficial(event: JsonObject): JsonObject {
  const utc = event['utc_time'];
  if (typeof utc !== 'string' || event['_timestamp'] !== undefined) return event;
  const { utc_time: _dropped, ...rest } = event;
  const at = instantOf(utc);
  return at.ok ? { ...rest, _timestamp: at.ms } : rest;
}

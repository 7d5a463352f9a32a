/**
 * `/_events`: the page a new user opens to see their own events arrive. Plain HTML with a
 * small inline script that listens to the server-sent-events stream at `${path}/stream`
 * (EventSource reconnects by itself). The stream opens with a snapshot taken at the moment it
 * subscribes, so no event can fall between the snapshot and the live updates — as it could
 * when the page fetched `${path}/data` first and opened the stream afterwards. `${path}/data`
 * stays as the JSON view for scripts.
 */
import { RelayError } from './errors.ts';
import type { EventFeed, EventSummary } from './feed.ts';

/**
 * Bytes a stream may hold for a subscriber that does not read. Past it the subscriber is
 * dropped (its EventSource reconnects and starts again from a snapshot) rather than buffered
 * without bound: 200 idle readers grew the relay by ~190 MB/s under load before this.
 */
export const STREAM_BUFFER_BYTES = 256 * 1024;

export function eventsPage(path: string, mode: string): Response {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>umbeacon — live events</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #eee}
th{background:#fafafa}code{background:#f3f3f3;padding:0 .3rem}#counts span{margin-right:1rem}
tr.new{animation:flash 1.5s}@keyframes flash{from{background:#fff6c8}to{background:none}}
</style></head><body>
<h1>Live events</h1>
<p>Mode: <code>${escapeHtml(mode)}</code>. Newest first; updates as events arrive. Total: <b id="total">0</b></p>
<p id="counts"></p>
<table><thead><tr><th>Time</th><th>Type</th><th>User</th><th>Page</th></tr></thead><tbody id="rows"></tbody></table>
<script>
(function(){
var base=${JSON.stringify(path)},rows=document.getElementById('rows'),counts={},total=0;
function esc(s){return String(s).replace(/[&<>"]/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]})}
function row(e,fresh){var tr=document.createElement('tr');if(fresh)tr.className='new';
tr.innerHTML='<td>'+esc(new Date(e.at).toLocaleTimeString())+'</td><td>'+esc(e.type)+'</td><td>'+esc(e.user)+'</td><td>'+esc(e.page)+'</td>';return tr}
function paint(){document.getElementById('total').textContent=total;
document.getElementById('counts').innerHTML=Object.keys(counts).sort(function(a,b){return counts[b]-counts[a]}).map(function(k){return '<span>'+esc(k)+': <b>'+counts[k]+'</b></span>'}).join('')}
function add(e,fresh){rows.insertBefore(row(e,fresh),rows.firstChild)}
var es=new EventSource(base+'/stream');
es.addEventListener('snapshot',function(m){var d=JSON.parse(m.data);counts=d.counts;total=d.total;rows.textContent='';
d.recent.slice().reverse().forEach(function(e){add(e,false)});paint()});
es.onmessage=function(m){JSON.parse(m.data).forEach(function(e){add(e,true);counts[e.type]=(counts[e.type]||0)+1;total++});
while(rows.children.length>200)rows.removeChild(rows.lastChild);paint()}})();
</script></body></html>`;
  return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } });
}

function snapshot(feed: EventFeed): string {
  return JSON.stringify({ total: feed.total(), counts: feed.counts(), recent: feed.recent() });
}

export function eventsData(feed: EventFeed): Response {
  return new Response(snapshot(feed), {
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/**
 * A `text/event-stream`: first a `snapshot` event (what `/data` answers), taken in the same
 * tick as the subscription so nothing stored in between is missed, then one message per batch
 * of new summaries; a comment every 15 s keeps proxies from timing out.
 *
 * The stream is pulled by its reader (the runtime writing to the socket, with back-pressure):
 * what the reader has not taken yet queues here, counted in bytes, and a subscriber whose
 * queue passes `bufferBytes` is dropped: the stream errors, so the connection goes too. `HEAD` subscribes nothing (the router answers it with
 * headers only); when `maxSubscribers` already listen, 503 with `Retry-After`.
 */
export function eventsStream(feed: EventFeed, signal: AbortSignal, bufferBytes = STREAM_BUFFER_BYTES): Response {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let unsubscribe: (() => void) | null = null;
  let ping: ReturnType<typeof setInterval> | undefined;
  let done = false;
  /** Unsubscribe; with a reason the stream errors, so the runtime drops the connection too. */
  const finish = (reason?: string) => {
    if (done) return;
    done = true;
    unsubscribe?.();
    clearInterval(ping);
    try {
      if (reason) controller.error(new Error(reason));
      else controller.close();
    } catch {
      // already closed or errored
    }
  };
  const send = (text: string) => {
    if (done) return;
    // desiredSize is bufferBytes minus what the reader has not taken yet: below zero, the
    // subscriber has fallen a whole buffer behind.
    if ((controller.desiredSize ?? -1) < 0) return finish('the subscriber fell a whole buffer behind');
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      finish();
    }
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      cancel: () => finish(),
    },
    new ByteLengthQueuingStrategy({ highWaterMark: bufferBytes }),
  );
  // Subscribe and snapshot in one tick, so nothing stored in between is missed.
  unsubscribe = feed.subscribe((batch: EventSummary[]) => send(`data: ${JSON.stringify(batch)}\n\n`));
  if (!unsubscribe) throw new RelayError(503, 'too_many_streams', 'too many live event streams are open; retry later', { 'retry-after': '10' });
  controller.enqueue(encoder.encode(`event: snapshot\ndata: ${snapshot(feed)}\n\n`));
  ping = setInterval(() => send(': ping\n\n'), 15_000);
  signal.addEventListener('abort', () => finish());
  return new Response(stream, { headers: { ...STREAM_HEADERS } });
}

/** The stream's headers, also the whole answer to `HEAD`. */
export const STREAM_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' } as const;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

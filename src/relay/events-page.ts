/**
 * `/_events`: the page a new user opens to see their own events arrive. Plain HTML with a
 * small inline script that listens to the server-sent-events stream at `${path}/stream`
 * (EventSource reconnects by itself). The stream opens with a snapshot taken at the moment it
 * subscribes, so no event can fall between the snapshot and the live updates — as it could
 * when the page fetched `${path}/data` first and opened the stream afterwards. `${path}/data`
 * stays as the JSON view for scripts.
 */
import type { EventFeed, EventSummary } from './feed.ts';

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
 */
export function eventsStream(feed: EventFeed, signal: AbortSignal): Response {
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          cleanup();
        }
      };
      const unsubscribe = feed.subscribe((batch: EventSummary[]) => send(`data: ${JSON.stringify(batch)}\n\n`));
      const ping = setInterval(() => send(': ping\n\n'), 15_000);
      cleanup = () => {
        unsubscribe();
        clearInterval(ping);
      };
      signal.addEventListener('abort', () => {
        cleanup();
        try {
          controller.close();
        } catch {
          // already closed
        }
      });
      send(`event: snapshot\ndata: ${snapshot(feed)}\n\n`);
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
  });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

/**
 * Cross-domain linking (`data-domains="shop.example,app.example"`): a click on a link to
 * one of those hosts adds `_um=<visitor id>`, which u.js on the other site adopts when it has
 * no cookie yet (src/tracker/id.ts), so the journey stays one visitor. The official SDK does
 * the same with its cookie. Nothing is added in cookieless mode (there is no cookie).
 */
export const crossDomain = (domains: string[]) =>
  document.addEventListener('click', (ev) => {
    const a = (ev.target as Element).closest?.('a');
    const href = a?.getAttribute('href');
    const id = /(^|; )__eventn_id=([^;]+)/.exec(document.cookie)?.[2];
    if (!a || !href?.startsWith('http') || !id) return;
    const u = new URL(href);
    if (u.hostname != location.hostname && domains.includes(u.hostname)) {
      u.searchParams.append('_um', id);
      a.setAttribute('href', u + '');
    }
  });

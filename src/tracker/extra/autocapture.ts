import { NO_CAPTURE, looksSensitive, mayCapture } from './privacy.ts';

type Track = (type: string, attributes: Record<string, unknown>) => void;

const INTERACTIVE = 'a,button,form,input,select,textarea,label';
/** Inputs whose attributes other than name, id and class are never read (their value is one). */
const isField = (el: Element) =>
  (el.matches('input') && !/^(button|checkbox|submit|reset)$/.test((el as HTMLInputElement).type)) ||
  el.matches('select,textarea,[contenteditable=true]');

/** The element's own text (not its children's elements), as the official SDK takes it. */
const textOf = (el: Element) =>
  mayCapture(el) && !isField(el)
    ? [...el.childNodes]
        .filter((n) => n.nodeType == 3)
        .map((n) => n.textContent!.trim().split(/(\s+)/).filter((w) => !looksSensitive(w)).join(''))
        .join('')
        .replace(/[\r\n]/g, ' ')
        .replace(/ +/g, ' ')
        .trim()
        .slice(0, 255)
    : '';

/**
 * `$autocapture`: clicks, changes and submits on interactive elements, with the official
 * SDK's `autocapture_attributes` (`tag_name`, `classes`, `attr__*`, `el_text`, `attr__href`,
 * `event_type`) of the element the visitor acted on. Its privacy rules: nothing under
 * `um-no-capture` / `data-um-no-capture` / `ph-no-capture`; a field's value never (only its
 * name, id and class); no text of sensitive elements; card- and SSN-like values left out.
 */
export const autocapture = (track: Track, maskText: boolean, maskAttributes: boolean) => {
  const capture = (ev: Event) => {
    let t = (ev.composedPath?.()[0] || ev.target) as Element;
    if (t?.nodeType == 3) t = t.parentNode as Element;
    if (!t?.closest || t.closest(NO_CAPTURE) || t.matches('html')) return;
    const type = ev.type;
    const tag = t.tagName.toLowerCase();
    const ok =
      (type == 'click' && getComputedStyle(t).cursor == 'pointer') ||
      (tag == 'form'
        ? type == 'submit'
        : /^(input|select|textarea)$/.test(tag)
          ? type != 'submit'
          : type == 'click' && (!!t.parentElement?.closest(INTERACTIVE) || t.matches(INTERACTIVE) || t.getAttribute('contenteditable') == 'true'));
    if (!ok) return;
    const a: Record<string, unknown> = { tag_name: tag };
    const classes = (t.getAttribute('class') || '').split(' ').filter(Boolean);
    if (classes.length) a['classes'] = classes;
    if (!maskAttributes)
      for (const { name, value } of t.attributes)
        if ((!isField(t) || /^(name|id|class)$/.test(name)) && !looksSensitive(value) && !/^_ng/.test(name)) a['attr__' + name] = value;
    const link = t.closest('a');
    const href = link && mayCapture(link) && link.getAttribute('href');
    if (href && !looksSensitive(href)) a['attr__href'] = href;
    a['el_text'] = maskText ? '' : textOf(t);
    // Without anything that names the element, the event says nothing: the official SDK drops it.
    if (!(a['el_text'] || classes.length || Object.keys(a).some((k) => /^attr__(id|name|class|aria-label|aria-labelledby|label|href|data-.*)$/.test(k) && `${a[k]}`.trim())))
      return;
    a['event_type'] = type;
    track('$autocapture', a);
  };
  for (const type of ['click', 'change', 'submit']) document.addEventListener(type, capture);
};

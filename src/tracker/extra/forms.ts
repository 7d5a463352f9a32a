import { NO_CAPTURE, looksSensitive, mayCapture } from './privacy.ts';

type Track = (type: string, attributes: Record<string, unknown>) => void;

/** The element's data-* attributes as an object. */
const dataOf = (el: HTMLElement) => ({ ...el.dataset });

/**
 * `$form` on submit, with the official SDK's attributes: `form_id`, `form_name`,
 * `form_action`, `form_method`, `form_class`, `form_attributes` and `fields` (`tag`, `type`,
 * `data_attributes`, `id`, `value`, `class`, `name`, `attributes`); empty ones left out.
 * `tagged` tracks only `form[data-um-form]`. Its privacy rule is autocapture's (privacy.ts),
 * stricter than the official's: nothing under no-capture is listed, and the value of a field
 * the rule keeps out (password, hidden, card, CVC, expiry, IBAN, SSN: by type, autocomplete,
 * name or id) or that looks like a card number, an IBAN or an SSN is sent as "<redacted>".
 */
export const forms = (track: Track, tagged: boolean) =>
  document.addEventListener('submit', (ev) => {
    const form = ev.target as HTMLFormElement;
    if (!form.matches?.(tagged ? 'form[data-um-form]' : 'form') || form.closest(NO_CAPTURE)) return;
    const fields = [...form.querySelectorAll<HTMLInputElement>('input,select,textarea')]
      .filter((f) => !f.closest(NO_CAPTURE))
      .map((f) => ({
        tag: f.tagName.toLowerCase(),
        type: f instanceof HTMLInputElement ? f.type : undefined,
        data_attributes: Object.keys(f.dataset).length ? dataOf(f) : undefined,
        id: f.id,
        value: !mayCapture(f) || looksSensitive(f.value) ? '<redacted>' : f.value,
        class: f.className,
        name: f.name,
        attributes: dataOf(f),
      }));
    const a: Record<string, unknown> = {
      form_id: form.id,
      form_name: form.getAttribute('name') || '',
      form_action: form.action,
      form_method: form.method,
      form_class: form.className,
      form_attributes: dataOf(form),
      fields,
    };
    // "", {} and [] are written in two characters.
    for (const k in a) if (!JSON.stringify(a[k])[2]) delete a[k];
    track('$form', a);
  });

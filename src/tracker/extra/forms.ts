import { NO_CAPTURE, looksSensitive } from './privacy.ts';

type Track = (type: string, attributes: Record<string, unknown>) => void;

/** The element's data-* attributes as an object. */
const dataOf = (el: HTMLElement) => ({ ...el.dataset });

/**
 * `$form` on submit, with the official SDK's attributes: `form_id`, `form_name`,
 * `form_action`, `form_method`, `form_class`, `form_attributes` and `fields` (`tag`, `type`,
 * `data_attributes`, `id`, `value`, `class`, `name`, `attributes`); empty ones left out.
 * `tagged` tracks only `form[data-um-form]`. Its privacy rules, stricter than the official's:
 * a password or hidden input is never listed, nothing under no-capture is, and a card- or
 * SSN-like value is sent as "<redacted>".
 */
export const forms = (track: Track, tagged: boolean) =>
  document.addEventListener('submit', (ev) => {
    const form = ev.target as HTMLFormElement;
    if (!form.matches?.(tagged ? 'form[data-um-form]' : 'form') || form.closest(NO_CAPTURE)) return;
    const fields = [...form.querySelectorAll<HTMLInputElement>('input,select,textarea')]
      .filter((f) => !/^(hidden|password)$/i.test(f.type) && !f.closest(NO_CAPTURE))
      .map((f) => ({
        tag: f.tagName.toLowerCase(),
        type: f instanceof HTMLInputElement ? f.type : undefined,
        data_attributes: Object.keys(f.dataset).length ? dataOf(f) : undefined,
        id: f.id,
        value: looksSensitive(f.value) ? '<redacted>' : f.value,
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
    for (const k in a) if (a[k] === '' || (typeof a[k] == 'object' && !Object.keys(a[k] as object).length)) delete a[k];
    track('$form', a);
  });

type Track = (type: string, attributes: Record<string, unknown>) => void;

/**
 * `$rage_click`: three clicks or more within 2 s, each within 30 px of the one before, not
 * under `um-no-capture`; attributes `no_of_clicks` and `time` (seconds, "0.42"), as the
 * official SDK sends them.
 */
export const rageClicks = (track: Track) => {
  let clicks: { x: number; y: number; t: number }[] = [];
  document.addEventListener('click', (ev) => {
    if ((ev.target as Element).closest?.('.um-no-capture')) return;
    const t = Date.now();
    clicks = [...clicks, { x: ev.clientX, y: ev.clientY, t }].filter((c) => t - c.t < 2000);
    if (clicks.length >= 3 && clicks.every((c, i) => !i || Math.hypot(c.x - clicks[i - 1]!.x, c.y - clicks[i - 1]!.y) < 30)) {
      track('$rage_click', { no_of_clicks: clicks.length, time: ((t - clicks[0]!.t) / 1000).toFixed(2) });
      clicks = [];
    }
  });
};

import { areaAt, nearestStation } from '../geo/locate';
import { MinePlan } from '../geo/types';
import { MineData, Tag } from './frames';

/**
 * Freshness of a card's last fix:
 * - live: younger than staleAfter;
 * - stale: older, and the whole feed is old too, so the card is taken to be
 *   still underground (data stopped arriving);
 * - missing: older than missingAfter behind the mine's newest fix, so the
 *   card has come up or lost contact.
 */
export type FixState = 'live' | 'stale' | 'missing';

export interface Freshness {
  /** Seconds after which a fix is drawn as stale. */
  staleAfter: number;
  /** Seconds behind the mine's newest fix after which a card counts as missing. */
  missingAfter: number;
}

export const DEFAULT_FRESHNESS: Freshness = { staleAfter: 120, missingAfter: 900 };

export function fixState(t: Tag, newestFix: number, now: number, f: Freshness): FixState {
  if (Number.isNaN(t.fixTime)) {
    return 'stale';
  }
  if (newestFix - t.fixTime > f.missingAfter * 1000) {
    return 'missing';
  }
  return now - t.fixTime > f.staleAfter * 1000 ? 'stale' : 'live';
}

export interface RescueRow {
  card: string;
  areaCode: string;
  areaName: string;
  areaType: string;
  stationCode: string;
  stationName: string;
  x: number;
  y: number;
  z: number;
  source: string;
  /** ms since the epoch; NaN when unknown. */
  lastFix: number;
  /** Seconds from the last fix to now; NaN when unknown. */
  ageSeconds: number;
  /** Time underground now: at the last sample plus the time since. */
  undergroundSeconds?: number;
  state: FixState;
  sos: boolean;
}

/**
 * Lists everyone last seen underground, sorted by area name (cards in no
 * area last), then card. Missing cards are left out unless includeMissing.
 */
export function rescueRows(
  plan: MinePlan,
  data: MineData,
  now: number,
  f: Freshness = DEFAULT_FRESHNESS,
  includeMissing = false
): RescueRow[] {
  const rows: RescueRow[] = [];
  for (const t of data.people.values()) {
    const state = fixState(t, data.newestFix, now, f);
    if (state === 'missing' && !includeMissing) {
      continue;
    }
    const area = areaAt(plan, t.x, t.y, t.z);
    const station = nearestStation(plan, t.x, t.y, t.z);
    const age = Number.isNaN(t.fixTime) ? NaN : Math.max(0, (now - t.fixTime) / 1000);
    rows.push({
      card: t.id,
      areaCode: area?.code ?? '',
      areaName: area?.name ?? '',
      areaType: area?.type ?? '',
      stationCode: station?.code ?? '',
      stationName: station?.name ?? '',
      x: t.x,
      y: t.y,
      z: t.z,
      source: t.source ?? '',
      lastFix: t.fixTime,
      ageSeconds: age,
      undergroundSeconds:
        t.undergroundSeconds === undefined ? undefined : t.undergroundSeconds + (Number.isNaN(age) ? 0 : age),
      state,
      sos: t.sos,
    });
  }
  rows.sort((a, b) => {
    if (!a.areaCode !== !b.areaCode) {
      return a.areaCode ? -1 : 1;
    }
    return a.areaName.localeCompare(b.areaName) || a.areaCode.localeCompare(b.areaCode) || a.card.localeCompare(b.card);
  });
  return rows;
}

/** Formats seconds as "1 h 05 min", "12 min 03 s" or "42 s". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || Number.isNaN(seconds)) {
    return 'unknown';
  }
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) {
    return `${h} h ${String(m).padStart(2, '0')} min`;
  }
  if (m > 0) {
    return `${m} min ${String(sec).padStart(2, '0')} s`;
  }
  return `${sec} s`;
}

const CSV_COLUMNS = [
  'mine_id',
  'card',
  'area_code',
  'area_name',
  'area_type',
  'station_code',
  'station_name',
  'x_m',
  'y_m',
  'z_m',
  'source',
  'last_fix_utc',
  'last_fix_age_s',
  'underground_s',
  'fix_state',
  'sos',
];

/**
 * Quotes a CSV field (RFC 4180) and defuses text that a spreadsheet would
 * run as a formula.
 */
function csvField(v: string, text: boolean): string {
  let s = v;
  if (text && /^[=+\-@\t\r]/.test(s)) {
    s = `'${s}`;
  }
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function num(n: number | undefined, digits: number): string {
  return n === undefined || Number.isNaN(n) ? '' : n.toFixed(digits);
}

/** Returns the rescue list as CSV with a header line and CRLF line ends. */
export function rescueCSV(mineId: string, rows: RescueRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [
        csvField(mineId, true),
        csvField(r.card, true),
        csvField(r.areaCode, true),
        csvField(r.areaName, true),
        csvField(r.areaType, true),
        csvField(r.stationCode, true),
        csvField(r.stationName, true),
        num(r.x, 2),
        num(r.y, 2),
        num(r.z, 2),
        csvField(r.source, true),
        Number.isNaN(r.lastFix) ? '' : new Date(r.lastFix).toISOString(),
        num(r.ageSeconds, 0),
        num(r.undergroundSeconds, 0),
        r.state,
        r.sos ? '1' : '0',
      ].join(',')
    );
  }
  return lines.join('\r\n') + '\r\n';
}

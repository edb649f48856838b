/** Normalising what n8n parameters hold (strings, arrays, expressions' results) into API values. */

/** Several values from an array or a comma/semicolon/whitespace separated string (as the catalogue does). */
export function splitValues(value: unknown): string[] {
	if (value === undefined || value === null || value === '') return [];
	const parts = Array.isArray(value) ? value.flatMap((v) => splitValues(v)) : String(value).split(/[\s,;]+/);
	return parts.map((v) => String(v).trim()).filter((v) => v !== '');
}

/**
 * Several texts (alt texts, thread items), which hold spaces and commas: an array as it is, a string one
 * text per line. With `keepPlaces`, empty texts keep their place (an alt text left out for one media item).
 */
export function textLines(value: unknown, keepPlaces = false): string[] {
	if (value === undefined || value === null || value === '') return [];
	const items = Array.isArray(value)
		? value.map((v) => (v === undefined || v === null ? '' : String(v)))
		: String(value).split(/\r?\n/);
	const out = items.map((v) => v.trim());
	if (!keepPlaces) return out.filter((v) => v !== '');
	while (out.length > 0 && out[out.length - 1] === '') out.pop();
	return out;
}

/** The Per-Platform Captions collection ({captions: [{platform, caption}]}) as the API's per-platform versions. */
export function platformVersions(value: unknown): Record<string, { caption: string }> {
	const versions: Record<string, { caption: string }> = {};
	const rows = (value as { captions?: unknown } | null | undefined)?.captions;
	if (!Array.isArray(rows)) return versions;
	for (const row of rows as Array<{ platform?: unknown; caption?: unknown }>) {
		const platform = String(row?.platform ?? '').trim().toLowerCase();
		const caption = row?.caption === undefined || row?.caption === null ? '' : String(row.caption);
		if (platform && caption.trim()) versions[platform] = { caption };
	}
	return versions;
}

const OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;

/** The offset (ms) of `timeZone` from UTC at the instant `utcMs`. */
function zoneOffset(timeZone: string, utcMs: number): number {
	const parts = new Intl.DateTimeFormat('en-US', {
		timeZone,
		hourCycle: 'h23',
		year: 'numeric',
		month: '2-digit',
		day: '2-digit',
		hour: '2-digit',
		minute: '2-digit',
		second: '2-digit',
	}).formatToParts(new Date(utcMs));
	const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
	const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
	return asUtc - Math.floor(utcMs / 1000) * 1000;
}

function iso(ms: number): string {
	return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * A schedule time for the API, which refuses times without an offset: values with an offset pass
 * unchanged, wall-clock values (what n8n's date picker gives) are read in the workflow's time zone.
 * Returns undefined for empty input; throws Error for text that is not a date.
 */
export function scheduleTime(value: unknown, timeZone: string): string | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	if (value instanceof Date) return iso(value.getTime());
	const maybeLuxon = value as { toISO?: () => string };
	if (typeof maybeLuxon.toISO === 'function') return maybeLuxon.toISO();
	const text = String(value).trim();
	if (text === '') return undefined;
	if (OFFSET.test(text)) {
		if (Number.isNaN(Date.parse(text))) throw new Error(`"${text}" is not a date and time`);
		return text;
	}
	const m = LOCAL.exec(text);
	if (!m) throw new Error(`"${text}" is not a date and time (expected e.g. 2030-04-01T09:00:00Z)`);
	const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0));
	const millis = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
	const wall = Date.UTC(year, month - 1, day, hour, minute, second, millis);
	// Two passes settle the offset on either side of a daylight-saving change.
	let utc = wall - zoneOffset(timeZone, wall);
	utc = wall - zoneOffset(timeZone, utc);
	return iso(utc);
}

'use strict';
// Zapier hands inputs over as strings or lists of strings; normalise them once, the way the
// Python catalogue's split_values does.

/** Several values from a list or a comma/semicolon/space separated string. */
const splitValues = (value) => {
  if (value === undefined || value === null || value === '') return [];
  const items = Array.isArray(value) ? value : [value];
  return items
    .flatMap((item) => String(item).split(/[\s,;]+/))
    .map((s) => s.trim())
    .filter(Boolean);
};

/** A trimmed string, or undefined when empty. */
const text = (value) => {
  if (value === undefined || value === null) return undefined;
  const s = String(value).trim();
  return s ? s : undefined;
};

// same list as postdodo_connect.client.resources.VIDEO_SUFFIXES
const VIDEO = /\.(mp4|mov|m4v|webm|avi|mkv)$/i;

/** A media URL as the API's `{type, url}`; the path's suffix decides image or video. */
const mediaItem = (url) => ({ type: VIDEO.test(url.split(/[?#]/)[0]) ? 'video' : 'image', url });

/**
 * Several texts (alt texts, thread items), which hold spaces and commas: a list as it is, a string one
 * text per line. With `keepPlaces`, empty texts keep their place (an alt text left out for one media item).
 */
const lines = (value, keepPlaces = false) => {
  if (value === undefined || value === null || value === '') return [];
  const items = Array.isArray(value) ? value.map((v) => (v == null ? '' : String(v))) : String(value).split(/\r?\n/);
  const out = items.map((s) => s.trim());
  if (!keepPlaces) return out.filter(Boolean);
  while (out.length && !out[out.length - 1]) out.pop();
  return out;
};

/** Zapier's key/value field of per-platform captions as the API's per-platform versions (blank ones left out). */
const platformVersions = (value) => {
  const versions = {};
  if (!value || typeof value !== 'object') return versions;
  for (const [name, caption] of Object.entries(value)) {
    const platform = String(name).trim().toLowerCase();
    if (platform && caption != null && String(caption).trim()) versions[platform] = { caption: String(caption) };
  }
  return versions;
};

module.exports = { VIDEO, lines, mediaItem, platformVersions, splitValues, text };

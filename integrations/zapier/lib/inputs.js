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

module.exports = { VIDEO, mediaItem, splitValues, text };

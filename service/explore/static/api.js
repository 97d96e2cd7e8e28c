// The public API, as the page calls it: URLs under the page's path prefix,
// every page of a list, 429s waited out, and the curl line a person can copy.

const ROOT = document.querySelector('meta[name="api-root"]').content;
// Each list request asks for the largest page the API serves.
const PAGE = 1000;
// Bounds, so that no loop of the page runs away: pages of one list, retries after a 429.
const MAX_PAGES = 60;
const MAX_RETRIES = 3;
const MAX_WAIT_S = 30;

/** The path of an asset shipped with the page. */
export function asset(path) {
  return `${ROOT}/explore/assets/${path}`;
}

/** The URL (relative to this host) of an API path with its query parameters. */
export function apiUrl(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const one of [].concat(value)) {
      if (one !== undefined && one !== null && one !== "") query.append(name, String(one));
    }
  }
  const text = query.toString();
  return `${ROOT}${path}${text ? "?" + text : ""}`;
}

/** The same URL, absolute: what a link shows and curl needs. */
export function absolute(url) {
  return new URL(url, window.location.href).href;
}

/** A shell line fetching ``url`` (single-quoted, as the README writes them). */
export function curlLine(url) {
  return `curl '${absolute(url).replaceAll("'", "'\\''")}'`;
}

/** ``url`` asking for the API's CSV representation of the same rows. */
export function csvUrl(url) {
  const parsed = new URL(url, window.location.href);
  parsed.searchParams.delete("limit");
  parsed.searchParams.delete("cursor");
  parsed.searchParams.set("format", "csv");
  return parsed.pathname + parsed.search;
}

/** The JSON at ``url``; waits out a 429 (its Retry-After) a few times; throws the problem's detail. */
export async function getJson(url) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (response.status === 429 && attempt < MAX_RETRIES) {
      const wait = Math.min(Number(response.headers.get("Retry-After")) || 1, MAX_WAIT_S);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      continue;
    }
    const body = await response.json();
    if (!response.ok) throw new Error(body.detail || body.title || `HTTP ${response.status}`);
    return body;
  }
}

/** Every row of a list: its pages followed by ``next_cursor`` (at most MAX_PAGES). */
export async function getAll(path, params = {}) {
  const rows = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await getJson(apiUrl(path, { ...params, limit: PAGE, cursor }));
    rows.push(...body.data);
    cursor = body.next_cursor;
    if (!cursor) return rows;
  }
  throw new Error(`more than ${MAX_PAGES * PAGE} rows from ${path}: narrow the request`);
}

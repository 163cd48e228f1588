// What every client setup shares: the gateway's URL, the operations of queries/ with the
// variables the Python tests run them with, and a fetch that records what goes on the wire.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPOSITORY = join(here, '..', '..');

/** GATEWAY_URL, e.g. http://127.0.0.1:8000/graphql: every setup runs against a live gateway. */
export function gatewayUrl() {
  const url = process.env.GATEWAY_URL;
  if (!url) {
    throw new Error('GATEWAY_URL is not set (e.g. GATEWAY_URL=http://127.0.0.1:8000/graphql)');
  }
  return url;
}

/** Every type that implements Node: what a normalizing cache must key by `id`. */
export const ENTITY_TYPES = new Set([
  'User',
  'Course',
  'CourseItem',
  'CourseEnrollment',
  'Category',
  'Organization',
  'Group',
]);

/** Variables per operation, as tests/test_queries.py runs them (the files' defaults). */
export const VARIABLES = {
  CatalogPage: { first: 5 },
  CourseAttentionNeeded: { courseRemoteId: '101' },
  CourseOutline: { courseRemoteId: '101' },
  CourseRoster: { courseRemoteId: '101' },
  EnrollmentDetail: { remoteId: '8:104' },
  LearnerDashboard: {},
  LearnerDashboardDeferred: {},
  LearnerDashboardFragments: {},
  LearnerTranscript: { userRemoteId: '8' },
  UsersUpdatedSince: { since: '2000-01-01T00:00:00Z' },
};

/** The operations of queries/: [{file, name, text}], one per query (a file's fragments stay in
 * its text). */
export function queryFiles() {
  const directory = join(REPOSITORY, 'queries');
  return readdirSync(directory)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(directory, file), 'utf8');
      const names = [...text.matchAll(/^query\s+(\w+)/gm)].map((match) => match[1]);
      if (names.length !== 1) throw new Error(`${file}: expected one query, found ${names}`);
      const name = names[0];
      if (!(name in VARIABLES)) throw new Error(`${file}: no variables listed for ${name}`);
      return { file, name, text };
    });
}

/** The JSON body of an answer, or for an answer in parts (`multipart/mixed`, @defer in the
 * `deferSpec=20220824` format) the one answer its parts make together. */
function answerOf(contentType, text) {
  if (!contentType.startsWith('multipart/mixed')) return JSON.parse(text);
  const parts = text
    .split('\r\n---')
    .map((chunk) => chunk.slice(chunk.indexOf('\r\n\r\n') + 4).trim())
    .filter((body) => body.startsWith('{'))
    .map((body) => JSON.parse(body));
  const [first, ...rest] = parts;
  const answer = { data: first.data };
  const errors = [...(first.errors ?? [])];
  for (const part of rest) {
    for (const { data, path, errors: partErrors } of part.incremental ?? []) {
      errors.push(...(partErrors ?? []));
      const target = path.reduce((object, key) => object[key], answer.data);
      Object.assign(target, data ?? {});
    }
  }
  if (errors.length) answer.errors = errors;
  return answer;
}

/** A fetch that keeps every request body and response body it sees, in order. */
export function recordingFetch() {
  const exchanges = [];
  async function recorded(input, init = {}) {
    const response = await fetch(input, init);
    const copy = response.clone();
    const url = new URL(typeof input === 'string' ? input : input.url);
    exchanges.push({
      method: init.method ?? 'GET',
      url,
      request: init.body ? JSON.parse(init.body) : null,
      status: response.status,
      response: answerOf(copy.headers.get('content-type') ?? '', await copy.text()),
    });
    return response;
  }
  recorded.exchanges = exchanges;
  return recorded;
}

/** Calls `visit(object, path)` for every object in a JSON value, depth first. */
export function walk(value, visit, path = []) {
  if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, visit, [...path, index]));
  } else if (value !== null && typeof value === 'object') {
    visit(value, path);
    for (const [key, child] of Object.entries(value)) walk(child, visit, [...path, key]);
  }
}

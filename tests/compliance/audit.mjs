// Runs every graphql-http server audit (the GraphQL-over-HTTP spec's MUST, SHOULD and MAY
// requirements) against a GraphQL endpoint and prints the results as JSON on stdout:
//
//   node audit.mjs http://127.0.0.1:8000/graphql [--header 'Authorization: Bearer …']…
//
// Each result: {id, name, requirement: MUST|SHOULD|MAY, status: ok|fail, reason}.
// Exit status: 0 when every MUST audit passes, 1 when one fails, 2 on a usage error.
import { serverAudits } from 'graphql-http';

function usage(message) {
  process.stderr.write(`${message}\nusage: node audit.mjs URL [--header 'Name: value']...\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let url;
const headers = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--header') {
    const header = args[++i];
    const colon = header ? header.indexOf(':') : -1;
    if (colon <= 0) usage(`not a header: ${header}`);
    headers.push([header.slice(0, colon).trim(), header.slice(colon + 1).trim()]);
  } else if (url === undefined) {
    url = args[i];
  } else {
    usage(`unexpected argument: ${args[i]}`);
  }
}
if (!url) usage('the GraphQL endpoint URL is required');

// Extra headers (a gateway API key, an account) go on every audit request.
async function fetchWithHeaders(input, init = {}) {
  const merged = new Headers(init.headers);
  for (const [name, value] of headers) merged.set(name, value);
  return fetch(input, { ...init, headers: merged });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: fetchWithHeaders })) {
  const requirement = audit.name.split(' ', 1)[0];
  let status = 'ok';
  let reason = null;
  try {
    const result = await audit.fn();
    if (result.status !== 'ok') {
      status = 'fail';
      reason = result.reason;
    }
  } catch (error) {
    // An audit throws only when it cannot run at all (the server is unreachable, say).
    status = 'fail';
    reason = `the audit could not run: ${error instanceof Error ? error.message : error}`;
  }
  results.push({ id: audit.id, name: audit.name, requirement, status, reason });
}

process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
process.exitCode = results.some((r) => r.requirement === 'MUST' && r.status !== 'ok') ? 1 : 0;

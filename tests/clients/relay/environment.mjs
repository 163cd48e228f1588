// A Relay environment for the gateway: the setup docs/clients.md shows, as relay.test.mjs
// runs it. No getDataID: Relay's default keys records by `id`, and the gateway's ids are
// unique across types (User 23 and Category 23 have different ids), so nothing more is needed.
import { Environment, Network, RecordSource, Store } from 'relay-runtime';

export function createNetwork(url, { fetch = globalThis.fetch, headers = {} } = {}) {
  return Network.create(async (params, variables) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
      body: JSON.stringify({ query: params.text, variables, operationName: params.name }),
    });
    return response.json();
  });
}

export function createEnvironment(url, options = {}) {
  return new Environment({
    network: createNetwork(url, options),
    store: new Store(new RecordSource()),
  });
}

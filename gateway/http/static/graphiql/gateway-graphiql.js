// Starts GraphiQL on the gateway's /graphql page. Loaded after React, ReactDOM, GraphiQL and
// the explorer plugin (all served by the gateway); the page allows no inline script.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("graphiql-config").textContent);

  // Comment lines short enough for the editor's default width.
  var welcome = [
    "# LMS gateway: Users, Courses, CourseItems,",
    "# CourseEnrollments.",
    "#",
    "# Run with Ctrl-Enter or the run button. The",
    "# Docs and Explorer (left) browse the schema.",
  ];
  if (config.requiresKey) {
    welcome.push(
      "#",
      "# This gateway needs an API key: write it in",
      "# the Headers tab below after \"Bearer \", add",
      '#   "X-LMS-Account": "<account id>"',
      "# if the key may use several accounts, then",
      "# re-fetch the schema (Shift-Ctrl-R).",
      "# The key is forgotten on reload unless you",
      '# turn on "Persist headers" in the settings.',
    );
  }
  // Demo mode: other accounts are reached with the X-LMS-Account header.
  (config.accounts || []).forEach(function (account) {
    welcome.push(
      "#",
      '# Account "' + account.id + '" is a ' + account.description,
      "# school. To query it, write in the Headers",
      "# tab below",
      '#   {"X-LMS-Account": "' + account.id + '"}',
    );
  });
  var defaultQuery =
    welcome.join("\n") + "\n\n{\n  users(first: 5) {\n    totalCount\n    nodes { id name role }\n  }\n}\n";

  // The page's own URL without its query string: /graphql, wherever the gateway is mounted.
  var fetcher = GraphiQL.createFetcher({ url: window.location.href.split(/[?#]/)[0] });

  // GraphiQL 3 writes each run's headers into its history in localStorage even when headers
  // are not to be persisted, and a gateway API key must not be left there. This storage
  // drops headers from everything GraphiQL saves unless the user turned on "Persist headers".
  var NAMESPACE = "graphiql:";
  var SCRUBBED = [NAMESPACE + "queries", NAMESPACE + "favorites", NAMESPACE + "tabState"];

  function withoutHeaders(value) {
    if (Array.isArray(value)) {
      return value.map(withoutHeaders);
    }
    if (value && typeof value === "object") {
      var copy = {};
      Object.keys(value).forEach(function (key) {
        if (key !== "headers") {
          copy[key] = withoutHeaders(value[key]);
        }
      });
      return copy;
    }
    return value;
  }

  function namespaced() {
    return Object.keys(localStorage).filter(function (key) {
      return key.indexOf(NAMESPACE) === 0;
    });
  }

  var storage = {
    getItem: function (key) {
      return localStorage.getItem(key);
    },
    setItem: function (key, value) {
      var persist = localStorage.getItem(NAMESPACE + "shouldPersistHeaders") === "true";
      if (!persist && SCRUBBED.indexOf(key) >= 0) {
        try {
          value = JSON.stringify(withoutHeaders(JSON.parse(value)));
        } catch (notJson) {
          return; // never store what could not be checked
        }
      }
      localStorage.setItem(key, value);
    },
    removeItem: function (key) {
      localStorage.removeItem(key);
    },
    clear: function () {
      namespaced().forEach(function (key) {
        localStorage.removeItem(key);
      });
    },
    get length() {
      return namespaced().length;
    },
  };

  var props = {
    fetcher: fetcher,
    storage: storage,
    plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    defaultQuery: defaultQuery,
    defaultEditorToolsVisibility: config.requiresKey ? "headers" : true,
    isHeadersEditorEnabled: true,
    // shouldPersistHeaders stays unset: GraphiQL then keeps headers (an API key) in memory
    // only, unless the user turns on "Persist headers", a choice it remembers.
    inputValueDeprecation: true,
  };
  if (config.requiresKey) {
    props.defaultHeaders = '{\n  "Authorization": "Bearer "\n}';
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, props),
  );
})();

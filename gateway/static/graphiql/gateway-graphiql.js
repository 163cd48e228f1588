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
  var defaultQuery =
    welcome.join("\n") + "\n\n{\n  users(first: 5) {\n    totalCount\n    nodes { id name role }\n  }\n}\n";

  // The page's own URL without its query string: /graphql, wherever the gateway is mounted.
  var fetcher = GraphiQL.createFetcher({ url: window.location.href.split(/[?#]/)[0] });

  var props = {
    fetcher: fetcher,
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

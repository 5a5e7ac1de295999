// The page starter, bundled as livecells.js: the JS API (index.ts), and the page started as
// the module loads.

import { main } from "./main";

export * from "./index";

main();

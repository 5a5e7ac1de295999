import assert from "node:assert/strict";
import { test } from "node:test";

import { bokehErrorText, checkEmbed, cleanDocs, isBokehBanner, modelNames, parseBokehScript, scriptModels, versionNote } from "../src/bokeh";

const DOCS = { d1: { version: "3.9.2", title: "", roots: [{ type: "object", name: "Figure", id: "p1008", attributes: { renderers: [{ type: "object", name: "GlyphRenderer", id: "p1" }] } }] } };
const ITEMS = [{ docid: "d1", roots: { p1008: "bbfb0b5f-b42c-4889-adb2-8082dea2b7f8" }, root_ids: ["p1008"] }];

/** The script bokeh 3.9.2's show(p) writes (doc_nb_js.js.jinja in try_run.js.jinja), exactly. */
function script(docs: string = JSON.stringify(DOCS), items: string = JSON.stringify(ITEMS), call = "void root.Bokeh.embed.embed_items_notebook(docs_json, render_items);"): string {
  return `(function(root) {
  function embed_document(root) {
  const docs_json = ${docs};
  const render_items = ${items};
  ${call}
  }
  if (root.Bokeh !== undefined) {
    embed_document(root);
  } else {
    let attempts = 0;
    const timer = setInterval(function(root) {
      if (root.Bokeh !== undefined) {
        clearInterval(timer);
        embed_document(root);
      } else {
        attempts++;
        if (attempts > 100) {
          clearInterval(timer);
          console.log("Bokeh: ERROR: Unable to run BokehJS code because BokehJS library is missing");
        }
      }
    }, 10, root)
  }
})(window);`;
}

test("show()'s script yields its documents and render items as data", () => {
  assert.deepEqual(parseBokehScript(script()), { docsJson: DOCS, renderItems: [{ docid: "d1", root_ids: ["p1008"] }], version: "3.9.2" });
  // bokeh.embed.components' form (embed_items) and older templates' `var`s read the same.
  const older = script(JSON.stringify(DOCS), JSON.stringify(ITEMS), "root.Bokeh.embed.embed_items(docs_json, render_items);").replace("const docs_json", "var docs_json");
  assert.deepEqual(parseBokehScript(older), parseBokehScript(script()));
  // JSON holding `;`, newlines escaped, and the template's own words is still just data.
  const tricky = { d1: { ...DOCS.d1, title: '";\n  const render_items = [];\n})(window);' } };
  assert.deepEqual(parseBokehScript(script(JSON.stringify(tricky))), { docsJson: tricky, renderItems: [{ docid: "d1", root_ids: ["p1008"] }], version: "3.9.2" });
});

test("a script of any other shape is refused with one reason, never run", () => {
  assert.deepEqual(parseBokehScript(script("alert(1)")), { problem: "its `docs_json` is not JSON data" });
  assert.deepEqual(parseBokehScript(script(JSON.stringify(DOCS), "(() => { alert(1); return []; })()")), { problem: "its `render_items` is not JSON data" });
  const shape = { problem: "it is not the script Bokeh's show() writes" };
  assert.deepEqual(parseBokehScript("alert(1)"), shape);
  assert.deepEqual(parseBokehScript(script(undefined, undefined, "alert(document.cookie);")), shape);
  assert.deepEqual(parseBokehScript(script().replace("embed_document(root);\n  } else {", "embed_document(root); fetch('//evil');\n  } else {")), shape);
  assert.deepEqual(parseBokehScript(script() + "\nalert(1);"), shape);
  assert.deepEqual(parseBokehScript(script().replace("const docs_json =", "window.x =")), { problem: "its `docs_json` declaration is missing" });
});

test("documents and render items must have the shape BokehJS embeds", () => {
  assert.deepEqual(checkEmbed([], ITEMS), { problem: "its `docs_json` is not an object of documents" });
  assert.deepEqual(checkEmbed({ d1: 3 }, ITEMS), { problem: "its `docs_json` is not an object of documents" });
  assert.deepEqual(checkEmbed({ d1: { roots: {} } }, ITEMS), { problem: "a document in `docs_json` has no list of `roots`" });
  assert.deepEqual(checkEmbed(DOCS, []), { problem: "its `render_items` is not a list of items" });
  assert.deepEqual(checkEmbed(DOCS, ["x"]), { problem: "an item of `render_items` is not an object" });
  assert.deepEqual(checkEmbed(DOCS, [{ token: "t", roots: { p1: "e" } }]), { problem: "it is a Bokeh server session, which needs its Bokeh server" });
  assert.deepEqual(checkEmbed(DOCS, [{ docid: "other", root_ids: ["p1"] }]), { problem: "an item of `render_items` names no document of `docs_json`" });
  assert.deepEqual(checkEmbed(DOCS, [{ docid: "d1" }]), { problem: "an item of `render_items` names no roots" });
  assert.deepEqual(checkEmbed(DOCS, [{ docid: "d1", root_ids: [7] }]), { problem: "an item of `render_items` names no roots" });
  // Without root_ids, the roots' keys name them; no version is "".
  assert.deepEqual(checkEmbed({ d1: { roots: [] } }, [{ docid: "d1", roots: { p2: "e" } }]), { docsJson: { d1: { roots: [] } }, renderItems: [{ docid: "d1", root_ids: ["p2"] }], version: "" });
});

test("the models a document uses are found at any depth", () => {
  assert.deepEqual([...modelNames(DOCS)].sort(), ["Figure", "GlyphRenderer"]);
  assert.deepEqual([...modelNames({ a: [{ type: "map", entries: [[{ type: "object", name: "Slider" }, 1]] }, { type: "object", name: 3 }] })], ["Slider"]);
});

test("the models that carry the kernel's JavaScript are named", () => {
  const names = ["Figure", "CustomJS", "CustomJSHover", "CanvasTexture", "OpenURL", "CustomLabelingPolicy", "CustomJSTickFormatter", "Slider", "NotCustomJS"];
  assert.deepEqual(scriptModels(names), ["CanvasTexture", "CustomJS", "CustomJSHover", "CustomJSTickFormatter", "CustomLabelingPolicy", "OpenURL"]);
  assert.deepEqual(scriptModels(modelNames(DOCS)), []);
});

test("the attributes BokehJS renders as HTML are cleaned, other text is not", () => {
  const docs = {
    d1: {
      roots: [
        { type: "object", name: "Div", id: "a", attributes: { text: "<img onerror=x>" } },
        { type: "object", name: "HTML", id: "b", attributes: { html: ["<b>1</b>", { id: "c" }] } },
        { type: "object", name: "HoverTool", id: "d", attributes: { tooltips: [["x", "<i>$x</i>"]] } },
        { type: "object", name: "HoverTool", id: "e", attributes: { tooltips: "<i>@x</i>" } },
        { type: "object", name: "Title", id: "f", attributes: { text: "<not html>" } },
        { type: "object", name: "HelpTool", id: "g", attributes: { redirect: "https://docs.bokeh.org/" } },
      ],
    },
  };
  const clean = (html: string) => `clean(${html})`;
  assert.equal(cleanDocs(docs, clean), null);
  const attributes = docs.d1.roots.map((root) => root.attributes);
  assert.deepEqual(attributes, [
    { text: "clean(<img onerror=x>)" },
    { html: ["clean(<b>1</b>)", { id: "c" }] },
    { tooltips: [["x", "<i>$x</i>"]] },
    { tooltips: "clean(<i>@x</i>)" },
    { text: "<not html>" },
    { redirect: "https://docs.bokeh.org/" },
  ]);
  const help = { roots: [{ type: "object", name: "HelpTool", attributes: { redirect: "javascript:alert(1)" } }] };
  assert.equal(cleanDocs(help, clean), "its HelpTool opens a URL that is not http(s)");
});

test("output_notebook()'s banner is known by its logo and loading line", () => {
  const banner = '<style>.bk-notebook-logo {}</style><div><a href="https://bokeh.org" target="_blank" class="bk-notebook-logo"></a>\n<span id="a98bcfe9-397f-474c-8b8a-f721b79e51a8">Loading BokehJS ...</span></div>';
  assert.equal(isBokehBanner(banner), true);
  assert.equal(isBokehBanner("<span>Loading BokehJS ...</span>"), false);
  assert.equal(isBokehBanner('<a class="bk-notebook-logo"></a><span id="x">BokehJS 3.9.2 successfully loaded.</span>'), false);
});

test("errors are one line; another Bokeh version is said once", () => {
  assert.equal(bokehErrorText("Model 'Nope' does not exist.\n  at resolve"), "Could not draw this Bokeh plot: Model 'Nope' does not exist.");
  assert.equal(bokehErrorText("x".repeat(300)).length, "Could not draw this Bokeh plot: ".length + 200);
  assert.equal(versionNote("3.9.2", "3.9.2"), null);
  assert.equal(versionNote("", "3.9.2"), null);
  assert.equal(versionNote("3.8.0", "3.9.2"), "This plot was made by Bokeh 3.8.0 and is drawn by BokehJS 3.9.2.");
});
